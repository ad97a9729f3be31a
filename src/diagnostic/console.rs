//! Where user-facing messages go: stderr, through `MaskedWrite`. Problems are rendered with
//! their snippet, or as one JSON object per line with `--error-format json`; a run's summary
//! and notices are plain lines. Every message of the CLI and of a session goes through here.

use std::io::Write;

use super::{Diagnostic, render, to_json_line};
use crate::redact::{MaskedWrite, Redactor};

/// How problems are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ErrorFormat {
    /// The message, the source line and a caret, the step and field, what to do.
    #[default]
    Human,
    /// One JSON object per line: `{kind, severity, message, location, step, field, help}`.
    Json,
}

/// The process's stderr, masked with a run's secrets.
#[derive(Clone, Debug, Default)]
pub struct Console {
    pub color: bool,
    pub format: ErrorFormat,
    redactor: Redactor,
}

impl Console {
    pub fn new(color: bool, format: ErrorFormat) -> Console {
        Console {
            color,
            format,
            redactor: Redactor::new(),
        }
    }

    /// The same console, masking `redactor`'s secrets (a plan's, once it is known).
    pub fn masking(&self, redactor: &Redactor) -> Console {
        Console {
            redactor: redactor.clone(),
            ..self.clone()
        }
    }

    /// Prints problems: every one, then how many there were when more than one.
    pub fn problems(&self, diagnostics: &[Diagnostic]) {
        if self.format == ErrorFormat::Json {
            // Masked value by value, so that the line stays JSON whatever a secret is.
            let masker = self.redactor.masker();
            let mut out = std::io::stderr().lock();
            for diagnostic in diagnostics {
                let _ = writeln!(out, "{}", to_json_line(diagnostic, &masker));
            }
            return;
        }
        let mut out = self.stderr();
        for diagnostic in diagnostics {
            let _ = writeln!(out, "{}\n", render(diagnostic, self.color));
        }
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        if errors > 1 {
            let _ = writeln!(out, "{errors} problems found; nothing was sent");
        }
    }

    /// Prints one problem.
    pub fn problem(&self, diagnostic: Diagnostic) {
        self.problems(std::slice::from_ref(&diagnostic));
    }

    /// The secrets this console masks, as they are now.
    pub fn masker(&self) -> crate::redact::Masker {
        self.redactor.masker()
    }

    /// A line of text on stderr (a summary, a notice).
    pub fn line(&self, text: &str) {
        let _ = writeln!(self.stderr(), "{text}");
    }

    /// Stderr, masked (and, on a terminal, with control characters escaped).
    pub fn stderr(&self) -> MaskedWrite<std::io::StderrLock<'static>> {
        let masker = self.redactor.masker();
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            MaskedWrite::for_terminal(std::io::stderr().lock(), masker, self.color)
        } else {
            MaskedWrite::new(std::io::stderr().lock(), masker)
        }
    }

    /// Stdout, masked (and, on a terminal, with control characters escaped).
    pub fn stdout(&self) -> MaskedWrite<std::io::StdoutLock<'static>> {
        let masker = self.redactor.masker();
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            MaskedWrite::for_terminal(std::io::stdout().lock(), masker, self.color)
        } else {
            MaskedWrite::new(std::io::stdout().lock(), masker)
        }
    }
}
