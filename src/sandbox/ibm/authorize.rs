//! `GET /manage/oauth2/authorize`: checks the request, auto-approves as the seeded user and
//! answers 302 to the registered callback with `code` and `state`.

use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::errors::{IbmError, check_parameters};
use super::pkce;
use crate::sandbox::params::Params;
use crate::sandbox::redirect_uri;
use crate::sandbox::state::{AuthCode, Shared};

const ALLOWED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
];

pub(crate) async fn authorize(State(state): State<Shared>, RawQuery(query): RawQuery) -> Response {
    match approve(&state, &Params::parse(query.as_deref().unwrap_or_default())) {
        Ok(location) => match HeaderValue::from_str(&location) {
            Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
            Err(_) => IbmError::RequestFailed.response(),
        },
        Err(error) => error.response(),
    }
}

/// The callback URL with a fresh code, or why there is none.
fn approve(state: &Shared, params: &Params) -> Result<String, IbmError> {
    let ibm = &state.data.ibm;
    if !ibm.oauth_enabled {
        return Err(IbmError::NotSupported);
    }
    let mut required = vec!["response_type", "client_id", "redirect_uri"];
    if ibm.require_pkce {
        required.push("code_challenge");
    }
    check_parameters(params, ALLOWED, &required)?;
    let get = |name| params.get(name).unwrap_or_default();
    if get("response_type") != "code" {
        return Err(IbmError::invalid(
            "response_type",
            "only `code` is supported",
        ));
    }
    let client = ibm
        .client(get("client_id"))
        .ok_or(IbmError::ServiceComponentNotFound)?;
    let redirect = get("redirect_uri");
    if !redirect_uri::matches(&client.redirect_uri, redirect) {
        let detail = format!("expected the registered callback `{}`", client.redirect_uri);
        return Err(IbmError::invalid("redirect_uri", &detail));
    }
    if !client.subscribed {
        return Err(IbmError::MissingSubscription);
    }
    let code_challenge = challenge(params)?;
    let code = format!("ibm-code-{}", uuid::Uuid::new_v4().simple());
    let location = redirect_uri::with_code(redirect, &code, params.get("state"))
        .ok_or_else(|| IbmError::invalid("redirect_uri", "not a URL"))?;
    let grant = AuthCode {
        client_id: client.client_id.clone(),
        redirect_uri: redirect.to_owned(),
        code_challenge,
        expires_at: Instant::now() + Duration::from_secs(ibm.code_lifetime),
        used: false,
    };
    state.with(|inner| inner.ibm_codes.insert(code, grant));
    Ok(location)
}

/// The PKCE challenge, which must use S256 (`plain` is refused).
fn challenge(params: &Params) -> Result<Option<String>, IbmError> {
    let method = params.get("code_challenge_method");
    let Some(challenge) = params.get("code_challenge") else {
        if method.is_some() {
            let detail = "`code_challenge_method` was given without `code_challenge`";
            return Err(IbmError::invalid("code_challenge_method", detail));
        }
        return Ok(None);
    };
    if method != Some("S256") {
        let detail = "only `S256` is supported, and it must be named";
        return Err(IbmError::invalid("code_challenge_method", detail));
    }
    if !pkce::well_formed(challenge) {
        let detail = "expected 43 to 128 characters of base64url";
        return Err(IbmError::invalid("code_challenge", detail));
    }
    Ok(Some(challenge.to_owned()))
}
