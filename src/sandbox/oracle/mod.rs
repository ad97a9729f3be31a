//! Oracle Integration: the identity-domain token endpoint, the design-time connections API,
//! and the runtime host, which redirects every `/ic/api/...` call to the design-time host.

mod archive;
mod assertion;
mod connections;
mod runtime;
mod token;

use axum::Router;
use axum::routing::{any, get, post};

use super::state::Shared;

pub(crate) const TOKEN_PATH: &str = "/oauth2/v1/token";
pub(crate) const CONNECTIONS_PATH: &str = "/ic/api/integration/v1/connections";

/// Routes of the main listener (identity domain and design-time host).
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(TOKEN_PATH, post(token::token))
        .route(CONNECTIONS_PATH, get(connections::list))
        .route(
            "/ic/api/integration/v1/connections/{id}",
            get(connections::one),
        )
        .route(archive::PATH, post(archive::import).layer(archive::limit()))
}

/// Routes of the runtime listener.
pub(crate) fn runtime_routes() -> Router<Shared> {
    Router::new()
        .route("/ic/api/{*rest}", any(runtime::redirect))
        .fallback(runtime::not_found)
}
