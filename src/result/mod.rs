//! What a run produces: typed results per run, step, iteration and attempt — the model the
//! executor builds and every report writer reads. Neither side formats here: the writers
//! serialise these types, the runner only fills them in.

mod error;
mod exchange;
mod flow;
mod mask;
pub mod spool;
mod step;
mod tally;

pub use error::{ErrorInfo, ErrorKind};
pub use exchange::{Attempt, Exchange, Hop};
pub use flow::{Poll, Polls};
pub use step::{CheckResult, Execution, Iteration, StepResult};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a run, step or iteration ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

/// The whole run.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
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

/// True when authentication failed in `step`, its inner steps or its items.
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
        || step.spooled.as_ref().is_some_and(|s| s.auth_failed())
}

impl RunResult {
    /// True when authentication failed somewhere in the run.
    pub fn auth_failed(&self) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.kind == ErrorKind::Auth)
            || self.steps.iter().any(step_auth)
    }
}
