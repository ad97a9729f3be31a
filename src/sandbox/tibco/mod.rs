//! TIBCO Cloud Integration: the IdM token endpoint and the `/tci/v1` organization API.

mod access;
mod apps;
mod auth;
mod token;

use axum::Router;
use axum::routing::{get, post};

use super::state::Shared;

/// Path of the token endpoint.
pub(crate) const TOKEN_PATH: &str = "/idm/v1/oauth2/token";
/// Prefix of the API; recipes use `{base}/tci` as their base URL.
pub(crate) const API_BASE_PATH: &str = "/tci";

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(TOKEN_PATH, post(token::token))
        .route("/tci/v1/subscriptions", get(access::list))
        .route(
            "/tci/v1/subscriptions/{locator}/apiservice/access",
            post(access::enable)
                .delete(access::disable)
                .get(access::show),
        )
        .route("/tci/v1/subscriptions/{locator}/apps", get(apps::list))
        .route("/tci/v1/subscriptions/{locator}/apps/{id}", get(apps::show))
        .route(
            "/tci/v1/subscriptions/{locator}/apps/{id}/start",
            post(apps::start),
        )
}
