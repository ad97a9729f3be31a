//! A JSON API error as data, `{"error", "error_description"}`, turned into a response only at
//! the edge of a handler.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::respond::{bearer_error, error};

/// One failed API call: its status, a machine-readable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            description: description.into(),
        }
    }

    /// A 401 for a missing, unknown or expired bearer token (sent with a challenge).
    pub(crate) fn unauthorized(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, description)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNAUTHORIZED {
            bearer_error(self.code, &self.description)
        } else {
            error(self.status, self.code, &self.description)
        }
    }
}
