//! End-to-end tests: the `whisk` binary against real HTTP servers on 127.0.0.1.

mod auth_login;
mod auth_recipes;
mod cassettes;
mod cli_help;
mod docs;
mod dry_run;
mod errors;
mod fault_matrix;
mod features;
mod flow;
mod format_example;
mod harness;
mod interop;
mod jsonpath_cts;
mod multipart;
mod oauth_refresh;
mod oauth_support;
mod outputs;
mod postgres_store;
mod resilience;
mod schema;
mod shards;
mod shipped;
mod terminal;
mod threads;
mod token_store;
