//! `/v1/subscriptions` and `/v1/subscriptions/{locator}/apiservice/access`: the family's
//! organizations, and switching API access on (POST), off (DELETE) or reading it (GET).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{resolve, token_org};
use crate::sandbox::data::TibcoOrganization;
use crate::sandbox::respond::json;
use crate::sandbox::state::Shared;

/// `GET /v1/subscriptions`: the token's organization and its children (a sandbox convenience
/// so that recipes can discover child locators).
pub(crate) async fn list(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let own = match token_org(&state, &headers) {
        Ok(own) => own,
        Err(error) => return error.into_response(),
    };
    let enabled = state.with(|inner| inner.tibco_enabled.clone());
    let family: Vec<Value> = state
        .data
        .tibco
        .organizations
        .iter()
        .filter(|org| org.locator == own || org.parent.as_deref() == Some(own.as_str()))
        .map(|org| describe(org, enabled.contains(&org.locator)))
        .collect();
    json(StatusCode::OK, Value::Array(family))
}

pub(crate) async fn enable(
    State(state): State<Shared>,
    Path(locator): Path<String>,
    headers: HeaderMap,
) -> Response {
    switch(&state, &headers, &locator, Some(true))
}

pub(crate) async fn disable(
    State(state): State<Shared>,
    Path(locator): Path<String>,
    headers: HeaderMap,
) -> Response {
    switch(&state, &headers, &locator, Some(false))
}

pub(crate) async fn show(
    State(state): State<Shared>,
    Path(locator): Path<String>,
    headers: HeaderMap,
) -> Response {
    switch(&state, &headers, &locator, None)
}

fn switch(state: &Shared, headers: &HeaderMap, locator: &str, to: Option<bool>) -> Response {
    let org = match token_org(state, headers).and_then(|own| resolve(state, &own, locator)) {
        Ok(org) => org,
        Err(error) => return error.into_response(),
    };
    let enabled = state.with(|inner| {
        match to {
            Some(true) => {
                inner.tibco_enabled.insert(org.locator.clone());
                inner.stats.record_enable(&org.locator);
            }
            Some(false) => {
                inner.tibco_enabled.remove(&org.locator);
            }
            None => {}
        }
        inner.tibco_enabled.contains(&org.locator)
    });
    json(StatusCode::OK, describe(&org, enabled))
}

fn describe(org: &TibcoOrganization, enabled: bool) -> Value {
    json!({
        "subscriptionLocator": org.locator,
        "organizationName": org.name,
        "parentSubscriptionLocator": org.parent,
        "apiAccessEnabled": enabled,
    })
}
