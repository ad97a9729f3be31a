//! The auth model: named profiles of kind `oauth2`, `bearer`, `basic` or `header`.

use std::fmt;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::Duration;

/// An auth profile: exactly one of `oauth2`, `bearer`, `basic`, `header`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthProfile {
    /// OAuth 2.0: whisk fetches, caches and refreshes the access token.
    #[serde(default)]
    pub oauth2: Option<OAuth2>,
    /// A fixed bearer token: `Authorization: Bearer <value>`.
    #[serde(default)]
    pub bearer: Option<String>,
    /// HTTP Basic authentication.
    #[serde(default)]
    pub basic: Option<BasicAuth>,
    /// Any header carrying a credential, e.g. an API key.
    #[serde(default)]
    pub header: Option<HeaderAuth>,
    /// When a response means "refresh the token and resend" (oauth2 only).
    /// Default: any 401.
    #[serde(default)]
    pub refresh_on: Option<Vec<RefreshOn>>,
    /// A TLS client certificate for the requests sent with this profile and its token
    /// requests (mutual TLS), instead of `defaults.client_cert`.
    #[serde(default)]
    pub client_cert: Option<ClientCert>,
}

/// A TLS client certificate and its private key, in PEM: usually `{{ secrets.… }}`, each
/// from an environment variable or a file.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCert {
    /// The certificate, then any intermediate certificates, in PEM.
    pub cert: String,
    /// Its private key in PEM (PKCS#8, PKCS#1 RSA or SEC1 EC; not encrypted).
    pub key: String,
}

/// The OAuth 2.0 grant whisk uses to get tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    ClientCredentials,
    RefreshToken,
    AuthorizationCode,
    /// The JWT bearer grant (RFC 7523 §2.1): a signed `assertion` stands for the grant.
    JwtBearer,
    /// The device authorization grant (RFC 8628): a person signs in once on another device
    /// (`whisk auth login --device`); runs use the stored refresh token.
    DeviceCode,
}

impl Grant {
    pub fn name(self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::RefreshToken => "refresh_token",
            Grant::AuthorizationCode => "authorization_code",
            Grant::JwtBearer => "jwt_bearer",
            Grant::DeviceCode => "device_code",
        }
    }

    /// The `grant_type` sent to the token endpoint.
    pub fn grant_type(self) -> &'static str {
        match self {
            Grant::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            Grant::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            other => other.name(),
        }
    }

    /// Whether the client can always get a new token on its own, without a refresh token or a
    /// person: `client_credentials` and `jwt_bearer`.
    pub fn self_issued(self) -> bool {
        matches!(self, Grant::ClientCredentials | Grant::JwtBearer)
    }

    /// Whether a person signs in once (`whisk auth login`) and runs live on the stored
    /// refresh token: `authorization_code` and `device_code`.
    pub fn signed_in(self) -> bool {
        matches!(self, Grant::AuthorizationCode | Grant::DeviceCode)
    }
}

/// How the client authenticates to the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)`.
    #[default]
    Basic,
    /// `client_id` and `client_secret` as form fields.
    Body,
    /// A JWT signed with the client's private key (RFC 7523 §2.2; `client_assertion.key`).
    PrivateKeyJwt,
    /// A JWT signed (HS256) with the client secret (RFC 7523 §2.2, OpenID Connect §9).
    ClientSecretJwt,
}

/// The signature algorithm of an assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum JwtAlg {
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "PS256")]
    Ps256,
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "HS256")]
    Hs256,
}

/// How whisk makes a JWT assertion: the client assertion of `private_key_jwt` and
/// `client_secret_jwt`, or the `assertion` of the `jwt_bearer` grant. Every field may be a
/// template of inputs and secrets.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtAssertion {
    /// The PEM private key that signs (PKCS#8, or PKCS#1 RSA, or SEC1 EC; not encrypted),
    /// usually `"{{ secrets.private_key }}"`. Not for `client_secret_jwt`, which signs with
    /// the client secret.
    #[serde(default)]
    pub key: Option<String>,
    /// `RS256`, `PS256` or `ES256` with a key (default: RS256 for an RSA key, ES256 for a
    /// P-256 key); `HS256` for `client_secret_jwt`.
    #[serde(default)]
    pub alg: Option<JwtAlg>,
    /// The `kid` header: which of the client's registered keys signed.
    #[serde(default)]
    pub kid: Option<String>,
    /// The `aud` claim (default: the token URL).
    #[serde(default)]
    pub audience: Option<String>,
    /// The `iss` claim (`jwt_bearer`; a client assertion's is the client id).
    #[serde(default)]
    pub issuer: Option<String>,
    /// The `sub` claim (`jwt_bearer`: the user or service account; a client assertion's is the
    /// client id).
    #[serde(default)]
    pub subject: Option<String>,
    /// More claims, as strings (`scope`, ...).
    #[serde(default)]
    pub claims: IndexMap<String, String>,
    /// How long an assertion is valid: `exp` is this long after `iat` (default `60s`).
    #[serde(default)]
    pub lifetime: Option<Duration>,
}

/// An OAuth 2.0 profile.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    /// `client_credentials`, `refresh_token`, `authorization_code`, `jwt_bearer` or
    /// `device_code`.
    pub grant: Grant,
    /// The token endpoint; HTTPS unless it is a loopback address.
    pub token_url: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// `basic` (the default), `body`, `private_key_jwt` or `client_secret_jwt`.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// How the client assertion of `private_key_jwt` / `client_secret_jwt` is made.
    #[serde(default)]
    pub client_assertion: Option<JwtAssertion>,
    /// The assertion of the `jwt_bearer` grant.
    #[serde(default)]
    pub assertion: Option<JwtAssertion>,
    /// The refresh token for the `refresh_token` grant.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Requested scope: a string or a list; omitted when empty.
    #[serde(default)]
    pub scope: Option<Scope>,
    /// Extra form fields for the token request (audience, resource, ...).
    #[serde(default)]
    pub params: IndexMap<String, String>,
    /// Keep tokens across runs under this key in the token store (`[A-Za-z0-9_.-]+`).
    #[serde(default)]
    pub store: Option<String>,
    /// The authorization endpoint (`authorization_code`): where `whisk auth login` sends the
    /// person to sign in. HTTPS unless it is a loopback address.
    #[serde(default)]
    pub authorization_url: Option<String>,
    /// The redirect URI registered for the client (`authorization_code`). A loopback `http`
    /// URI lets `whisk auth login` receive the code itself; any other is pasted back.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// Extra query parameters for the authorization request (`prompt`, `access_type`, ...).
    #[serde(default)]
    pub authorization_params: IndexMap<String, String>,
    /// Use PKCE (RFC 7636, S256) in the authorization request (default `true`).
    #[serde(default)]
    pub pkce: Option<bool>,
    /// The device authorization endpoint (RFC 8628 §3.1): `grant: device_code` signs in there
    /// with `whisk auth login`, an `authorization_code` profile with `--device`. HTTPS unless it
    /// is a loopback address.
    #[serde(default)]
    pub device_authorization_url: Option<String>,
    /// Refresh a token this long before it expires, at most half its lifetime (default `60s`).
    #[serde(default)]
    pub refresh_skew: Option<Duration>,
}

/// An OAuth 2.0 scope: one string, or a list joined with spaces.
#[derive(Clone, Debug, Default, JsonSchema)]
#[serde(untagged)]
pub enum Scope {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Scope {
    /// The scope as sent, or `None` when empty.
    pub fn joined(&self) -> Option<String> {
        let text = match self {
            Scope::None => return None,
            Scope::One(one) => one.trim().to_string(),
            Scope::Many(many) => many.join(" ").trim().to_string(),
        };
        (!text.is_empty()).then_some(text)
    }

    pub fn parts(&self) -> Vec<&str> {
        match self {
            Scope::None => Vec::new(),
            Scope::One(one) => vec![one.as_str()],
            Scope::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScopeVisitor;
        impl<'de> Visitor<'de> for ScopeVisitor {
            type Value = Scope;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scope string or a list of scope strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scope, E> {
                Ok(Scope::One(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scope, E> {
                Ok(Scope::None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scope, A::Error> {
                let mut parts = Vec::new();
                while let Some(part) = seq.next_element::<String>()? {
                    parts.push(part);
                }
                Ok(Scope::Many(parts))
            }
        }
        deserializer.deserialize_any(ScopeVisitor)
    }
}

/// HTTP Basic credentials.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

/// A header that carries a credential.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderAuth {
    pub name: String,
    pub value: String,
}

/// A response that means the token must be refreshed and the request resent.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshOn {
    /// The status that triggers a refresh (default 401).
    #[serde(default)]
    pub status: Option<u16>,
    /// Refresh only when the response body contains this text, e.g. a provider error code.
    #[serde(default)]
    pub body_contains: Option<String>,
}
