//! `POST /idm/v1/oauth2/token`: client credentials and rotating refresh tokens, Basic or
//! form client authentication, RFC 6749 §5.2 errors.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::sandbox::client_auth::{ClientAuth, client_auth};
use crate::sandbox::params::Params;
use crate::sandbox::respond::{bad_form, expires_in, token as token_response};
use crate::sandbox::state::Shared;
use crate::sandbox::tokens::{Grant, Platform, RefreshCheck};

pub(crate) async fn token(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let oauth_error =
        |code: &str, description: &str| state.refuse_token("tibco", code, description);
    let params = Params::parse(&String::from_utf8_lossy(&body));
    let grant_type = params.get("grant_type");
    state.with(|inner| inner.stats.record_token_request("tibco", grant_type));
    if let Some(refusal) = bad_form(&headers, &params) {
        return refusal;
    }
    let Some(grant_type) = grant_type else {
        return oauth_error("invalid_request", "the `grant_type` parameter is missing");
    };
    let tibco = &state.data.tibco;
    let creds = match client_auth(&headers, &params) {
        ClientAuth::Basic(creds) | ClientAuth::Body(creds) => creds,
        ClientAuth::Missing => {
            let message = "client authentication is required: send `Authorization: Basic` or `client_id` and `client_secret`";
            return oauth_error("invalid_client", message);
        }
        ClientAuth::Malformed => {
            return oauth_error(
                "invalid_client",
                "the Basic credentials do not decode to `id:secret`",
            );
        }
        ClientAuth::Ambiguous => {
            return oauth_error(
                "invalid_request",
                "the client authenticated in more than one way",
            );
        }
    };
    if creds.id != tibco.client_id || creds.secret != tibco.client_secret {
        return oauth_error("invalid_client", "unknown client or wrong client secret");
    }
    if let Some(scope) = params.get("scope")
        && scope.split(' ').any(|s| !s.is_empty() && s != tibco.scope)
    {
        let message = format!(
            "scope `{scope}` is not granted; the only scope is `{}`",
            tibco.scope
        );
        return oauth_error("invalid_scope", &message);
    }
    match grant_type {
        "client_credentials" => issue(&state, tibco.token_org.clone()),
        "refresh_token" => refresh(&state, &params, &creds.id)
            .unwrap_or_else(|(code, message)| oauth_error(code, &message)),
        other => {
            let message = format!(
                "grant type `{other}` is not supported; expected `client_credentials` or `refresh_token`"
            );
            oauth_error("unsupported_grant_type", &message)
        }
    }
}

/// The refresh-token grant: new tokens, or the RFC 6749 §5.2 code and description.
fn refresh(
    state: &Shared,
    params: &Params,
    client_id: &str,
) -> Result<Response, (&'static str, String)> {
    let Some(refresh_token) = params.get("refresh_token") else {
        return Err((
            "invalid_request",
            "the `refresh_token` parameter is missing".into(),
        ));
    };
    let now = Instant::now();
    let check = state.with(|inner| {
        inner
            .tokens
            .redeem_refresh(Platform::Tibco, refresh_token, true, now)
    });
    let message = match check {
        RefreshCheck::Valid(grant) if grant.client_id == client_id => {
            return Ok(issue(state, grant.subject));
        }
        RefreshCheck::Valid(_) => "the refresh token was issued to another client",
        RefreshCheck::Used => {
            "the refresh token has already been used; every refresh returns a new refresh token"
        }
        RefreshCheck::Expired => "the refresh token has expired",
        RefreshCheck::Unknown => "the refresh token is not valid",
    };
    Err(("invalid_grant", message.into()))
}

fn issue(state: &Shared, org: String) -> Response {
    let data = &state.data;
    let access_ttl = data.tibco_access_lifetime();
    let refresh_ttl = Duration::from_secs(data.tibco.refresh_token_lifetime);
    let grant = Grant {
        subject: org,
        client_id: data.tibco.client_id.clone(),
    };
    let (access, refresh) = state.with(|inner| {
        let (access, replaced) =
            inner
                .tokens
                .issue_access(Platform::Tibco, grant.clone(), access_ttl);
        inner.stats.record_grant("tibco", replaced);
        let refresh = inner
            .tokens
            .issue_refresh(Platform::Tibco, grant, refresh_ttl);
        (access, refresh)
    });
    token_response(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in(access_ttl),
        "refresh_token": refresh,
        "refresh_token_expires_in": refresh_ttl.as_secs(),
        "scope": data.tibco.scope,
    }))
}
