//! What a run produces: typed results per step, iteration and attempt. The report writers
//! serialise these; the runner never formats them.

use schemars::JsonSchema;
use serde::Serialize;

/// How a run, step or iteration ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Succeeded,
    Failed,
    Skipped,
    /// Not run, or not finished, because the run was interrupted (SIGINT/SIGTERM).
    Interrupted,
    /// Not run: an earlier step failed (without `continue_on_error`) and the recipe stopped.
    NotRun,
}

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

/// One step.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StepResult {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: Status,
    pub duration_ms: u64,
    /// The single run of a step without `for_each`.
    #[serde(flatten)]
    pub run: Option<Execution>,
    /// One entry per item of a `for_each` step, in item order.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::report::json::iterations"
    )]
    pub iterations: Option<Vec<Iteration>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub succeeded: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<usize>,
    /// Why the step failed (for a loop: a summary), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// Taken from the report given to `--resume` instead of being run again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub carried_over: bool,
}

/// One item of a `for_each` step.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Iteration {
    pub index: usize,
    pub item: serde_json::Value,
    pub status: Status,
    pub duration_ms: u64,
    #[serde(flatten)]
    pub run: Execution,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// Taken from the report given to `--resume` instead of being run again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub carried_over: bool,
}

/// One execution of a step's body: a request, a used recipe or a block.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Execution {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Exchange>,
    /// Steps of a used recipe or of a block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepResult>>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub captures: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

/// A request and every attempt made to get an answer to it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Exchange {
    // Standard methods are named without an allocation (a fan-out keeps thousands).
    pub method: std::borrow::Cow<'static, str>,
    pub url: String,
    /// The final status (of the last attempt), when there was an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub attempts: Vec<Attempt>,
}

/// One attempt: a request sent (following redirects) and its answer or failure.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Attempt {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// Redirects followed, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<Hop>,
    /// Why this attempt did not count: `retry` (a retried status or error) or
    /// `token_refresh` (the token was refreshed and the request resent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// How long whisk waited before the next attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One redirect hop.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Hop {
    pub status: u16,
    pub location: String,
    /// Whether the Authorization header went along to the new location.
    pub auth_forwarded: bool,
}

/// One check.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CheckResult {
    pub that: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The whole run.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RunResult {
    pub status: Status,
    pub steps: Vec<StepResult>,
    /// The recipe's outputs, when the run got far enough to compute them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<serde_json::Map<String, serde_json::Value>>,
    /// A failure of the run as a whole (authentication, outputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

impl RunResult {
    /// True when authentication failed somewhere in the run.
    pub fn auth_failed(&self) -> bool {
        fn step_auth(step: &StepResult) -> bool {
            step.error
                .as_ref()
                .is_some_and(|e| e.kind == ErrorKind::Auth)
                || step
                    .run
                    .as_ref()
                    .and_then(|r| r.steps.as_ref())
                    .is_some_and(|s| s.iter().any(step_auth))
                || step.iterations.as_ref().is_some_and(|its| {
                    its.iter().any(|i| {
                        i.error.as_ref().is_some_and(|e| e.kind == ErrorKind::Auth)
                            || i.run
                                .steps
                                .as_ref()
                                .is_some_and(|s| s.iter().any(step_auth))
                    })
                })
        }
        self.error
            .as_ref()
            .is_some_and(|e| e.kind == ErrorKind::Auth)
            || self.steps.iter().any(step_auth)
    }
}
