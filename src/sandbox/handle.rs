//! The handle of a running sandbox: its URLs, credentials, counters, banner and shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::banner;
use super::state::Shared;
use super::stats::Stats;
use super::urls::{Credentials, SandboxUrls};

/// How long `shutdown` waits for in-flight requests before it abandons them.
const GRACE: Duration = Duration::from_secs(5);

/// A running sandbox. Dropping it stops the servers too (without waiting).
#[derive(Debug)]
pub struct Sandbox {
    main_addr: SocketAddr,
    runtime_addr: SocketAddr,
    state: Shared,
    urls: SandboxUrls,
    credentials: Credentials,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Sandbox {
    pub(crate) fn new(
        main_addr: SocketAddr,
        runtime_addr: SocketAddr,
        state: Shared,
        stop: watch::Sender<bool>,
        tasks: Vec<JoinHandle<()>>,
    ) -> Self {
        let urls = SandboxUrls::new(
            &format!("http://{main_addr}"),
            &format!("http://{runtime_addr}"),
        );
        let credentials = Credentials::new(&state.data);
        Self {
            main_addr,
            runtime_addr,
            state,
            urls,
            credentials,
            stop,
            tasks,
        }
    }

    /// `http://127.0.0.1:PORT` of the main listener (TIBCO, IBM, Oracle identity and design time).
    pub fn base_url(&self) -> String {
        self.urls.base.clone()
    }

    /// `http://127.0.0.1:PORT` of the Oracle runtime listener.
    pub fn oracle_runtime_url(&self) -> String {
        self.urls.oracle_runtime_base.clone()
    }

    pub fn main_addr(&self) -> SocketAddr {
        self.main_addr
    }

    pub fn runtime_addr(&self) -> SocketAddr {
        self.runtime_addr
    }

    pub fn urls(&self) -> SandboxUrls {
        self.urls.clone()
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.state.with(|inner| inner.stats.clone())
    }

    /// What `whisk sandbox` prints: the URLs and the credentials it accepts.
    pub fn banner(&self) -> String {
        banner::render(&self.urls, &self.credentials, &self.state.data)
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s), and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}
