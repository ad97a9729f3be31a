//! Plan → results and events: the step loop, template context, HTTP, captures, checks, retry
//! policy, and (in `auth`) the token manager.

pub mod auth;
mod capture;
mod context;
pub(crate) mod http;
mod limits;
mod request;
mod result;
mod resume;
mod retry;
mod runner;
mod stop;

pub use result::*;
pub use resume::Resume;
pub use stop::Stop;

use std::sync::Arc;
use std::time::Instant;

use crate::event::{Event, EventSink};
use crate::plan::Plan;
use crate::plan::bind::{Bound, Env};

/// Settings of a run that do not come from the recipe.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The largest response body read, in bytes.
    pub max_body: usize,
    /// An upper bound on every step's `concurrency`.
    pub max_concurrency: usize,
    /// Environment for inputs of used recipes.
    pub env: Env,
    /// Set by SIGINT/SIGTERM.
    pub stop: Arc<Stop>,
    /// An earlier report whose succeeded steps and iterations are carried over.
    pub resume: Option<Arc<Resume>>,
    /// The token store directory for auth profiles with `store:`.
    pub token_store: Option<std::path::PathBuf>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            max_body: 16 * 1024 * 1024,
            max_concurrency: 256,
            env: Env::default(),
            stop: Arc::new(Stop::default()),
            resume: None,
            token_store: None,
        }
    }
}

/// Runs a validated plan with its bound values.
pub async fn run(
    plan: &Plan,
    bound: &Bound,
    options: RunOptions,
    sink: &dyn EventSink,
) -> RunResult {
    let started = Instant::now();
    sink.emit(&Event::RunStarted {
        recipe: plan.root.name.clone(),
    });
    let clients = limits::Clients::new();
    let client = match limits::build(std::time::Duration::from_secs(10)) {
        Ok(client) => client,
        Err(error) => {
            return RunResult {
                status: Status::Failed,
                steps: Vec::new(),
                outputs: None,
                error: Some(ErrorInfo::new(
                    ErrorKind::Network,
                    format!("cannot set up the HTTP client: {error}"),
                )),
            };
        }
    };
    let runner = runner::Runner {
        plan,
        bound,
        auth: auth::AuthManager::new(client, plan.redactor.clone(), options.token_store.clone()),
        clients,
        rates: limits::RateLimits::default(),
        gate: tokio::sync::Semaphore::new(options.max_concurrency.max(1)),
        sink,
        options,
    };
    let outcome = runner.run_recipe(&plan.root, bound.inputs.clone()).await;
    let status = if outcome.interrupted {
        Status::Interrupted
    } else if outcome.failed {
        Status::Failed
    } else {
        Status::Succeeded
    };
    sink.emit(&Event::RunFinished {
        status,
        duration_ms: started.elapsed().as_millis() as u64,
    });
    RunResult {
        status,
        steps: outcome.steps,
        outputs: outcome.outputs,
        error: outcome.error,
    }
}

/// A client like a run's token client, for token requests outside a run (`whisk auth login`).
pub fn client() -> reqwest::Result<reqwest::Client> {
    limits::build(std::time::Duration::from_secs(10))
}
