//! Why something failed: a kind and a message that names the step and the field or URL.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::source::{FieldPath, Location, Source};

/// The kind of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A template or expression could not be evaluated.
    Template,
    /// The connection failed or broke.
    Network,
    /// No answer in time.
    Timeout,
    /// A redirect could not be followed.
    Redirect,
    /// The answer's status was not one `expect.status` accepts.
    Status,
    /// The response body was larger than allowed or unreadable.
    Body,
    /// A replay's cassette has no answer for the request (`whisk test`).
    Cassette,
    /// A capture found nothing, too much, or no JSON.
    Capture,
    /// A check did not hold.
    Check,
    /// Authentication failed: the token endpoint refused, or the API refused a fresh token.
    Auth,
    /// A used recipe failed.
    Uses,
    /// A `for_each` iteration failed.
    Iteration,
    /// Polling (`until`) ended without the condition: `fail_if` held, or time or polls ran out.
    Poll,
    /// Pagination could not go on: a page pointed back, or `max_pages` was reached.
    Pages,
    /// The run was interrupted before this finished.
    Interrupted,
}

/// A failure, with a message that names the step, the field or URL and what went wrong.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    pub message: String,
    /// The field of the step the failure concerns (`request.url`), relative to the step.
    #[serde(skip)]
    #[schemars(skip)]
    pub field: Option<FieldPath>,
    /// Where that field is written, once the step's place in its file is known: for the
    /// terminal, not the report.
    #[serde(skip)]
    #[schemars(skip)]
    pub location: Option<Box<Location>>,
}

impl ErrorInfo {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ErrorInfo {
        ErrorInfo {
            kind,
            message: message.into(),
            field: None,
            location: None,
        }
    }

    /// The same error, about `field` of its step.
    pub fn in_field(mut self, field: FieldPath) -> ErrorInfo {
        self.field = Some(field);
        self
    }

    /// Points the error, unless it points somewhere already, at its field of the step written
    /// at `step` in `source` — or at the closest enclosing field the file writes (a field
    /// left to its default is not in the file), at most the step itself.
    pub fn locate(&mut self, source: &Source, step: &FieldPath) {
        if self.location.is_some() {
            return;
        }
        let mut field = match &self.field {
            Some(relative) => step.join(relative),
            None => step.clone(),
        };
        let position = loop {
            if let Some(position) = source.value_position(&field) {
                break Some(position);
            }
            if field == *step {
                break None;
            }
            match field.parent() {
                Some(parent) => field = parent,
                None => break None,
            }
        };
        self.location = position.map(|position| {
            Box::new(Location {
                file: source.name(),
                line: position.line,
                column: position.column,
                source_line: source.line(position.line).map(str::to_string),
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_their_field_or_else_at_the_step() {
        let source = crate::recipe::load::source(
            "r.yaml",
            "version: 1\nname: r\nsteps:\n  - id: a\n    request:\n      url: https://x/\n",
        );
        let step = FieldPath::root().key("steps").index(0);
        let url = FieldPath::root().key("request").key("url");
        let mut error = ErrorInfo::new(ErrorKind::Network, "reset").in_field(url);
        error.locate(&source, &step);
        let at = error.location.as_ref().expect("located");
        assert_eq!((at.line, at.column), (6, 12));
        // `expect` is not written: the step itself.
        let status = FieldPath::root().key("expect").key("status");
        let mut error = ErrorInfo::new(ErrorKind::Status, "500").in_field(status);
        error.locate(&source, &step);
        assert_eq!(error.location.as_ref().map(|l| l.line), Some(4));
        // Located once: a wrapped error keeps where it failed.
        let before = error.location.clone();
        error.locate(&source, &FieldPath::root());
        assert_eq!(error.location.map(|l| l.line), before.map(|l| l.line));
    }
}
