//! Recipe → Plan: templates and JSONPaths compiled, auth resolved, durations and policies
//! settled, every name checked. All validation errors are collected here, before anything is
//! sent; the executor accepts only a `Plan`.

mod auth;
pub mod bind;
mod build;
pub(crate) mod filters;
pub mod flow;
pub mod input_list;
mod interpolate;
pub mod jsonpath;
mod names;
pub mod precheck;
pub mod range;
mod status;
pub mod template;

pub use auth::{AssertionPlan, AuthKind, AuthPlan, CertPlan, LoginPlan, OAuth2Plan, RefreshOnPlan};
pub use build::{build, load_and_build};
pub use status::StatusSet;
pub use template::{Sequence, TEMPLATE_FUEL, Templates, Tpl, ValueTpl};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json_path::JsonPath;

use crate::recipe::InputType;
use crate::redact::Redactor;
use crate::source::Source;

/// A validated run: the root recipe, every recipe it uses, and their compiled templates.
#[derive(Debug)]
pub struct Plan {
    pub root: Arc<RecipePlan>,
    /// Every recipe of the run, the root first, indexed by `RecipePlan::id`.
    pub recipes: Vec<Arc<RecipePlan>>,
    pub templates: Templates,
    pub redactor: Redactor,
}

/// One recipe file, validated.
#[derive(Debug)]
pub struct RecipePlan {
    pub id: usize,
    pub name: String,
    pub source: Arc<Source>,
    pub inputs: IndexMap<String, InputPlan>,
    pub secrets: IndexMap<String, SecretPlan>,
    pub auth: IndexMap<String, Arc<AuthPlan>>,
    pub steps: Vec<StepPlan>,
    pub outputs: Vec<(String, Tpl)>,
    /// Fields checked once inputs and secrets are bound (see `precheck`).
    pub prechecks: Vec<precheck::Precheck>,
    /// `defaults.client_cert`: the TLS client certificate of every request.
    pub client_cert: Option<CertPlan>,
}

#[derive(Clone, Debug)]
pub struct InputPlan {
    pub kind: InputType,
    pub default: Option<serde_json::Value>,
    pub env: Option<String>,
    /// Column types of CSV rows (see `recipe::Input::columns`).
    pub columns: IndexMap<String, InputType>,
}

#[derive(Clone, Debug)]
pub enum SecretPlan {
    Env(String),
    File(PathBuf),
}

#[derive(Debug)]
pub struct StepPlan {
    pub id: String,
    /// The file the step is written in, and where in it: failures point there.
    pub source: Arc<Source>,
    pub field: crate::source::FieldPath,
    pub name: Option<String>,
    pub when: Option<Tpl>,
    pub each: Option<Each>,
    pub body: Body,
    pub captures: Vec<CapturePlan>,
    pub checks: Vec<CheckPlan>,
    /// A request step that polls (`until`) or follows pages (`paginate`).
    pub repeat: Option<flow::Repeat>,
    pub continue_on_error: bool,
    /// Runs in every shard (`--shard`), not only shard 0.
    pub every_shard: bool,
    /// Whether a template may read this loop's `steps.<id>.results` (or the whole step value):
    /// if not, a run keeps only the last item's response for `steps.<id>`, not every item's.
    pub results_read: bool,
}

#[derive(Debug)]
pub struct Each {
    pub list: ValueTpl,
    pub var: String,
    pub concurrency: Concurrency,
}

#[derive(Debug)]
pub enum Concurrency {
    Fixed(usize),
    Template(Tpl),
}

#[derive(Debug)]
pub enum Body {
    Request(Box<RequestPlan>),
    Uses(UsesPlan),
    Block(Vec<StepPlan>),
}

#[derive(Debug)]
pub struct UsesPlan {
    pub recipe: Arc<RecipePlan>,
    pub with: Vec<(String, ValueTpl)>,
}

#[derive(Debug)]
pub struct RequestPlan {
    pub method: reqwest::Method,
    pub url: Tpl,
    pub query: Vec<(String, ValueTpl)>,
    pub headers: Vec<(String, Tpl)>,
    pub body: BodyPlan,
    /// The auth profile, by name; `None` for no auth.
    pub auth: Option<Arc<AuthPlan>>,
    pub expect: StatusSet,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// The largest body read; `None`: the run's default.
    pub max_body: Option<u64>,
    pub rate_limit: Option<crate::recipe::Rate>,
    pub redirects: RedirectPolicy,
    pub idempotent: bool,
}

#[derive(Debug)]
pub enum BodyPlan {
    None,
    Json(ValueTpl),
    Form(Vec<(String, ValueTpl)>),
    Text(Tpl),
    /// Parts, and the folder file paths are relative to (the recipe's).
    Multipart(Vec<PartPlan>, PathBuf),
}

#[derive(Debug)]
pub struct PartPlan {
    pub name: String,
    pub content: PartContent,
    pub filename: Option<Tpl>,
    pub content_type: Option<String>,
}

#[derive(Debug)]
pub enum PartContent {
    Value(ValueTpl),
    File(Tpl),
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub on_status: Vec<u16>,
    pub initial: Duration,
    pub max: Duration,
}

#[derive(Clone, Debug)]
pub struct RedirectPolicy {
    pub follow: bool,
    /// Hosts (`host` or `host:port`, templates allowed) that may receive the Authorization
    /// header after a redirect leaves the original host.
    pub forward_auth_to: Vec<Tpl>,
    pub allow_insecure: bool,
}

#[derive(Debug)]
pub struct CapturePlan {
    pub name: String,
    pub kind: CaptureKind,
    pub single: bool,
    pub optional: bool,
    pub default: Option<serde_json::Value>,
    /// A list capture's fewest matches (`min`).
    pub min: Option<usize>,
}

#[derive(Debug)]
pub enum CaptureKind {
    JsonPath { path: JsonPath, text: String },
    Header(String),
    Regex(regex::Regex),
}

#[derive(Debug)]
pub struct CheckPlan {
    pub that: Tpl,
    pub text: String,
    pub message: Option<Tpl>,
}
