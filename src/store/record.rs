//! What one token file holds: the client it belongs to, the tokens, when the access token
//! expires (absolute Unix time, so that another process can reuse it), and which refresh token
//! from a recipe seeded it.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file format version this whisk writes and reads.
pub const VERSION: u32 = 1;

/// One stored token set. `Debug` never shows a token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    /// The token endpoint and client the tokens were issued by and to.
    pub token_url: String,
    pub client_id: String,
    /// The grant that produced the record: `authorization_code` (a sign-in), `refresh_token`,
    /// `client_credentials`.
    pub obtained_by: String,
    #[serde(default)]
    pub access_token: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch; `None`: unknown.
    #[serde(default)]
    pub expires_at: Option<u64>,
    /// The same moment in milliseconds, which whisk reads in preference: tokens may live for
    /// less than a second. Absent in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// The access token's lifetime in seconds as the server gave it (`expires_in`).
    #[serde(default)]
    pub lifetime: Option<u64>,
    /// The same lifetime in milliseconds, read in preference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_ms: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// SHA-256 (hex) of the recipe's `refresh_token` this record descends from; `None` when it
    /// came from a sign-in or a grant without one.
    #[serde(default)]
    pub seed_sha256: Option<String>,
    /// When the record was written, in seconds since the Unix epoch.
    pub updated_at: u64,
}

impl Record {
    /// Whether the record belongs to this token endpoint and client.
    pub fn belongs_to(&self, token_url: &str, client_id: &str) -> bool {
        self.token_url == token_url && self.client_id == client_id
    }

    /// When the access token expires, in milliseconds since the Unix epoch.
    pub fn expires_ms(&self) -> Option<u64> {
        self.expires_at_ms
            .or_else(|| self.expires_at.map(|s| s.saturating_mul(1000)))
    }

    /// The access token's lifetime.
    pub fn lifetime(&self) -> Option<std::time::Duration> {
        self.lifetime_ms
            .map(std::time::Duration::from_millis)
            .or_else(|| self.lifetime.map(std::time::Duration::from_secs))
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = |token: &Option<String>| if token.is_some() { "***" } else { "none" };
        f.debug_struct("Record")
            .field("version", &self.version)
            .field("token_url", &self.token_url)
            .field("obtained_by", &self.obtained_by)
            .field("access_token", &held(&self.access_token))
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &held(&self.refresh_token))
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The digest recorded for a seeding refresh token: it identifies the token without storing it
/// a second time.
pub fn seed_digest(refresh_token: &str) -> String {
    Sha256::digest(refresh_token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_tokens() {
        let record = Record {
            version: VERSION,
            token_url: "https://idp.example/token".into(),
            client_id: "c".into(),
            obtained_by: "refresh_token".into(),
            access_token: Some("at-secret-1".into()),
            expires_at: Some(10),
            expires_at_ms: None,
            lifetime: Some(5),
            lifetime_ms: None,
            refresh_token: Some("rt-secret-2".into()),
            seed_sha256: None,
            updated_at: 5,
        };
        let text = format!("{record:?}");
        assert!(!text.contains("at-secret-1") && !text.contains("rt-secret-2"));
        assert!(record.belongs_to("https://idp.example/token", "c"));
        assert!(!record.belongs_to("https://idp.example/token", "d"));
    }

    #[test]
    fn seed_digest_is_sha256_hex() {
        assert_eq!(
            seed_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
