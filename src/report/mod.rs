//! Reports: the report model (what a run wrote down) and one writer per format. Writers take
//! the report as `Masked`: its secrets are masked once, before any writer sees it.

mod atomic;
mod cases;
mod events;
pub(crate) mod json;
mod junit;
mod markdown;
pub mod merge;
mod metrics;
mod progress;
mod summary;
mod synced;
mod terminal;

pub use atomic::write_atomically;
pub use events::EventStream;
pub use json::{render_spooled, to_json_text, write_json};
pub use junit::{to_junit, write_junit};
pub use markdown::{append_markdown, to_markdown, write_markdown};
pub use metrics::{MetricsSink, RunFigures, write_metrics};
pub use summary::{closing, step_lines, summary};
pub use terminal::TerminalSink;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::redact::{Mask, Masker};
use crate::result::RunResult;

/// The report of one run (`--report FILE.json`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "whisk run report")]
pub struct Report {
    /// The version of whisk that ran.
    pub whisk_version: String,
    pub recipe: RecipeInfo,
    /// The inputs the run used (secrets masked as `***`).
    pub inputs: std::sync::Arc<serde_json::Map<String, serde_json::Value>>,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 end time.
    pub ended_at: String,
    pub duration_ms: u64,
    /// The report given to `--resume`, whose succeeded steps and items were carried over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<String>,
    /// This run was one shard of several (`--shard`): its loops ran only their share of the
    /// items; `whisk report merge` joins the shards' reports into one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::exec::shard::Shard>,
    #[serde(flatten)]
    pub result: RunResult,
}

impl Mask for Report {
    fn mask(&mut self, masker: &Masker) {
        self.recipe.name.mask(masker);
        self.recipe.path.mask(masker);
        // Shared with the run: copied only when a secret is in it.
        if masker.touches_map(&self.inputs) {
            std::sync::Arc::make_mut(&mut self.inputs).mask(masker);
        }
        self.resumed_from.mask(masker);
        self.result.mask(masker);
    }
}

/// Which recipe ran.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RecipeInfo {
    pub name: String,
    pub path: String,
    /// The SHA-256 of the recipe file as it ran: `--resume` refuses a report of another text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The current time as RFC 3339.
pub fn timestamp(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
