//! TIBCO Cloud Integration seed data: the OAuth client, the organizations and their apps.

use serde::{Deserialize, Serialize};

use super::defaults;

/// The TIBCO client, its organization family tree and token lifetimes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TibcoData {
    pub client_id: String,
    pub client_secret: String,
    /// The refresh token handed out "in the user settings"; single use, like every other.
    pub refresh_token: String,
    /// The only scope the token endpoint grants.
    pub scope: String,
    /// Subscription locator of the organization that owns the client and its tokens.
    pub token_org: String,
    /// Seconds (fractions allowed); falls back to the top-level `access_token_lifetime`, then 8 hours.
    pub access_token_lifetime: Option<f64>,
    /// Seconds; 7 days by default.
    pub refresh_token_lifetime: u64,
    /// Apps per page of `GET .../apps` when the request gives no `limit` (0: all at once);
    /// the next page is in a `Link: <...>; rel="next"` header.
    pub apps_page_size: usize,
    /// Polls of `GET .../apps/{id}` that see a started app `Starting` before it is `Running`.
    pub start_polls: u32,
    pub organizations: Vec<TibcoOrganization>,
}

/// One organization; `parent` names the parent's locator for a child organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TibcoOrganization {
    pub locator: String,
    pub name: String,
    #[serde(default)]
    pub parent: Option<String>,
    /// Whether API access starts enabled (the vendor's default is disabled).
    #[serde(default)]
    pub api_access: bool,
    #[serde(default)]
    pub apps: Vec<TibcoApp>,
}

/// One app as `GET /v1/subscriptions/{locator}/apps` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TibcoApp {
    pub id: String,
    pub name: String,
    #[serde(default = "running")]
    pub state: String,
}

fn running() -> String {
    "Running".to_owned()
}

impl Default for TibcoData {
    fn default() -> Self {
        Self {
            client_id: "whisk-demo-client".to_owned(),
            client_secret: "whisk-demo-secret".to_owned(),
            refresh_token: "whisk-demo-refresh-token".to_owned(),
            scope: "TCI".to_owned(),
            token_org: "100".to_owned(),
            access_token_lifetime: None,
            refresh_token_lifetime: 7 * 24 * 3600,
            apps_page_size: 2,
            start_polls: 3,
            organizations: defaults::tibco_organizations(),
        }
    }
}

impl TibcoData {
    pub(crate) fn organization(&self, locator: &str) -> Option<&TibcoOrganization> {
        self.organizations.iter().find(|org| org.locator == locator)
    }
}
