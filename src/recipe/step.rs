//! The step model: requests, expectations, captures, checks and loops.

use std::fmt;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::{Duration, Rate, Redirects, Retry, Size};

/// One step of a recipe.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique id, `[a-z_][a-z0-9_]*`; later steps read `steps.<id>`.
    pub id: String,
    /// A human title for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// The HTTP request this step sends.
    #[serde(default)]
    pub request: Option<Request>,
    /// Auth profile name, or `none`; overrides `defaults.auth`.
    #[serde(default)]
    pub auth: Option<String>,
    /// What counts as success.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Values taken from the response: name → JSONPath, or a capture spec.
    #[serde(default)]
    pub capture: IndexMap<String, Capture>,
    /// Expressions that must hold after captures.
    #[serde(default)]
    pub check: Vec<Check>,
    /// Skip the step (reported as skipped) unless this expression is true.
    #[serde(default)]
    pub when: Option<String>,
    /// Run the step once per item of the list this expression yields, or of a list written
    /// in place.
    #[serde(default)]
    pub for_each: Option<ForEach>,
    /// The loop variable's name (default `item`).
    #[serde(default, rename = "as")]
    pub as_: Option<String>,
    /// Iterations in flight at once (default 1: in order); an integer or a template.
    #[serde(default)]
    pub concurrency: Option<Concurrency>,
    /// With `for_each`: a block of steps run per item.
    #[serde(default)]
    pub steps: Option<Vec<Step>>,
    /// Run another recipe file (path relative to this one) as this step.
    #[serde(default)]
    pub uses: Option<String>,
    /// Inputs of the recipe named by `uses`.
    #[serde(default)]
    pub with: IndexMap<String, serde_json::Value>,
    /// Overrides `defaults.retry`.
    #[serde(default)]
    pub retry: Option<Retry>,
    /// Overrides `defaults.timeout`.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Overrides `defaults.connect_timeout`.
    #[serde(default)]
    pub connect_timeout: Option<Duration>,
    /// Overrides `defaults.max_body`.
    #[serde(default)]
    pub max_body: Option<Size>,
    /// Overrides `defaults.rate_limit`.
    #[serde(default)]
    pub rate_limit: Option<Rate>,
    /// Overrides `defaults.redirects`.
    #[serde(default)]
    pub redirects: Option<Redirects>,
    /// Send the request again until an expression holds (polling an asynchronous job).
    #[serde(default)]
    pub until: Option<super::Until>,
    /// Follow the pages of a list; list captures gather every page's matches in order.
    #[serde(default)]
    pub paginate: Option<super::Paginate>,
    /// Allows retrying a POST or PATCH after a network error or timeout.
    #[serde(default)]
    pub idempotent: bool,
    /// The run goes on after this step fails (it still ends failed).
    #[serde(default)]
    pub continue_on_error: bool,
    /// With `--shard`: run this step (outside loops) in every shard, not only in shard 0 —
    /// for a step whose captures the loops need, such as a listing.
    #[serde(default)]
    pub every_shard: bool,
}

/// An HTTP request. At most one of `json`, `form` and `body`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD` or `OPTIONS` (default `GET`).
    #[serde(default)]
    pub method: Option<String>,
    /// The URL; templates allowed.
    pub url: String,
    /// Query parameters; a list value repeats the parameter.
    #[serde(default)]
    pub query: IndexMap<String, serde_json::Value>,
    /// Request headers.
    #[serde(default)]
    pub headers: IndexMap<String, serde_json::Value>,
    /// A JSON body (any value).
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    /// A urlencoded form body.
    #[serde(default)]
    pub form: Option<IndexMap<String, serde_json::Value>>,
    /// A raw text body.
    #[serde(default)]
    pub body: Option<String>,
    /// A `multipart/form-data` body: text parts and file parts, files streamed from disk.
    #[serde(default)]
    pub multipart: Option<Vec<FormPart>>,
}

/// One part of a multipart body: exactly one of `value` or `file`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormPart {
    /// The field name.
    pub name: String,
    /// A text value (templates allowed).
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    /// A file to send, relative to the recipe's folder (templates allowed).
    #[serde(default)]
    pub file: Option<String>,
    /// The file name the server is told (default: the file's own name).
    #[serde(default)]
    pub filename: Option<String>,
    /// The part's content type (files default to `application/octet-stream`).
    #[serde(default)]
    pub content_type: Option<String>,
}

/// What counts as success.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Accepted statuses: an integer, a class such as `"2xx"`, or a list of them.
    #[schemars(schema_with = "status_schema")]
    pub status: serde_json::Value,
}

fn status_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "An integer status, a class such as \"2xx\", or a list of them.",
        "anyOf": [
            { "type": "integer", "minimum": 100, "maximum": 599 },
            { "type": "string", "pattern": "^[1-5]xx$" },
            { "type": "array", "items": { "anyOf": [
                { "type": "integer", "minimum": 100, "maximum": 599 },
                { "type": "string", "pattern": "^[1-5]xx$" }
            ] } }
        ]
    })
}

/// A check evaluated after captures.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// An expression that must be true.
    pub that: String,
    /// The message reported when it is not.
    #[serde(default)]
    pub message: Option<String>,
}

/// Iterations in flight at once: an integer, or a template that renders to one.
#[derive(Clone, Debug, JsonSchema)]
#[serde(untagged)]
pub enum Concurrency {
    Fixed(u32),
    Template(String),
}

impl<'de> Deserialize<'de> for Concurrency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ConcurrencyVisitor;
        impl Visitor<'_> for ConcurrencyVisitor {
            type Value = Concurrency;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a positive integer or a template such as \"{{ inputs.concurrency }}\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Concurrency, E> {
                u32::try_from(v)
                    .map(Concurrency::Fixed)
                    .map_err(|_| E::custom(format!("concurrency {v} is too large")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Concurrency, E> {
                u32::try_from(v)
                    .map(Concurrency::Fixed)
                    .map_err(|_| E::custom(format!("concurrency must be at least 1, found {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Concurrency, E> {
                Ok(Concurrency::Template(v.to_string()))
            }
        }
        deserializer.deserialize_any(ConcurrencyVisitor)
    }
}

/// What a `for_each` runs over.
#[derive(Clone, Debug, JsonSchema)]
#[serde(untagged)]
pub enum ForEach {
    /// An expression that yields a list: `inputs.child_locators`, `"{{ ids }}"`.
    Expression(String),
    /// A list written in place; its strings may be templates.
    List(Vec<serde_json::Value>),
}

impl<'de> Deserialize<'de> for ForEach {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ForEachVisitor;
        impl<'de> Visitor<'de> for ForEachVisitor {
            type Value = ForEach;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an expression that yields a list (`inputs.ids`) or a list")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ForEach, E> {
                Ok(ForEach::Expression(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<ForEach, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(ForEach::List)
            }
        }
        deserializer.deserialize_any(ForEachVisitor)
    }
}

/// A capture: a JSONPath string, or a spec with exactly one of `jsonpath`, `header`, `regex`.
#[derive(Clone, Debug, JsonSchema)]
#[serde(untagged)]
pub enum Capture {
    /// A JSONPath (RFC 9535) over the JSON body; yields the list of all matches.
    Path(String),
    Spec(CaptureSpec),
}

/// A capture spec.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureSpec {
    /// A JSONPath (RFC 9535) over the JSON body.
    #[serde(default)]
    pub jsonpath: Option<String>,
    /// A response header's value.
    #[serde(default)]
    pub header: Option<String>,
    /// A regular expression over the body text; the first group if it has one, else the match.
    #[serde(default)]
    pub regex: Option<String>,
    /// Exactly one match, else the step fails (JSONPath only).
    #[serde(default)]
    pub single: bool,
    /// No match is not an error: the value is `default`, or null.
    #[serde(default)]
    pub optional: bool,
    /// The value when nothing matches (implies `optional`).
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// The fewest matches a list capture accepts; fewer fail the step (JSONPath only, not
    /// with `single`). Without it, a list capture that matches nothing is a warning.
    #[serde(default)]
    pub min: Option<u64>,
}

impl<'de> Deserialize<'de> for Capture {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CaptureVisitor;
        impl<'de> Visitor<'de> for CaptureVisitor {
            type Value = Capture;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSONPath string or a map with `jsonpath`, `header` or `regex`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Capture, E> {
                Ok(Capture::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Capture, A::Error> {
                CaptureSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Capture::Spec)
            }
        }
        deserializer.deserialize_any(CaptureVisitor)
    }
}
