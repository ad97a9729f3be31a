//! The state every handler shares: seed data, issued tokens, enabled organizations,
//! authorization codes, faults and counters, behind one lock that is never held across an await.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::data::SandboxData;
use super::faults::FaultBook;
use super::log::LogSink;
use super::stats::Stats;
use super::tokens::{Grant, Platform, TokenStore};

/// Shared by every handler of both listeners.
pub(crate) type Shared = Arc<AppState>;

#[derive(Debug)]
pub(crate) struct AppState {
    pub data: SandboxData,
    /// `http://127.0.0.1:PORT` of the main listener, where the runtime host redirects.
    pub design_time_base: String,
    pub log: LogSink,
    /// Turns true when the sandbox stops (what a hanging request waits for).
    pub stopped: watch::Receiver<bool>,
    inner: Mutex<Inner>,
}

/// Everything that changes while the sandbox runs.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub tokens: TokenStore,
    /// Locators of TIBCO organizations whose API access is enabled.
    pub tibco_enabled: BTreeSet<String>,
    pub ibm_codes: HashMap<String, AuthCode>,
    pub faults: FaultBook,
    pub stats: Stats,
    /// Apps being started, by organization and app id: the polls they still answer
    /// `Starting` to.
    pub tibco_starting: HashMap<(String, String), u32>,
    /// The `jti` of every Oracle client assertion accepted: each is good once.
    pub oracle_jtis: std::collections::HashSet<String>,
}

/// An IBM authorization code waiting for its exchange.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub expires_at: Instant,
    pub used: bool,
}

impl AppState {
    pub(crate) fn new(
        data: SandboxData,
        design_time_base: String,
        log: LogSink,
        stopped: watch::Receiver<bool>,
    ) -> Self {
        let mut inner = Inner {
            tibco_enabled: data
                .tibco
                .organizations
                .iter()
                .filter(|org| org.api_access)
                .map(|org| org.locator.clone())
                .collect(),
            faults: FaultBook::new(&data.faults, data.fault_schedule.as_ref()),
            tokens: TokenStore::keyed(&data.token_key()),
            ..Inner::default()
        };
        let grant = Grant {
            subject: data.tibco.token_org.clone(),
            client_id: data.tibco.client_id.clone(),
        };
        let ttl = Duration::from_secs(data.tibco.refresh_token_lifetime);
        inner
            .tokens
            .seed_refresh(&data.tibco.refresh_token, Platform::Tibco, grant, ttl);
        Self {
            data,
            design_time_base,
            log,
            stopped,
            inner: Mutex::new(inner),
        }
    }

    /// An RFC 6749 §5.2 refusal from `platform`'s token endpoint, counted by its code.
    pub(crate) fn refuse_token(
        &self,
        platform: &str,
        code: &str,
        description: &str,
    ) -> axum::response::Response {
        self.with(|inner| inner.stats.record_token_error(platform, code));
        super::respond::oauth_error(code, description)
    }

    /// Runs `f` with the lock held. A panic elsewhere cannot leave the data half-written in
    /// a way that matters to an emulator, so a poisoned lock is simply taken over.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut inner)
    }
}
