//! `GET /_sandbox/stats`: the counters as JSON, and the JSON 404 for unknown routes.

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;

use super::respond::error;
use super::state::Shared;
use super::stats::Stats;

pub(crate) const PATH: &str = "/_sandbox/stats";

pub(crate) async fn stats(State(state): State<Shared>) -> Json<Stats> {
    Json(state.with(|inner| inner.stats.clone()))
}

pub(crate) async fn not_found(method: Method, uri: Uri) -> Response {
    let message = format!("the sandbox has no route for `{method} {}`", uri.path());
    error(StatusCode::NOT_FOUND, "not_found", &message)
}
