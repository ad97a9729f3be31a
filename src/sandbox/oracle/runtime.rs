//! The runtime host: every `/ic/api/...` request is redirected to the same path and query
//! on the design-time host, which is another origin (another port).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::sandbox::respond::error;
use crate::sandbox::state::Shared;

pub(crate) async fn redirect(State(state): State<Shared>, uri: Uri) -> Response {
    let target = match uri.path_and_query() {
        Some(pq) => format!("{}{pq}", state.design_time_base),
        None => format!("{}{}", state.design_time_base, uri.path()),
    };
    let status = StatusCode::from_u16(state.data.oracle.redirect_status)
        .unwrap_or(StatusCode::TEMPORARY_REDIRECT);
    match HeaderValue::from_str(&target) {
        Ok(location) => (status, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

pub(crate) async fn not_found(uri: Uri) -> Response {
    let message = format!(
        "the runtime host serves only `/ic/api/...`, not `{}`",
        uri.path()
    );
    error(StatusCode::NOT_FOUND, "not_found", &message)
}
