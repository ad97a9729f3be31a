//! `whisk completions SHELL` and `whisk man`: shell completions and the man page, generated
//! from the clap definitions so that they never drift from the real flags.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Exit, argument, setup};
use crate::diagnostic::Console;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Exit {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "whisk", &mut std::io::stdout());
    Exit::Success
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// The command whose own page to print, e.g. `run` (`whisk-run(1)`) or `auth login`
    /// (`whisk-auth-login(1)`); the top-level page without one.
    pub command: Vec<String>,
}

/// The man page of the command at `path` (`[]`: whisk itself; `["auth", "login"]`), named as
/// the pages refer to each other: `whisk-auth-login`. Or the names that were expected.
pub fn page(path: &[String]) -> Result<clap::Command, String> {
    let mut page = Cli::command();
    let mut names = vec!["whisk".to_owned()];
    for name in path {
        let Some(sub) = page.find_subcommand(name).cloned() else {
            let known: Vec<String> = page
                .get_subcommands()
                .filter(|s| s.get_name() != "help")
                .map(|s| format!("`{}`", s.get_name()))
                .collect();
            return Err(if known.is_empty() {
                format!("`{}` has no commands under it", names.join(" "))
            } else {
                format!("expected one of {}", known.join(", "))
            });
        };
        names.push(sub.get_name().to_owned());
        page = sub.display_name(names.join("-")).bin_name(names.join(" "));
    }
    // clap's `help` subcommand has no page of its own worth listing.
    Ok(page.disable_help_subcommand(true))
}

/// Prints a man page (roff) on stdout: `whisk(1)`, or `whisk-COMMAND(1)` for any command,
/// nested ones too.
pub fn man(args: &ManArgs, console: &Console) -> Exit {
    let page = match page(&args.command) {
        Ok(page) => page,
        Err(help) => {
            console.problem(
                argument(format!("unknown command `{}`", args.command.join(" "))).help(help),
            );
            return Exit::Invalid;
        }
    };
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(page).source(concat!("whisk ", env!("CARGO_PKG_VERSION")));
    if let Err(error) = man.render(&mut out) {
        console.problem(setup(format!("cannot render the man page: {error}")));
        return Exit::Failed;
    }
    match std::io::stdout().lock().write_all(&out) {
        Ok(()) => Exit::Success,
        Err(_) => Exit::Failed,
    }
}
