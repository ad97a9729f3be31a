//! Plan → results and events: the step loop, template context, HTTP, captures, checks, retry
//! policy, and (in `auth`) the token manager.

pub mod auth;
mod capture;
mod client;
mod context;
mod decision;
mod direct;
mod dry;
mod gate;
pub(crate) mod http;
mod limits;
pub mod link;
pub mod multipart;
pub(crate) mod request;
mod resume;
mod retry;
mod run;
mod schedule;
pub mod shard;
mod step_data;
mod stop;
pub mod tls;
mod transport;
mod url_cache;
mod walk;

pub use client::Client;
pub use dry::shell::literal as shell_word;
pub use dry::{DryRun, dry_run};
pub use resume::Resume;
pub use stop::Stop;
pub use transport::{Failure, Transport};

use std::sync::Arc;
use std::time::Instant;

use crate::event::{Event, EventSink};
use crate::plan::Plan;
use crate::plan::bind::{Bound, Env};
use crate::result::{RunResult, Status};

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
    pub token_store: Option<crate::store::TokenStore>,
    /// Certificate authorities trusted besides the system's (`--ca-cert`).
    pub ca_certs: CaCerts,
    /// Where requests go: the network, recorded, or a cassette.
    pub transport: Transport,
    /// Threads that share the items of a loop (live runs on the direct client only). The
    /// calling thread waits for them: nothing the run needs may be served by its runtime.
    pub threads: usize,
    /// The process ends after this run (the CLI): what only the run itself reads is left to the
    /// exit rather than freed piece by piece.
    pub exit_after: bool,
    /// This run is one shard of several (`--shard`).
    pub shard: Option<shard::Shard>,
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
            ca_certs: CaCerts::default(),
            transport: Transport::Live,
            threads: 1,
            exit_after: false,
            shard: None,
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
    let client = Client::choose(&options.transport, &options.ca_certs);
    let runner = run::Runner {
        plan,
        bound,
        auth: auth::AuthManager::new(
            client.clone(),
            plan.redactor.clone(),
            options.token_store.clone(),
        ),
        client,
        limits: limits::Limits::new(
            options.max_concurrency,
            options.shard.map_or(1, |s| s.count),
        ),
        events: run::Events {
            sink,
            interest: sink.interest(),
        },
        options,
    };
    let outcome = walk::Walker::new(&runner)
        .recipe(&plan.root, &bound.inputs)
        .await;
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

/// Certificate authorities trusted besides the system's (`--ca-cert`): parsed for reqwest, and
/// as PEM for the direct client.
#[derive(Clone, Debug, Default)]
pub struct CaCerts {
    pub certs: Vec<reqwest::Certificate>,
    pub pem: Vec<Vec<u8>>,
}

/// Reads a PEM file of certificate authorities to trust besides the system's.
pub fn read_ca_certs(path: &std::path::Path) -> Result<CaCerts, String> {
    let pem = crate::source::read::bytes(path, crate::source::read::CA_CERT)
        .map_err(|e| format!("cannot read CA certificates `{}`: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("`{}` is not a PEM certificate bundle: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("`{}` holds no PEM certificate", path.display()));
    }
    Ok(CaCerts {
        certs,
        pem: vec![pem],
    })
}
