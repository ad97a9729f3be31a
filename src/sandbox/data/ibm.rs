//! IBM Connections Cloud seed data: registered apps (OAuth clients), the user, and knobs.

use serde::{Deserialize, Serialize};

/// Registered apps, the one user who auto-approves every authorization, and lifetimes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IbmData {
    pub clients: Vec<IbmClient>,
    pub user: IbmUser,
    /// `false` answers every OAuth endpoint with 403 "OAuth 2.0 is not supported ...".
    pub oauth_enabled: bool,
    /// Whether `/authorize` insists on a PKCE `code_challenge` (S256).
    pub require_pkce: bool,
    /// Seconds (fractions allowed); falls back to the top-level `access_token_lifetime`, then 2 hours.
    pub access_token_lifetime: Option<f64>,
    /// Seconds ("access grant duration"); 90 days by default.
    pub refresh_token_lifetime: u64,
    /// Seconds an authorization code stays redeemable.
    pub code_lifetime: u64,
}

/// One registered app. `subscribed: false` makes its requests fail with
/// `oauth_consumer_missing_subscription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IbmClient {
    pub client_id: String,
    pub client_secret: String,
    /// The registered callback; a loopback `http` URL matches on any port (RFC 8252 §7.3).
    pub redirect_uri: String,
    #[serde(default = "yes")]
    pub subscribed: bool,
}

/// What `getUserIdentity` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IbmUser {
    pub subscriber_id: String,
    pub customer_id: String,
    pub name: String,
    pub email: String,
}

fn yes() -> bool {
    true
}

impl Default for IbmData {
    fn default() -> Self {
        let redirect_uri = "http://127.0.0.1:8765/callback".to_owned();
        Self {
            clients: vec![
                IbmClient {
                    client_id: "whisk-ibm-client".to_owned(),
                    client_secret: "whisk-ibm-secret".to_owned(),
                    redirect_uri: redirect_uri.clone(),
                    subscribed: true,
                },
                IbmClient {
                    client_id: "whisk-ibm-unsubscribed".to_owned(),
                    client_secret: "whisk-ibm-secret".to_owned(),
                    redirect_uri,
                    subscribed: false,
                },
            ],
            user: IbmUser::default(),
            oauth_enabled: true,
            require_pkce: true,
            access_token_lifetime: None,
            refresh_token_lifetime: 90 * 24 * 3600,
            code_lifetime: 600,
        }
    }
}

impl Default for IbmUser {
    fn default() -> Self {
        Self {
            subscriber_id: "20000001".to_owned(),
            customer_id: "10000001".to_owned(),
            name: "Dana Sandbox".to_owned(),
            email: "dana.sandbox@example.com".to_owned(),
        }
    }
}

impl IbmData {
    pub(crate) fn client(&self, client_id: &str) -> Option<&IbmClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }
}
