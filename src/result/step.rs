//! Steps, the items of a `for_each` step, and what one execution of a step's body did.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ErrorInfo, Exchange, Status};

/// One step.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterations: Option<Vec<Iteration>>,
    /// The iterations of a top-level loop, kept on disk instead of in `iterations` (the
    /// report shows them as `iterations` all the same).
    #[serde(skip)]
    #[schemars(skip)]
    pub spooled: Option<std::sync::Arc<super::spool::Finished>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub succeeded: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<usize>,
    /// Why the step failed (for a loop: a summary), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// What looked wrong without failing the step: a capture that matched nothing, a loop
    /// with no items (for a loop, its items' warnings, each with how many items had it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Taken from the report given to `--resume` instead of being run again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub carried_over: bool,
}

/// One item of a `for_each` step.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Iteration {
    pub index: usize,
    pub item: serde_json::Value,
    pub status: Status,
    pub duration_ms: u64,
    #[serde(flatten)]
    pub run: Execution,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// This item's warnings; the loop's step lists them, counted (`StepResult::warnings`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Taken from the report given to `--resume` instead of being run again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub carried_over: bool,
}

#[cfg(test)]
impl Iteration {
    /// An item of a test loop that took 1 ms: failed with `error`, or succeeded.
    pub fn of_test(index: usize, item: serde_json::Value, error: Option<ErrorInfo>) -> Iteration {
        Iteration {
            index,
            item,
            status: if error.is_some() {
                Status::Failed
            } else {
                Status::Succeeded
            },
            duration_ms: 1,
            run: Execution::default(),
            error,
            warnings: Vec::new(),
            carried_over: false,
        }
    }
}

/// One execution of a step's body: a request, a used recipe or a block.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Execution {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Exchange>,
    /// The pages after the first (`request`) of a `paginate` step, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<Exchange>,
    /// The polls of an `until` step; `request` and `captures` are the last poll's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polls: Option<Box<super::Polls>>,
    /// Steps of a used recipe or of a block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepResult>>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub captures: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

/// One check.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    pub that: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl StepResult {
    /// Step `id` with `status` and nothing else recorded yet.
    pub fn new(id: impl Into<String>, status: super::Status) -> StepResult {
        StepResult {
            id: id.into(),
            name: None,
            status,
            duration_ms: 0,
            run: None,
            iterations: None,
            spooled: None,
            succeeded: None,
            failed: None,
            error: None,
            warnings: Vec::new(),
            carried_over: false,
        }
    }

    /// How many items a `for_each` step had, whether they are in memory or spooled.
    pub fn item_count(&self) -> Option<usize> {
        match (&self.iterations, &self.spooled) {
            (Some(items), _) => Some(items.len()),
            (None, Some(spooled)) => Some(spooled.len()),
            (None, None) => None,
        }
    }

    /// How many of its items were carried over from an earlier report.
    pub fn carried_items(&self) -> usize {
        match (&self.iterations, &self.spooled) {
            (Some(items), _) => items.iter().filter(|i| i.carried_over).count(),
            (None, Some(spooled)) => spooled.carried(),
            (None, None) => 0,
        }
    }

    /// Its failed items in index order: all of them from memory, the first
    /// `spool::FAILURES_KEPT` of a spooled loop (`failed` counts them all).
    pub fn failed_items(&self) -> Vec<&Iteration> {
        let failed = |i: &&Iteration| i.status == super::Status::Failed;
        match (&self.iterations, &self.spooled) {
            (Some(items), _) => items.iter().filter(failed).collect(),
            (None, Some(spooled)) => spooled.failures().iter().collect(),
            (None, None) => Vec::new(),
        }
    }

    /// How many of its items ended with `status`.
    pub fn items_with(&self, status: super::Status) -> usize {
        use super::Status;
        match (&self.iterations, &self.spooled) {
            (Some(items), _) => items.iter().filter(|i| i.status == status).count(),
            (None, Some(spooled)) => match status {
                Status::Succeeded => self.succeeded.unwrap_or(0),
                Status::Failed => self.failed.unwrap_or(0),
                Status::Interrupted => spooled.interrupted(),
                Status::Skipped | Status::NotRun => 0,
            },
            (None, None) => 0,
        }
    }
}
