//! The URLs and credentials a recipe needs to talk to a running sandbox.

use serde::Serialize;

use super::data::SandboxData;
use super::{ibm, oracle, tibco};

/// Every URL a recipe needs. Bases have no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SandboxUrls {
    /// `http://127.0.0.1:PORT`, the main listener.
    pub base: String,
    /// TIBCO API base (`{base}/tci`); recipes append `/v1/subscriptions/...`.
    pub tci_base: String,
    pub tci_token_url: String,
    pub ibm_authorize_url: String,
    pub ibm_token_url: String,
    /// IBM `<app_server>`; protected resources live under it (`/manage/oauth/getUserIdentity`).
    pub ibm_api_base: String,
    pub ibm_user_identity_url: String,
    pub oracle_token_url: String,
    /// Oracle design-time host; recipes append `/ic/api/integration/v1/connections`.
    pub oracle_design_time_base: String,
    /// Oracle runtime host (second listener); every `/ic/api/...` redirects to design time.
    pub oracle_runtime_base: String,
    /// `GET` here for the counters as JSON.
    pub stats_url: String,
}

impl SandboxUrls {
    pub(crate) fn new(base: &str, runtime_base: &str) -> Self {
        Self {
            base: base.to_owned(),
            tci_base: format!("{base}{}", tibco::API_BASE_PATH),
            tci_token_url: format!("{base}{}", tibco::TOKEN_PATH),
            ibm_authorize_url: format!("{base}{}", ibm::AUTHORIZE_PATH),
            ibm_token_url: format!("{base}{}", ibm::TOKEN_PATH),
            ibm_api_base: base.to_owned(),
            ibm_user_identity_url: format!("{base}{}", ibm::IDENTITY_PATH),
            oracle_token_url: format!("{base}{}", oracle::TOKEN_PATH),
            oracle_design_time_base: base.to_owned(),
            oracle_runtime_base: runtime_base.to_owned(),
            stats_url: format!("{base}{}", super::stats_route::PATH),
        }
    }
}

/// The credentials the sandbox accepts, per platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credentials {
    pub tibco: TibcoCredentials,
    pub ibm: IbmCredentials,
    pub oracle: OracleCredentials,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TibcoCredentials {
    pub client_id: String,
    pub client_secret: String,
    /// Single use: the refresh answer carries the next one.
    pub refresh_token: String,
    pub scope: String,
    /// Locator of the token's organization (also reachable as `0`).
    pub organization: String,
    /// Locators of its child organizations.
    pub children: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IbmCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OracleCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub scope: String,
}

impl Credentials {
    pub(crate) fn new(data: &SandboxData) -> Self {
        let tibco = &data.tibco;
        let children = tibco
            .organizations
            .iter()
            .filter(|org| org.parent.as_deref() == Some(tibco.token_org.as_str()))
            .map(|org| org.locator.clone())
            .collect();
        let ibm = data
            .ibm
            .clients
            .iter()
            .find(|c| c.subscribed)
            .or(data.ibm.clients.first());
        Self {
            tibco: TibcoCredentials {
                client_id: tibco.client_id.clone(),
                client_secret: tibco.client_secret.clone(),
                refresh_token: tibco.refresh_token.clone(),
                scope: tibco.scope.clone(),
                organization: tibco.token_org.clone(),
                children,
            },
            ibm: IbmCredentials {
                client_id: ibm.map(|c| c.client_id.clone()).unwrap_or_default(),
                client_secret: ibm.map(|c| c.client_secret.clone()).unwrap_or_default(),
                redirect_uri: ibm.map(|c| c.redirect_uri.clone()).unwrap_or_default(),
            },
            oracle: OracleCredentials {
                client_id: data.oracle.client_id.clone(),
                client_secret: data.oracle.client_secret.clone(),
                scope: data.oracle.scope.clone(),
            },
        }
    }
}
