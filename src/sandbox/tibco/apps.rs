//! The apps of an organization. `GET /v1/subscriptions/{locator}/apps` lists them a page at
//! a time (`limit`, `offset`; the next page in a `Link: <...>; rel="next"` header), each page
//! with an `ETag` (and 304 for a matching `If-None-Match`). `POST .../apps/{id}/start` starts
//! one (202); `GET .../apps/{id}` then answers `Starting` for a few polls, then `Running`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::auth::{require_access, resolve, token_org};
use crate::sandbox::api_error::ApiError;
use crate::sandbox::data::TibcoOrganization;
use crate::sandbox::respond::json;
use crate::sandbox::state::Shared;

#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    limit: Option<usize>,
    offset: Option<usize>,
}

/// The organization a request may read the apps of.
fn organization(
    state: &Shared,
    headers: &HeaderMap,
    locator: &str,
) -> Result<TibcoOrganization, ApiError> {
    token_org(state, headers)
        .and_then(|own| resolve(state, &own, locator))
        .and_then(|org| require_access(state, &org).map(|()| org))
}

pub(crate) async fn list(
    State(state): State<Shared>,
    Path(locator): Path<String>,
    Query(page): Query<Page>,
    headers: HeaderMap,
) -> Response {
    let org = match organization(&state, &headers, &locator) {
        Ok(org) => org,
        Err(error) => return error.into_response(),
    };
    let all = &org.apps;
    let offset = page.offset.unwrap_or(0).min(all.len());
    let limit = match page.limit {
        Some(limit) => limit.max(1),
        None if state.data.tibco.apps_page_size > 0 => state.data.tibco.apps_page_size,
        None => all.len().max(1),
    };
    let shown: Vec<_> = all.iter().skip(offset).take(limit).collect();
    let next = (offset + shown.len() < all.len()).then(|| {
        format!(
            "</tci/v1/subscriptions/{locator}/apps?offset={}&limit={limit}>; rel=\"next\"",
            offset + shown.len()
        )
    });
    let body = match serde_json::to_string(&shown) {
        Ok(body) => body,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let etag = etag(&body);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let content_type = HeaderValue::from_static("application/json");
    let mut response = (
        StatusCode::OK,
        [(header::ETAG, etag), (header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response();
    if let Some(link) = next.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    response
}

pub(crate) async fn start(
    State(state): State<Shared>,
    Path((locator, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let org = match organization(&state, &headers, &locator) {
        Ok(org) => org,
        Err(error) => return error.into_response(),
    };
    let Some(app) = org.apps.iter().find(|a| a.id == id) else {
        return no_app(&org, &id);
    };
    let polls = state.data.tibco.start_polls;
    state.with(|inner| {
        inner
            .tibco_starting
            .insert((org.locator.clone(), id.clone()), polls)
    });
    json(
        StatusCode::ACCEPTED,
        json!({"id": app.id, "name": app.name, "state": "Starting"}),
    )
}

pub(crate) async fn show(
    State(state): State<Shared>,
    Path((locator, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let org = match organization(&state, &headers, &locator) {
        Ok(org) => org,
        Err(error) => return error.into_response(),
    };
    let Some(app) = org.apps.iter().find(|a| a.id == id) else {
        return no_app(&org, &id);
    };
    let key = (org.locator.clone(), id.clone());
    // Started: `Starting` for its polls, then `Running` for good.
    let started = state.with(|inner| match inner.tibco_starting.get_mut(&key) {
        Some(0) => Some("Running"),
        Some(left) => {
            *left -= 1;
            Some("Starting")
        }
        None => None,
    });
    let app_state = started.unwrap_or(app.state.as_str());
    json(
        StatusCode::OK,
        json!({"id": app.id, "name": app.name, "state": app_state}),
    )
}

fn no_app(org: &TibcoOrganization, id: &str) -> Response {
    let message = format!("organization `{}` has no app `{id}`", org.locator);
    ApiError::new(StatusCode::NOT_FOUND, "app_not_found", message).into_response()
}

/// A strong validator: the first 16 hex digits of the body's SHA-256, quoted.
fn etag(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::etag;

    #[test]
    fn etags_are_quoted_and_stable() {
        assert_eq!(etag("[]"), etag("[]"));
        assert_ne!(etag("[]"), etag("[1]"));
        assert_eq!(etag("[]").len(), 18);
        assert!(etag("[]").starts_with('"'));
    }
}
