//! The embedded sandbox: loopback emulations of the seed platforms.
//!
//! `start` binds two listeners on 127.0.0.1 and serves, on the caller's tokio runtime:
//!
//! - **TIBCO Cloud Integration** — `POST /idm/v1/oauth2/token` (client credentials and
//!   rotating refresh tokens) and the API under `/tci/v1`: `GET /subscriptions`,
//!   `POST|DELETE|GET /subscriptions/{locator}/apiservice/access`,
//!   `GET /subscriptions/{locator}/apps`.
//! - **IBM Connections Cloud** — `GET /manage/oauth2/authorize` (auto-approving, PKCE S256),
//!   `POST /manage/oauth2/token`, `GET|POST /manage/oauth/getUserIdentity`, with the provider's
//!   error codes.
//! - **Oracle Integration** — `POST /oauth2/v1/token`, `GET /ic/api/integration/v1/connections`
//!   on the main listener (identity domain and design-time host), and a second listener, the
//!   runtime host, that redirects every `/ic/api/...` call to the design-time host.
//! - `GET /_sandbox/stats` — the counters as JSON.
//!
//! Seed data, lifetimes and injected faults come from `SandboxData` (a YAML/JSON data file).

mod api_error;
mod banner;
mod client_auth;
mod config;
mod data;
mod error;
mod faults;
mod handle;
mod ibm;
mod log;
mod observe;
mod oracle;
mod params;
mod redirect_uri;
mod respond;
mod run;
mod serve;
mod server;
mod state;
mod stats;
mod stats_route;
mod tibco;
mod tokens;
mod urls;

pub use config::SandboxConfig;
pub use data::{
    Fault, FaultKind, FaultSchedule, IbmClient, IbmData, IbmUser, OracleConnection, OracleData,
    SandboxData, TibcoApp, TibcoData, TibcoOrganization,
};
pub use error::SandboxError;
pub use handle::Sandbox;
pub use log::{Listener, LogSink, RequestRecord};
pub use run::run_forever;
pub use server::start;
pub use stats::Stats;
pub use urls::{Credentials, IbmCredentials, OracleCredentials, SandboxUrls, TibcoCredentials};
