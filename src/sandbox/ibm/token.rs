//! `POST /manage/oauth2/token`: exchanges a code (verifying PKCE and the redirect URI) or a
//! refresh token (not rotated: it stays valid for its whole lifetime).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::errors::{IbmError, check_parameters};
use super::pkce;
use crate::sandbox::client_auth::{ClientAuth, client_auth};
use crate::sandbox::data::IbmClient;
use crate::sandbox::params::Params;
use crate::sandbox::respond::{BasicAuth, basic, expires_in, token as token_response};
use crate::sandbox::state::Shared;
use crate::sandbox::tokens::{Grant, Platform, RefreshCheck};

const CODE_PARAMS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "client_secret",
    "code_verifier",
];
const REFRESH_PARAMS: &[&str] = &["grant_type", "refresh_token", "client_id", "client_secret"];

pub(crate) async fn token(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or_default())
        .merged(Params::parse(&String::from_utf8_lossy(&body)));
    let grant_type = params.get("grant_type");
    state.with(|inner| inner.stats.record_token_request("ibm", grant_type));
    exchange(&state, &headers, &params).unwrap_or_else(|error| error.response())
}

fn exchange(state: &Shared, headers: &HeaderMap, params: &Params) -> Result<Response, IbmError> {
    let ibm = &state.data.ibm;
    if !ibm.oauth_enabled {
        return Err(IbmError::NotSupported);
    }
    let duplicated = params.duplicated();
    if !duplicated.is_empty() {
        return Err(IbmError::Duplicated(duplicated));
    }
    let (allowed, mut required) = match params.get("grant_type") {
        None => return Err(IbmError::Absent(vec!["grant_type".to_owned()])),
        Some("authorization_code") => (CODE_PARAMS, vec!["code", "redirect_uri"]),
        Some("refresh_token") => (REFRESH_PARAMS, vec!["refresh_token"]),
        Some(_) => {
            let detail = "expected `authorization_code` or `refresh_token`";
            return Err(IbmError::invalid("grant_type", detail));
        }
    };
    if basic(headers) == BasicAuth::Absent {
        required.extend(["client_id", "client_secret"]);
    }
    check_parameters(params, allowed, &required)?;
    let creds = match client_auth(headers, params) {
        ClientAuth::Basic(creds) | ClientAuth::Body(creds) => creds,
        ClientAuth::Ambiguous => {
            let detail = "the client authenticated both with Basic and in the body";
            return Err(IbmError::invalid("client_id", detail));
        }
        ClientAuth::Missing | ClientAuth::Malformed => {
            let detail = "the Basic credentials do not decode to `id:secret`";
            return Err(IbmError::invalid("client_id", detail));
        }
    };
    let client = ibm
        .client(&creds.id)
        .filter(|client| client.client_secret == creds.secret)
        .ok_or(IbmError::ServiceComponentNotFound)?;
    if !client.subscribed {
        return Err(IbmError::MissingSubscription);
    }
    match params.get("grant_type") {
        Some("refresh_token") => refresh(state, params, client),
        _ => redeem_code(state, params, client),
    }
}

fn redeem_code(state: &Shared, params: &Params, client: &IbmClient) -> Result<Response, IbmError> {
    let code = params.get("code").unwrap_or_default();
    let now = Instant::now();
    let Some(stored) = state.with(|inner| inner.ibm_codes.get(code).cloned()) else {
        return Err(IbmError::invalid("code", "unknown authorization code"));
    };
    if stored.used {
        return Err(IbmError::invalid(
            "code",
            "the authorization code has already been used",
        ));
    }
    if now >= stored.expires_at {
        return Err(IbmError::invalid(
            "code",
            "the authorization code has expired",
        ));
    }
    if stored.client_id != client.client_id {
        return Err(IbmError::invalid(
            "code",
            "the code was issued to another client",
        ));
    }
    if params.get("redirect_uri") != Some(stored.redirect_uri.as_str()) {
        let detail = "expected the `redirect_uri` sent to the authorization endpoint";
        return Err(IbmError::invalid("redirect_uri", detail));
    }
    match (&stored.code_challenge, params.get("code_verifier")) {
        (Some(_), None) => return Err(IbmError::Absent(vec!["code_verifier".to_owned()])),
        (Some(challenge), Some(verifier)) => {
            if !pkce::well_formed(verifier) || !pkce::verifies(verifier, challenge) {
                let detail = "the code_verifier does not match the code_challenge";
                return Err(IbmError::invalid("code_verifier", detail));
            }
        }
        (None, Some(_)) => {
            let detail = "no code_challenge was sent to the authorization endpoint";
            return Err(IbmError::invalid("code_verifier", detail));
        }
        (None, None) => {}
    }
    let spent = state.with(|inner| match inner.ibm_codes.get_mut(code) {
        Some(entry) if !entry.used => {
            entry.used = true;
            true
        }
        _ => false,
    });
    if !spent {
        return Err(IbmError::invalid(
            "code",
            "the authorization code has already been used",
        ));
    }
    Ok(issue(state, client, None))
}

fn refresh(state: &Shared, params: &Params, client: &IbmClient) -> Result<Response, IbmError> {
    let refresh_token = params.get("refresh_token").unwrap_or_default();
    let now = Instant::now();
    let check = state.with(|inner| {
        inner
            .tokens
            .redeem_refresh(Platform::Ibm, refresh_token, false, now)
    });
    match check {
        RefreshCheck::Valid(grant) if grant.client_id == client.client_id => {
            Ok(issue(state, client, Some(refresh_token)))
        }
        RefreshCheck::Expired => Err(IbmError::invalid(
            "refresh_token",
            "the refresh token has expired",
        )),
        _ => Err(IbmError::invalid("refresh_token", "unknown refresh token")),
    }
}

/// New tokens for the seeded user; a refresh keeps its refresh token.
fn issue(state: &Shared, client: &IbmClient, refresh_token: Option<&str>) -> Response {
    let ibm = &state.data.ibm;
    let access_ttl = state.data.ibm_access_lifetime();
    let refresh_ttl = Duration::from_secs(ibm.refresh_token_lifetime);
    let grant = Grant {
        subject: ibm.user.subscriber_id.clone(),
        client_id: client.client_id.clone(),
    };
    let (access, refresh) = state.with(|inner| {
        let (access, replaced) =
            inner
                .tokens
                .issue_access(Platform::Ibm, grant.clone(), access_ttl);
        inner.stats.record_grant("ibm", replaced);
        let refresh = match refresh_token {
            Some(kept) => kept.to_owned(),
            None => inner
                .tokens
                .issue_refresh(Platform::Ibm, grant, refresh_ttl),
        };
        (access, refresh)
    });
    let issued_on = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    token_response(json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": expires_in(access_ttl),
        "issued_on": issued_on.to_string(),
    }))
}
