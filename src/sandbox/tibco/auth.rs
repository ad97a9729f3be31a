//! Who is calling the TIBCO API, and which organization a locator names for them: bearer
//! checks (401), unknown locators (404), the family rule (403) and the API-access switch (403).

use std::time::Instant;

use axum::http::{HeaderMap, StatusCode};

use crate::sandbox::api_error::ApiError;
use crate::sandbox::data::TibcoOrganization;
use crate::sandbox::respond::bearer;
use crate::sandbox::state::Shared;
use crate::sandbox::tokens::{AccessCheck, Platform};

/// The locator of the organization that owns the request's access token.
pub(crate) fn token_org(state: &Shared, headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(token) = bearer(headers) else {
        return Err(ApiError::unauthorized(
            "invalid_token",
            "the request has no bearer token",
        ));
    };
    let now = Instant::now();
    match state.with(|inner| inner.tokens.check_access(Platform::Tibco, token, now)) {
        AccessCheck::Valid(grant) => Ok(grant.subject),
        AccessCheck::Expired => Err(ApiError::unauthorized(
            "oauth_access_token_expired",
            "the access token has expired",
        )),
        AccessCheck::Revoked => Err(ApiError::unauthorized(
            "invalid_token",
            "the access token has been revoked",
        )),
        AccessCheck::Unknown => Err(ApiError::unauthorized(
            "invalid_token",
            "the access token is not valid",
        )),
    }
}

/// The organization `locator` names for a token of `token_org` (`0` is the token's own).
pub(crate) fn resolve(
    state: &Shared,
    token_org: &str,
    locator: &str,
) -> Result<TibcoOrganization, ApiError> {
    let locator = if locator == "0" { token_org } else { locator };
    let Some(org) = state.data.tibco.organization(locator) else {
        let message = format!("no organization has subscription locator `{locator}`");
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", message));
    };
    if org.locator != token_org && org.parent.as_deref() != Some(token_org) {
        let message = format!(
            "the token of organization `{token_org}` cannot manage organization `{locator}`, \
             which belongs to another family"
        );
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", message));
    }
    Ok(org.clone())
}

/// Fails with the vendor's 403 unless API access is enabled for `org`.
pub(crate) fn require_access(state: &Shared, org: &TibcoOrganization) -> Result<(), ApiError> {
    if state.with(|inner| inner.tibco_enabled.contains(&org.locator)) {
        return Ok(());
    }
    let message = format!(
        "API access is not enabled for the organization `{}` (subscription locator `{}`)",
        org.name, org.locator
    );
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "api_access_not_enabled",
        message,
    ))
}
