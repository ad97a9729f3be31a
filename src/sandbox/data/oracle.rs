//! Oracle Integration seed data: the confidential client, its scope, and the connections.

use serde::{Deserialize, Serialize};

use super::defaults;

/// The identity-domain client, the design-time objects and the runtime redirect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OracleData {
    pub client_id: String,
    pub client_secret: String,
    /// The one scope the confidential application was given; requests must name exactly it.
    pub scope: String,
    /// Seconds (fractions allowed); falls back to the top-level `access_token_lifetime`, then 3600.
    pub access_token_lifetime: Option<f64>,
    pub connections: Vec<OracleConnection>,
    /// Connections per page when a request gives no `limit` (0: all at once).
    pub page_size: usize,
    /// Status of the runtime host's redirect to the design-time host (301, 302, 303, 307, 308).
    pub redirect_status: u16,
    /// The PEM private key (PKCS#8 RSA) whose certificate the client registered: the token
    /// endpoint takes RS256 client assertions signed with it (`private_key_jwt`) instead of
    /// the secret. A test key, shipped in recipes/oracle/examples/.
    pub client_key: String,
}

/// The sandbox client's key, as recipes/oracle/examples/sandbox-client-key.pem ships it.
pub const CLIENT_KEY: &str =
    include_str!("../../../recipes/oracle/examples/sandbox-client-key.pem");

/// One connection as `GET /ic/api/integration/v1/connections` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleConnection {
    pub id: String,
    pub name: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl Default for OracleData {
    fn default() -> Self {
        Self {
            client_id: "whisk-oracle-client".to_owned(),
            client_secret: "whisk-oracle-secret".to_owned(),
            scope: "https://whisk-sandbox.integration.ocp.oraclecloud.com:443urn:opc:resource:consumer::all".to_owned(),
            access_token_lifetime: None,
            connections: defaults::oracle_connections(),
            page_size: 2,
            redirect_status: 307,
            client_key: CLIENT_KEY.to_owned(),
        }
    }
}
