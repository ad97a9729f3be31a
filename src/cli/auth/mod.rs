//! `whisk auth login|status|logout`: a person's one-time sign-in for `authorization_code`
//! profiles, and a look at (or removal of) the tokens in the token store.

mod device;
mod login;
mod logout;
mod status;

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Exit;
use crate::diagnostic::{CommandKind, Console, Diagnostic, Kind};

#[derive(Subcommand, Debug)]
pub enum AuthCommand {
    /// Sign in once for an `authorization_code` profile and store its tokens.
    #[command(
        after_help = "Examples:\n  whisk auth login recipes/ibm/get-user-identity.yaml ibm --open\n  whisk auth login recipe.yaml api --paste --env-file .env\n\nThe authorize URL (with PKCE and state) is printed on stdout. With a loopback\n`http` redirect URI whisk receives the redirect itself; otherwise, or with\n--paste, paste the address the browser was sent to (or just the code) on stdin."
    )]
    Login(LoginArgs),
    /// Show what the token store holds, never a token.
    #[command(
        after_help = "Examples:\n  whisk auth status\n  whisk auth status recipes/ibm/get-user-identity.yaml"
    )]
    Status(StatusArgs),
    /// Remove stored tokens.
    #[command(after_help = "Examples:\n  whisk auth logout recipes/ibm/get-user-identity.yaml ibm")]
    Logout(LogoutArgs),
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The recipe file.
    pub recipe: PathBuf,
    /// The auth profile to sign in for.
    pub profile: String,
    #[command(flatten)]
    pub given: super::inputs::InputArgs,
    /// Also open the authorize URL in a browser (`xdg-open` or `open`).
    #[arg(long)]
    pub open: bool,
    /// Do not listen on the redirect URI: read the redirected URL (or the code) from stdin.
    #[arg(long, alias = "no-listen", conflicts_with = "device")]
    pub paste: bool,
    /// Sign in on another device (RFC 8628): print an address and a code to enter there, and
    /// wait; for machines without a browser. Needs the profile's `device_authorization_url`.
    #[arg(long)]
    pub device: bool,
    /// How long to wait for the redirect (or, with `--device`, the approval).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Show the profiles of this recipe; without it, every key in the store.
    pub recipe: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// The recipe file.
    pub recipe: PathBuf,
    /// The profile whose tokens to remove; without it, every profile of the recipe with `store:`.
    pub profile: Option<String>,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::recipe::Duration::parse(text).map(|d| d.0)
}

pub async fn auth(command: AuthCommand, console: &Console, token_store: Option<PathBuf>) -> Exit {
    let store = match super::token_store(token_store, console) {
        Ok(store) => store,
        Err(exit) => return exit,
    };
    let Some(store) = store else {
        console.problem(
            problem("no token store directory is known")
                .help("pass `--token-store DIR` or set `WHISK_TOKEN_STORE`"),
        );
        return Exit::Invalid;
    };
    match command {
        AuthCommand::Login(args) => login::login(&args, console, &store).await,
        AuthCommand::Status(args) => status::status(&args, console, &store).await,
        AuthCommand::Logout(args) => logout::logout(&args, console, &store).await,
    }
}

/// A problem of `whisk auth` or of the token store.
fn problem(message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Kind::Command(CommandKind::Auth), message)
}

/// The `store:` profiles of a recipe and every recipe it uses: (profile, key, grant), in order,
/// each key once.
fn stored_profiles(plan: &crate::plan::Plan) -> Vec<(String, String, crate::recipe::Grant)> {
    let mut found: Vec<(String, String, crate::recipe::Grant)> = Vec::new();
    for recipe in &plan.recipes {
        for (name, profile) in &recipe.auth {
            if let crate::plan::AuthKind::OAuth2(oauth2) = &profile.kind
                && let Some(key) = &oauth2.store
                && !found.iter().any(|(_, k, _)| k == key)
            {
                found.push((name.clone(), key.clone(), oauth2.grant));
            }
        }
    }
    found
}
