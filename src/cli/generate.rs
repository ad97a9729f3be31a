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
    /// A command whose own page to print (`whisk-run(1)`); the top-level page without it.
    pub command: Option<String>,
}

/// Prints a man page (roff) on stdout: `whisk(1)`, or `whisk-COMMAND(1)`.
pub fn man(args: &ManArgs, console: &Console) -> Exit {
    let top = Cli::command();
    let page = match &args.command {
        None => top,
        Some(name) => match top.find_subcommand(name) {
            Some(sub) => sub
                .clone()
                .display_name(format!("whisk-{}", sub.get_name()))
                .bin_name(format!("whisk {}", sub.get_name())),
            None => {
                let names: Vec<&str> = top.get_subcommands().map(|s| s.get_name()).collect();
                console.problem(
                    argument(format!("unknown command `{name}`"))
                        .help(format!("expected one of {}", names.join(", "))),
                );
                return Exit::Invalid;
            }
        },
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
