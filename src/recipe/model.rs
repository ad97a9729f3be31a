//! The top of the recipe model: the recipe itself, inputs, secrets and defaults.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{AuthProfile, Duration, Rate, Size, Step};

/// A whisk recipe (format version 1).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "whisk recipe")]
pub struct Recipe {
    /// The recipe format version. Always `1`.
    pub version: u32,
    /// A short name for reports, e.g. `tibco-enable-api-access`.
    pub name: String,
    /// What the recipe does, for people.
    #[serde(default)]
    pub description: Option<String>,
    /// Typed parameters, given with `--input k=v`, `--inputs-file FILE`, from the environment
    /// or by their default.
    #[serde(default)]
    pub inputs: IndexMap<String, Input>,
    /// Values that never appear in any output, read from the environment or a file.
    #[serde(default)]
    pub secrets: IndexMap<String, SecretSource>,
    /// Authentication profiles, by name.
    #[serde(default)]
    pub auth: IndexMap<String, AuthProfile>,
    /// Settings every step inherits unless it overrides them.
    #[serde(default)]
    pub defaults: Defaults,
    /// The steps, run in order.
    pub steps: Vec<Step>,
    /// Values the run prints as JSON on stdout at the end: name → expression.
    #[serde(default)]
    pub outputs: IndexMap<String, String>,
}

/// The type of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

impl InputType {
    pub fn name(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Integer => "integer",
            InputType::Number => "number",
            InputType::Boolean => "boolean",
            InputType::Array => "array",
            InputType::Object => "object",
        }
    }
}

/// A typed parameter of the recipe. Without `default` or `env` it is required.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// `string`, `integer`, `number`, `boolean`, `array` or `object`.
    #[serde(rename = "type")]
    pub kind: InputType,
    /// What the input means, for people.
    #[serde(default)]
    pub description: Option<String>,
    /// The value used when none is given.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// An environment variable read when no value is given on the command line.
    #[serde(default)]
    pub env: Option<String>,
    /// For an `array` input read from a CSV file (`--inputs-file name=rows.csv`): the type of
    /// each column; columns not listed are strings.
    #[serde(default)]
    pub columns: indexmap::IndexMap<String, InputType>,
}

/// Where a secret comes from: exactly one of `env` or `file`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// Read from this environment variable.
    #[serde(default)]
    pub env: Option<String>,
    /// Read from this file (relative to the recipe), trailing newline trimmed.
    #[serde(default)]
    pub file: Option<String>,
}

/// Settings every step inherits.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// The auth profile for every step, or `none`.
    #[serde(default)]
    pub auth: Option<String>,
    /// Headers sent with every request; a step's own headers win.
    #[serde(default)]
    pub headers: IndexMap<String, serde_json::Value>,
    /// Total time allowed for one request attempt, redirects and body included (default `30s`).
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Time allowed to open a connection (default `10s`).
    #[serde(default)]
    pub connect_timeout: Option<Duration>,
    /// The largest response body read (default `16MiB`); a larger one fails the step.
    #[serde(default)]
    pub max_body: Option<Size>,
    /// At most this many requests to one host, shared by every step and iteration: `10/s`.
    #[serde(default)]
    pub rate_limit: Option<Rate>,
    /// How failed attempts are retried.
    #[serde(default)]
    pub retry: Option<Retry>,
    /// How redirects are followed.
    #[serde(default)]
    pub redirects: Option<Redirects>,
    /// A TLS client certificate for every request of the recipe (mutual TLS), token requests
    /// included; an auth profile's own `client_cert` wins for its requests.
    #[serde(default)]
    pub client_cert: Option<super::ClientCert>,
}

/// Retry policy: which answers are retried, how often, how long to wait.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Total tries, including the first (default 1: no retry).
    #[serde(default)]
    pub attempts: Option<u32>,
    /// Statuses that are retried (default `[429, 502, 503, 504]`).
    #[serde(default)]
    pub on_status: Option<Vec<u16>>,
    /// Exponential backoff with full jitter; `Retry-After` wins when present (capped by `max`).
    #[serde(default)]
    pub backoff: Option<Backoff>,
}

/// Backoff bounds.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    /// The first delay (default `500ms`).
    #[serde(default)]
    pub initial: Option<Duration>,
    /// The longest delay (default `30s`).
    #[serde(default)]
    pub max: Option<Duration>,
}

/// Redirect handling.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Redirects {
    /// Follow redirects (at most 10). Default `true`.
    #[serde(default)]
    pub follow: Option<bool>,
    /// Hosts (`host` or `host:port`) that may receive the Authorization header after a
    /// redirect leaves the original host.
    #[serde(default)]
    pub forward_auth_to: Option<Vec<String>>,
    /// Follow a redirect from HTTPS to plain HTTP (refused by default).
    #[serde(default)]
    pub allow_insecure: Option<bool>,
}
