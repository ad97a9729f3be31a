//! `GET /v1/subscriptions/{locator}/apps`: the organization's apps, with an `ETag`
//! (and 304 for a matching `If-None-Match`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::auth::{require_access, resolve, token_org};
use crate::sandbox::state::Shared;

pub(crate) async fn list(
    State(state): State<Shared>,
    Path(locator): Path<String>,
    headers: HeaderMap,
) -> Response {
    let org = token_org(&state, &headers)
        .and_then(|own| resolve(&state, &own, &locator))
        .and_then(|org| require_access(&state, &org).map(|()| org));
    let org = match org {
        Ok(org) => org,
        Err(error) => return error.into_response(),
    };
    let body = match serde_json::to_string(&org.apps) {
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
    (
        StatusCode::OK,
        [(header::ETAG, etag), (header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response()
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
