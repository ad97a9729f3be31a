//! whisk runs declarative YAML recipes against OAuth-protected HTTP APIs.
//!
//! The modules follow the data flow: `source` and `recipe` load a file into a typed model,
//! `plan` validates it into a `Plan`, `exec` runs the plan and emits `event`s, and `report`
//! turns results into JSON, text and other formats. `diagnostic` renders every user-facing error;
//! `redact` masks secrets in everything that is printed or written. `store` keeps OAuth2 tokens
//! across runs, and `login` holds the pieces of a person's one-time `authorization_code` sign-in.

pub mod cassette;
pub mod cli;
pub mod diagnostic;
pub mod event;
pub mod exec;
/// Entry points of the fuzz targets (`fuzz/`, feature `fuzzing`) and their regression tests.
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod login;
pub mod memory;
pub mod plan;
pub mod plural;
pub mod recipe;
pub mod redact;
pub mod report;
pub mod result;
pub mod sandbox;
pub mod session;
pub mod source;
pub mod store;
pub mod urls;
