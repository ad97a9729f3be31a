//! Why something failed: a kind and a message that names the step and the field or URL.

use schemars::JsonSchema;
use serde::Serialize;

/// The kind of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
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
    /// The run was interrupted before this finished.
    Interrupted,
}

/// A failure, with a message that names the step, the field or URL and what went wrong.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    pub message: String,
}

impl ErrorInfo {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ErrorInfo {
        ErrorInfo {
            kind,
            message: message.into(),
        }
    }
}
