//! A request, its attempts and their redirects.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A request and every attempt made to get an answer to it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
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
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// Redirects followed, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
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
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Hop {
    pub status: u16,
    pub location: String,
    /// Whether the Authorization header went along to the new location.
    pub auth_forwarded: bool,
}
