//! `GET|POST /manage/oauth/getUserIdentity`: the seeded user's identity for a valid bearer
//! token (header, or an `access_token` parameter).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::errors::{IbmError, check_parameters};
use crate::sandbox::params::Params;
use crate::sandbox::respond::{bearer, json};
use crate::sandbox::state::Shared;
use crate::sandbox::tokens::{AccessCheck, Platform};

pub(crate) async fn get_identity(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or_default());
    identity(&state, &headers, &params).unwrap_or_else(|error| error.response())
}

pub(crate) async fn post_identity(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or_default())
        .merged(Params::parse(&String::from_utf8_lossy(&body)));
    identity(&state, &headers, &params).unwrap_or_else(|error| error.response())
}

fn identity(state: &Shared, headers: &HeaderMap, params: &Params) -> Result<Response, IbmError> {
    let ibm = &state.data.ibm;
    if !ibm.oauth_enabled {
        return Err(IbmError::NotSupported);
    }
    check_parameters(params, &["access_token"], &[])?;
    let Some(token) = bearer(headers).or_else(|| params.get("access_token")) else {
        return Err(IbmError::Absent(vec!["access_token".to_owned()]));
    };
    let now = Instant::now();
    let grant = match state.with(|inner| inner.tokens.check_access(Platform::Ibm, token, now)) {
        AccessCheck::Valid(grant) => grant,
        AccessCheck::Expired => return Err(IbmError::AccessTokenExpired),
        AccessCheck::Revoked | AccessCheck::Unknown => return Err(IbmError::InvalidAccessToken),
    };
    if !ibm.client(&grant.client_id).is_some_and(|c| c.subscribed) {
        return Err(IbmError::MissingSubscription);
    }
    let user = &ibm.user;
    Ok(json(
        StatusCode::OK,
        json!({
            "subscriberid": user.subscriber_id,
            "customerid": user.customer_id,
            "name": user.name,
            "email": user.email,
        }),
    ))
}
