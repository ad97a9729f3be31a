//! Auth profiles, validated: one kind per profile, templates compiled, store keys checked.

use std::time::Duration;

use crate::recipe::{ClientAuth, Grant, JwtAlg};

use super::Tpl;

#[derive(Debug)]
pub struct AuthPlan {
    pub name: String,
    pub kind: AuthKind,
    /// When to refresh and resend (oauth2 only); never empty for oauth2.
    pub refresh_on: Vec<RefreshOnPlan>,
    /// The TLS client certificate of its requests and token requests.
    pub client_cert: Option<CertPlan>,
}

/// A TLS client certificate and key, as templates of inputs and secrets.
#[derive(Debug)]
pub struct CertPlan {
    pub cert: Tpl,
    pub key: Tpl,
}

#[derive(Debug)]
pub enum AuthKind {
    OAuth2(Box<OAuth2Plan>),
    Bearer(Tpl),
    Basic { username: Tpl, password: Tpl },
    Header { name: String, value: Tpl },
}

#[derive(Debug)]
pub struct OAuth2Plan {
    pub grant: Grant,
    pub token_url: Tpl,
    pub client_id: Tpl,
    pub client_secret: Option<Tpl>,
    pub client_auth: ClientAuth,
    pub refresh_token: Option<Tpl>,
    pub scope: Vec<Tpl>,
    pub params: Vec<(String, Tpl)>,
    pub refresh_skew: Duration,
    /// The token store key, already checked (`[A-Za-z0-9_.-]+`).
    pub store: Option<String>,
    /// How a person signs in once (`whisk auth login`); always set for `authorization_code`.
    pub login: Option<LoginPlan>,
    /// The device authorization endpoint (`whisk auth login --device`); always set for
    /// `device_code`.
    pub device_authorization_url: Option<Tpl>,
    /// The client assertion of `private_key_jwt` and `client_secret_jwt`.
    pub client_assertion: Option<AssertionPlan>,
    /// The assertion of the `jwt_bearer` grant.
    pub assertion: Option<AssertionPlan>,
}

/// How a JWT assertion is made (RFC 7523); absent claims take their defaults when sent.
#[derive(Debug)]
pub struct AssertionPlan {
    /// The PEM private key; `None` for `client_secret_jwt` (HS256 with the client secret).
    pub key: Option<Tpl>,
    pub alg: Option<JwtAlg>,
    pub kid: Option<Tpl>,
    pub audience: Option<Tpl>,
    pub issuer: Option<Tpl>,
    pub subject: Option<Tpl>,
    pub claims: Vec<(String, Tpl)>,
    pub lifetime: Duration,
}

/// The authorization request of `whisk auth login`.
#[derive(Debug)]
pub struct LoginPlan {
    pub authorization_url: Tpl,
    pub redirect_uri: Tpl,
    pub params: Vec<(String, Tpl)>,
    pub pkce: bool,
}

#[derive(Clone, Debug)]
pub struct RefreshOnPlan {
    pub status: u16,
    pub body_contains: Option<String>,
}

impl RefreshOnPlan {
    pub fn matches(&self, status: u16, body: &[u8]) -> bool {
        status == self.status
            && self
                .body_contains
                .as_ref()
                .is_none_or(|needle| String::from_utf8_lossy(body).contains(needle.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_conditions() {
        let any = RefreshOnPlan {
            status: 401,
            body_contains: None,
        };
        assert!(any.matches(401, b"x") && !any.matches(403, b"x"));
        let code = RefreshOnPlan {
            status: 401,
            body_contains: Some("expired".into()),
        };
        assert!(code.matches(401, b"{\"error\":\"oauth_access_token_expired\"}"));
        assert!(!code.matches(401, b"{\"error\":\"oauth_invalid_accesstoken\"}"));
    }
}
