//! Steps that repeat their request: `until` (poll until an expression holds) and `paginate`
//! (follow the pages of a list).

use schemars::JsonSchema;
use serde::Deserialize;

use super::{Backoff, Duration};

/// Send the request again until `that` holds (or `fail_if` does, or time runs out).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Until {
    /// The expression that ends polling, with the poll's captures and `poll` (`n`,
    /// `elapsed_ms`, `status`) in scope.
    pub that: String,
    /// An expression that fails the step at once when it holds (a job that failed).
    #[serde(default)]
    pub fail_if: Option<String>,
    /// The wait between polls (default `1s`); or `backoff`.
    #[serde(default)]
    pub interval: Option<Duration>,
    /// Waits that double from `initial` up to `max` (no jitter); instead of `interval`.
    #[serde(default)]
    pub backoff: Option<Backoff>,
    /// How long to keep polling (default `5m`); then the step fails.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// The most polls (default: no cap but `timeout`).
    #[serde(default)]
    pub max_polls: Option<u32>,
}

/// Follow the pages of a list: exactly one of `link`, `next_url`, `offset`, `cursor`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Paginate {
    /// Follow the RFC 8288 `Link` header with this relation (`next`).
    #[serde(default)]
    pub link: Option<String>,
    /// A JSONPath to the next page's URL in the body; none, `null` or `""` ends the list.
    #[serde(default)]
    pub next_url: Option<String>,
    /// Offset and limit query parameters.
    #[serde(default)]
    pub offset: Option<OffsetPaging>,
    /// A cursor from each page, sent back as a query parameter.
    #[serde(default)]
    pub cursor: Option<CursorPaging>,
    /// The most pages (default 1000): more fails the step, unless `on_max: stop`.
    #[serde(default)]
    pub max_pages: Option<u32>,
    /// What reaching `max_pages` does: `fail` (default) or `stop` (keep what was read).
    #[serde(default)]
    pub on_max: Option<OnMax>,
}

/// Offset/limit paging (Oracle Integration's list APIs).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OffsetPaging {
    /// The offset parameter (default `offset`).
    #[serde(default)]
    pub param: Option<String>,
    /// The limit parameter (default `limit`).
    #[serde(default)]
    pub limit_param: Option<String>,
    /// Items per page to ask for; without it no limit is sent (the server's default).
    #[serde(default)]
    pub limit: Option<u32>,
    /// A JSONPath to the page's items; they advance the offset (required).
    pub items: String,
    /// A JSONPath to a boolean that says whether more pages follow (`$.hasMore`).
    #[serde(default)]
    pub has_more: Option<String>,
    /// A JSONPath to the total number of items (`$.totalResults`).
    #[serde(default)]
    pub total: Option<String>,
}

/// Cursor paging.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CursorPaging {
    /// A JSONPath to the next cursor in the body; none, `null` or `""` ends the list.
    pub from: String,
    /// The query parameter that carries it (default `cursor`).
    #[serde(default)]
    pub param: Option<String>,
}

/// What reaching `max_pages` does.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnMax {
    Fail,
    Stop,
}
