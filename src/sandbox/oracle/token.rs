//! `POST /oauth2/v1/token`: client credentials only, with Basic client authentication or an
//! RS256 client assertion (`private_key_jwt`, see `assertion.rs`), and exactly the
//! application's scope.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::sandbox::params::Params;
use crate::sandbox::respond::{BasicAuth, bad_form, basic, expires_in, token as token_response};
use crate::sandbox::state::Shared;
use crate::sandbox::tokens::{Grant, Platform};

pub(crate) async fn token(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let oauth_error =
        |code: &str, description: &str| state.refuse_token("oracle", code, description);
    let params = Params::parse(&String::from_utf8_lossy(&body));
    let grant_type = params.get("grant_type");
    state.with(|inner| inner.stats.record_token_request("oracle", grant_type));
    if let Some(refusal) = bad_form(&headers, &params) {
        return refusal;
    }
    let oracle = &state.data.oracle;
    if let Some(kind) = params.get("client_assertion_type") {
        if !matches!(basic(&headers), BasicAuth::Absent) || params.get("client_secret").is_some() {
            return oauth_error(
                "invalid_request",
                "the client authenticated more than one way: send the client assertion alone",
            );
        }
        if kind != super::assertion::ASSERTION_TYPE {
            let message = format!(
                "`client_assertion_type` must be `{}`",
                super::assertion::ASSERTION_TYPE
            );
            return oauth_error("invalid_client", &message);
        }
        let Some(jwt) = params.get("client_assertion") else {
            return oauth_error(
                "invalid_request",
                "the `client_assertion` parameter is missing",
            );
        };
        let Some(public_key) = super::assertion::public_key(oracle) else {
            return oauth_error("invalid_client", "the client has no usable certificate");
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        match super::assertion::verify(oracle, &public_key, jwt, now) {
            Ok(jti) => {
                if !state.with(|inner| inner.oracle_jtis.insert(jti)) {
                    return oauth_error(
                        "invalid_client",
                        "the client assertion was used before (`jti`)",
                    );
                }
            }
            Err(message) => return oauth_error("invalid_client", &message),
        }
        return issue(&state, &params, oracle.client_id.clone());
    }
    let (id, secret) = match basic(&headers) {
        BasicAuth::Credentials { id, secret } => (id, secret),
        BasicAuth::Absent => {
            let message = "client authentication failed: send `Authorization: Basic base64(client_id:client_secret)`";
            return oauth_error("invalid_client", message);
        }
        BasicAuth::Malformed => {
            return oauth_error(
                "invalid_client",
                "the Basic credentials do not decode to `id:secret`",
            );
        }
    };
    if id != oracle.client_id || secret != oracle.client_secret {
        return oauth_error("invalid_client", "client authentication failed");
    }
    issue(&state, &params, id)
}

/// The grant and scope checks, then an access token for the authenticated client `id`.
fn issue(state: &Shared, params: &Params, id: String) -> Response {
    let oauth_error =
        |code: &str, description: &str| state.refuse_token("oracle", code, description);
    let oracle = &state.data.oracle;
    let grant_type = params.get("grant_type");
    match grant_type {
        None => return oauth_error("invalid_request", "the `grant_type` parameter is missing"),
        Some("client_credentials") => {}
        Some(other) => {
            let message =
                format!("grant type `{other}` is not supported; expected `client_credentials`");
            return oauth_error("unsupported_grant_type", &message);
        }
    }
    match params.get("scope") {
        None => return oauth_error("invalid_request", "the `scope` parameter is missing"),
        Some(scope) if scope != oracle.scope => {
            let message =
                format!("scope `{scope}` is not the scope of the confidential application");
            return oauth_error("invalid_scope", &message);
        }
        Some(_) => {}
    }
    let ttl = state.data.oracle_access_lifetime();
    let grant = Grant {
        subject: id.clone(),
        client_id: id,
    };
    let access = state.with(|inner| {
        let (access, replaced) = inner.tokens.issue_access(Platform::Oracle, grant, ttl);
        inner.stats.record_grant("oracle", replaced);
        access
    });
    token_response(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in(ttl),
    }))
}
