//! One renderer for every user-facing error: `file:line:column`, the source line with a caret,
//! the step and field it concerns, and what to do.

mod console;
mod json;
mod kind;
mod render;

pub use crate::source::Location;
pub use console::{Console, ErrorFormat};
pub use json::{to_json, to_json_line};
pub use kind::{BindKind, CommandKind, Kind, LoadKind, PlanKind};
pub use render::render;

use serde::Serialize;

use crate::source::{FieldPath, Source};

/// Whether a problem stops the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    /// Worth knowing; the command goes on.
    Warning,
}

/// A user-facing problem, ready to render: what kind it is, where, and what to do.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnostic {
    pub kind: Kind,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<Location>>,
    /// The step the error concerns, by id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The field the error concerns, e.g. `steps[2].request.url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(kind: Kind, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            kind,
            severity: Severity::Error,
            message: message.into(),
            location: None,
            step: None,
            field: None,
            help: None,
        }
    }

    /// The same problem as a warning: worth knowing, but the command goes on.
    pub fn warning(mut self) -> Diagnostic {
        self.severity = Severity::Warning;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn step(mut self, step: impl Into<String>) -> Diagnostic {
        self.step = Some(step.into());
        self
    }

    /// Points the diagnostic at `field` in `source` (at its key when `at_key`).
    pub fn at_field(mut self, source: &Source, field: &FieldPath, at_key: bool) -> Diagnostic {
        if !field.is_root() {
            self.field = Some(field.to_string());
        }
        let position = if at_key {
            source.key_position(field)
        } else {
            source.value_position(field)
        };
        self.location = Some(Box::new(match position {
            Some(position) => Location {
                file: source.name(),
                line: position.line,
                column: position.column,
                source_line: source.line(position.line).map(str::to_string),
            },
            None => Location {
                file: source.name(),
                line: 1,
                column: 1,
                source_line: source.line(1).map(str::to_string),
            },
        }));
        self
    }

    /// Points the diagnostic at a known line and column of `source`.
    pub fn at_position(mut self, source: &Source, line: u32, column: u32) -> Diagnostic {
        self.location = Some(Box::new(Location {
            file: source.name(),
            line,
            column,
            source_line: source.line(line).map(str::to_string),
        }));
        self
    }

    /// Names the file only (for errors that have no position, such as an unreadable file).
    pub fn in_file(mut self, file: impl Into<String>) -> Diagnostic {
        self.location = Some(Box::new(Location {
            file: file.into(),
            line: 0,
            column: 0,
            source_line: None,
        }));
        self
    }
}

/// "did you mean `x`?" for a name close to one of `candidates`.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| format!("did you mean `{candidate}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("nmae", ["name", "version", "steps"]).as_deref(),
            Some("did you mean `name`?")
        );
        assert_eq!(did_you_mean("zzz", ["name", "version"]), None);
    }
}
