//! `GET /ic/api/integration/v1/connections[/{id}]` on the design-time host, bearer required;
//! the list pages with `limit` and `offset`.

use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::sandbox::api_error::ApiError;
use crate::sandbox::respond::{bearer, json};
use crate::sandbox::state::Shared;
use crate::sandbox::tokens::{AccessCheck, Platform};

#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    limit: Option<usize>,
    offset: Option<usize>,
}

pub(crate) async fn list(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(page): Query<Page>,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    let all = &state.data.oracle.connections;
    let offset = page.offset.unwrap_or(0).min(all.len());
    let limit = match page.limit {
        Some(limit) => limit.max(1),
        None if state.data.oracle.page_size > 0 => state.data.oracle.page_size,
        None => all.len().max(1),
    };
    let items: Vec<_> = all.iter().skip(offset).take(limit).collect();
    let has_more = offset + items.len() < all.len();
    json(
        StatusCode::OK,
        json!({
            "items": items,
            "count": items.len(),
            "totalResults": all.len(),
            "hasMore": has_more,
            "limit": limit,
            "offset": offset,
        }),
    )
}

pub(crate) async fn one(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    match state.data.oracle.connections.iter().find(|c| c.id == id) {
        Some(connection) => json(StatusCode::OK, json!(connection)),
        None => json(
            StatusCode::NOT_FOUND,
            json!({
                "title": "Not Found",
                "status": 404,
                "detail": format!("no connection has id `{id}`"),
            }),
        ),
    }
}

/// Checks the Oracle bearer token of a design-time API request.
pub(crate) fn authorize(state: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = bearer(headers) else {
        let message =
            "the request has no bearer token; was the Authorization header dropped on a redirect?";
        return Err(ApiError::unauthorized("invalid_token", message));
    };
    let now = Instant::now();
    let check = state.with(|inner| inner.tokens.check_access(Platform::Oracle, token, now));
    let message = match check {
        AccessCheck::Valid(_) => return Ok(()),
        AccessCheck::Expired => "the access token has expired",
        AccessCheck::Revoked => "the access token has been revoked",
        AccessCheck::Unknown => "the access token is not valid",
    };
    Err(ApiError::unauthorized("invalid_token", message))
}
