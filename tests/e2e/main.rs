//! End-to-end tests: the `whisk` binary against real HTTP servers on 127.0.0.1.

mod harness;
mod format_example;
mod schema;
mod errors;
mod features;
