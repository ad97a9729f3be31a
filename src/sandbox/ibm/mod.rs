//! IBM Connections Cloud: the OAuth 2.0 web-server flow (authorize, token) and
//! `getUserIdentity`, answering with the provider's error codes.

mod authorize;
mod errors;
mod identity;
mod pkce;
mod token;

use axum::Router;
use axum::routing::{get, post};

use super::state::Shared;

pub(crate) const AUTHORIZE_PATH: &str = "/manage/oauth2/authorize";
pub(crate) const TOKEN_PATH: &str = "/manage/oauth2/token";
pub(crate) const IDENTITY_PATH: &str = "/manage/oauth/getUserIdentity";

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(AUTHORIZE_PATH, get(authorize::authorize))
        .route(TOKEN_PATH, post(token::token))
        .route(
            IDENTITY_PATH,
            get(identity::get_identity).post(identity::post_identity),
        )
}
