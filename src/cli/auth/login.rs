//! `whisk auth login RECIPE PROFILE`: print (and maybe open) the authorize URL with PKCE and
//! state, receive the redirect on the loopback redirect URI or from stdin, check the state,
//! exchange the code and store the tokens under the profile's key.

use std::io::Write;
use std::time::Duration;

use super::super::Exit;
use super::{LoginArgs, problem};
use crate::diagnostic::Console;
use crate::exec::auth::login::{self, LoginTarget};
use crate::login::{AuthorizeRequest, Receiver, Redirect};
use crate::plan::bind;
use crate::redact::Redactor;
use crate::store::TokenStore;

pub async fn login(args: &LoginArgs, console: &Console, store: &TokenStore) -> Exit {
    let plan = match crate::plan::load_and_build(&args.recipe) {
        Ok(plan) => plan,
        Err(problems) => {
            console.problems(&problems);
            return Exit::Invalid;
        }
    };
    let redactor = plan.redactor.clone();
    let console = console.masking(&redactor);
    let bound = match args
        .given
        .provided(&plan.root.inputs)
        .and_then(|provided| bind::bind(&plan, &provided))
    {
        Ok(bound) => bound,
        Err(problems) => {
            console.problems(&problems);
            return Exit::Invalid;
        }
    };
    let device_grant = plan.root.auth.get(&args.profile).is_some_and(|p| {
        matches!(&p.kind, crate::plan::AuthKind::OAuth2(o) if o.grant == crate::recipe::Grant::DeviceCode)
    });
    if args.device || device_grant {
        return super::device::login(args, &console, store, &plan, &bound).await;
    }
    let target = match login::target(&plan, &bound, &args.profile) {
        Ok(target) => target,
        Err(error) => return fail(&console, &error.message, Exit::Invalid),
    };
    let (state, verifier) = match (
        crate::login::random_token(),
        target.pkce.then(crate::login::random_token).transpose(),
    ) {
        (Ok(state), Ok(verifier)) => (state, verifier),
        (Err(message), _) | (_, Err(message)) => return fail(&console, &message, Exit::Failed),
    };
    if let Some(verifier) = &verifier {
        redactor.add(verifier);
    }
    let challenge = verifier.as_deref().map(crate::login::challenge);
    let url = crate::login::authorize_url(
        &target.authorization_url,
        &AuthorizeRequest {
            client_id: &target.config.client_id,
            redirect_uri: &target.redirect_uri,
            scope: target.config.scope.as_deref(),
            state: &state,
            code_challenge: challenge.as_deref(),
            params: &target.params,
        },
    );
    let redirect_uri = reqwest::Url::parse(&target.redirect_uri).ok();
    let loopback = redirect_uri
        .as_ref()
        .and_then(crate::login::loopback_address)
        .is_some();
    let receiver = match (&redirect_uri, loopback && !args.paste) {
        (Some(uri), true) => match Receiver::bind(uri).await {
            Ok(receiver) => Some(receiver),
            Err(message) => {
                let message = format!("{message}; free the port, or pass `--paste`");
                return fail(&console, &message, Exit::Failed);
            }
        },
        _ => None,
    };
    console.line(&format!(
        "Sign in for auth profile `{}` of `{}`: open this URL in a browser:\n",
        args.profile,
        args.recipe.display()
    ));
    // The one place whisk prints a client id unmasked: the person's browser needs it.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{url}");
    let _ = stdout.flush();
    drop(stdout);
    if args.open {
        open_browser(url.as_str());
    }
    let read_stdin = receiver.is_none() || std::io::IsTerminal::is_terminal(&std::io::stdin());
    match (&receiver, read_stdin) {
        (Some(_), true) => console.line(&format!(
            "\nwaiting for the redirect to {} (or paste the address the browser was sent to) ...",
            target.redirect_uri
        )),
        (Some(_), false) => console.line(&format!(
            "\nwaiting for the redirect to {} ...",
            target.redirect_uri
        )),
        _ => console
            .line("\nthen paste the address the browser was sent to (or just the code) here:"),
    }
    let redirect = match receive(receiver, read_stdin, args.timeout).await {
        Ok(redirect) => redirect,
        Err(message) => return fail(&console, &message, Exit::Auth),
    };
    let code = match check(redirect, &state) {
        Ok(code) => code,
        Err(message) => return fail(&console, &message, Exit::Auth),
    };
    let exchange = Exchange {
        target: &target,
        code: &code,
        verifier: verifier.as_deref(),
        redactor: &redactor,
    };
    finish(exchange, store, &console, args).await
}

/// The code of a redirect whose `state` matches the one sent.
fn check(redirect: Redirect, sent: &str) -> Result<String, String> {
    match redirect {
        Redirect::Refused {
            error, description, ..
        } => Err(match description {
            Some(description) => format!(
                "the authorization server refused the sign-in with `{error}`: {description}"
            ),
            None => format!("the authorization server refused the sign-in with `{error}`"),
        }),
        Redirect::Code { code, state } => match state {
            Some(state) if crate::login::same_secret(&state, sent) => Ok(code),
            Some(_) => Err("the `state` of the redirect does not match the one whisk sent: the redirect belongs to another sign-in (or was forged); start `whisk auth login` again".into()),
            None => Err("the redirect carries no `state`, but whisk sent one: start `whisk auth login` again".into()),
        },
        Redirect::BareCode { code } => Ok(code),
    }
}

/// A code to exchange, and what the exchange needs.
struct Exchange<'a> {
    target: &'a LoginTarget,
    code: &'a str,
    verifier: Option<&'a str>,
    redactor: &'a Redactor,
}

async fn finish(
    exchange: Exchange<'_>,
    store: &TokenStore,
    console: &Console,
    args: &LoginArgs,
) -> Exit {
    let Exchange {
        target,
        code,
        verifier,
        redactor,
    } = exchange;
    let answer = match login::exchange(
        &crate::exec::Client::live(),
        target,
        code,
        verifier,
        redactor,
    )
    .await
    {
        Ok(answer) => answer,
        Err(error) => return fail(console, &error.message, Exit::Auth),
    };
    if let Err(error) = login::save(
        store,
        &target.config,
        &target.key,
        &answer,
        crate::recipe::Grant::AuthorizationCode,
    )
    .await
    {
        return fail(console, &error.message, Exit::Failed);
    }
    finished(console, &args.profile, &target.key, store, &answer);
    Exit::Success
}

/// Says where the tokens went and how long they last.
pub(super) fn finished(
    console: &Console,
    profile: &str,
    key: &str,
    store: &TokenStore,
    answer: &crate::exec::auth::TokenAnswer,
) {
    let expiry = answer
        .expires_in
        .map(|d| format!("the access token is good for {}", human(d)))
        .unwrap_or_else(|| "the access token's lifetime is unknown".into());
    console.line(&format!(
        "\nsigned in: the tokens of profile `{profile}` are stored under key `{key}` in `{}`; {expiry}",
        store.place()
    ));
    if answer.refresh_token.is_none() {
        console.line(
            "warning: the server returned no refresh token, so runs work only until the access token expires; many servers issue one only for scope `offline_access` or with `prompt=consent` in `authorization_params`",
        );
    }
}

/// Waits for the redirect from the listener, stdin, or both, for at most `timeout`.
async fn receive(
    receiver: Option<Receiver>,
    read_stdin: bool,
    timeout: Duration,
) -> Result<Redirect, String> {
    let listened = async {
        match receiver {
            Some(receiver) => receiver.receive().await,
            None => std::future::pending().await,
        }
    };
    let pasted = async {
        if read_stdin {
            pasted().await
        } else {
            std::future::pending().await
        }
    };
    tokio::select! {
        redirect = listened => redirect,
        redirect = pasted => redirect,
        () = tokio::time::sleep(timeout) => Err(format!(
            "no redirect arrived within {}; start `whisk auth login` again (or pass a longer `--timeout`)",
            human(timeout)
        )),
    }
}

/// The first non-empty line of stdin, read on a thread of its own so that a waiting read never
/// keeps the process alive.
async fn pasted() -> Result<Redirect, String> {
    let (send, line) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut line = String::new();
        let result = loop {
            line.clear();
            match stdin.read_line(&mut line) {
                Ok(0) => {
                    break Err("stdin ended before a redirected URL or code was pasted".to_string());
                }
                Ok(_) if line.trim().is_empty() => continue,
                Ok(_) => break Ok(line.clone()),
                Err(e) => break Err(format!("cannot read stdin: {e}")),
            }
        };
        let _ = send.send(result);
    });
    let line = line
        .await
        .map_err(|_| "stdin could not be read".to_string())??;
    crate::login::from_pasted(&line)
}

pub(super) fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    // Best effort: the URL is printed either way.
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

pub(super) fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        _ => format!("{} h", secs / 3600),
    }
}

pub(super) fn fail(console: &Console, message: &str, exit: Exit) -> Exit {
    console.problem(problem(message));
    exit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_must_match() {
        let code = |state: Option<&str>| Redirect::Code {
            code: "c".into(),
            state: state.map(str::to_string),
        };
        assert_eq!(check(code(Some("s1")), "s1"), Ok("c".into()));
        assert!(
            check(code(Some("s2")), "s1")
                .unwrap_err()
                .contains("does not match")
        );
        assert!(check(code(None), "s1").unwrap_err().contains("no `state`"));
        let bare = Redirect::BareCode { code: "b".into() };
        assert_eq!(check(bare, "s1"), Ok("b".into()));
        let refused = Redirect::Refused {
            error: "access_denied".into(),
            description: None,
            state: None,
        };
        assert!(
            check(refused, "s1")
                .unwrap_err()
                .contains("`access_denied`")
        );
    }
}
