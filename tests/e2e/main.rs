//! End-to-end tests: the `whisk` binary against real HTTP servers on 127.0.0.1.

mod errors;
mod features;
mod format_example;
mod harness;
mod jsonpath_cts;
mod outputs;
mod schema;
mod shipped;
