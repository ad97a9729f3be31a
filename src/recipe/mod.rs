//! The recipe model: serde types that mirror the YAML exactly, with no validation beyond shape.
//! `plan` turns a `Recipe` into something that can run.

mod auth;
mod duration;
mod flow;
pub mod load;
mod model;
mod positions;
mod size;
mod step;

pub use auth::{
    AuthProfile, BasicAuth, ClientAuth, ClientCert, Grant, HeaderAuth, JwtAlg, JwtAssertion,
    OAuth2, RefreshOn, Scope,
};
pub use duration::Duration;
pub use flow::{CursorPaging, OffsetPaging, OnMax, Paginate, Until};
pub use load::{LoadError, load_file, load_str};
pub use model::{Backoff, Defaults, Input, InputType, Recipe, Redirects, Retry, SecretSource};
pub use size::{Rate, Size};
pub use step::{
    Capture, CaptureSpec, Check, Concurrency, Expect, ForEach, FormPart, Request, Step,
};
