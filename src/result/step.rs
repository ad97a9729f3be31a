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
