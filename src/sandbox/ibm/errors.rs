//! The provider's error answers (seed 003), as `{"error", "error_description"}` JSON whose
//! `error` is the documented code and whose description is the documented text.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use crate::sandbox::respond::json;

/// Every failure the provider documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IbmError {
    Absent(Vec<String>),
    Duplicated(Vec<String>),
    Unsupported(Vec<String>),
    /// Invalid parameters, and why (the sandbox's own words, in `detail`).
    Invalid(Vec<String>, String),
    InvalidAccessToken,
    AccessTokenExpired,
    ServiceComponentNotFound,
    MissingSubscription,
    NotSupported,
    RequestFailed,
}

impl IbmError {
    pub(crate) fn invalid(parameter: &str, detail: &str) -> Self {
        Self::Invalid(vec![parameter.to_owned()], detail.to_owned())
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Absent(_) | Self::Duplicated(_) | Self::Unsupported(_) | Self::Invalid(..) => {
                StatusCode::BAD_REQUEST
            }
            Self::InvalidAccessToken
            | Self::AccessTokenExpired
            | Self::ServiceComponentNotFound
            | Self::MissingSubscription => StatusCode::UNAUTHORIZED,
            Self::NotSupported => StatusCode::FORBIDDEN,
            Self::RequestFailed => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Absent(_) => "oauth_absent_parameters",
            Self::Duplicated(_) => "oauth_duplicated_parameters",
            Self::Unsupported(_) => "oauth_unsupported_parameters",
            Self::Invalid(..) => "oauth_invalid_parameters",
            Self::InvalidAccessToken => "oauth_invalid_accesstoken",
            Self::AccessTokenExpired => "oauth_access_token_expired",
            Self::ServiceComponentNotFound => "Service Component not found",
            Self::MissingSubscription => "oauth_consumer_missing_subscription",
            Self::NotSupported => "forbidden",
            Self::RequestFailed => "oauth_request_failed",
        }
    }

    /// The documented message; list errors name their parameters as the seed shows
    /// (`oauth_absent_parameters: a, b`, but `oauth_invalid_parameters a`, without a colon).
    fn description(&self) -> String {
        match self {
            Self::Absent(names) | Self::Duplicated(names) | Self::Unsupported(names) => {
                format!("{}: {}", self.code(), names.join(", "))
            }
            Self::Invalid(names, _) => format!("{} {}", self.code(), names.join(", ")),
            Self::InvalidAccessToken => "The access_token parameter is not valid.".to_owned(),
            Self::AccessTokenExpired => "The access token has expired.".to_owned(),
            Self::ServiceComponentNotFound => "The application associated with the credentials \
                that were passed with the request cannot be found in Connections Cloud."
                .to_owned(),
            Self::MissingSubscription => {
                "The user is not subscribed to this application.".to_owned()
            }
            Self::NotSupported => {
                "OAuth 2.0 is not supported at this time. Contact your administrator.".to_owned()
            }
            Self::RequestFailed => {
                "The OAuth flow failed. Try again or contact the administrator.".to_owned()
            }
        }
    }

    pub(crate) fn response(&self) -> Response {
        let mut body = json!({ "error": self.code(), "error_description": self.description() });
        match self {
            Self::Absent(names) | Self::Duplicated(names) | Self::Unsupported(names) => {
                body["parameters"] = json!(names);
            }
            Self::Invalid(names, detail) => {
                body["parameters"] = json!(names);
                body["detail"] = json!(detail);
            }
            _ => {}
        }
        let mut response = json(self.status(), body);
        if matches!(self, Self::InvalidAccessToken | Self::AccessTokenExpired) {
            let challenge = format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                self.code()
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// Fails with the first of: duplicated, unsupported, absent parameters.
pub(crate) fn check_parameters(
    params: &crate::sandbox::params::Params,
    allowed: &[&str],
    required: &[&str],
) -> Result<(), IbmError> {
    let duplicated = params.duplicated();
    if !duplicated.is_empty() {
        return Err(IbmError::Duplicated(duplicated));
    }
    let unsupported = params.unsupported(allowed);
    if !unsupported.is_empty() {
        return Err(IbmError::Unsupported(unsupported));
    }
    let absent = params.absent(required);
    if !absent.is_empty() {
        return Err(IbmError::Absent(absent));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages_follow_the_seed() {
        let absent = IbmError::Absent(vec!["code".to_owned(), "redirect_uri".to_owned()]);
        assert_eq!(absent.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            absent.description(),
            "oauth_absent_parameters: code, redirect_uri"
        );
        let invalid = IbmError::invalid("code_verifier", "mismatch");
        assert_eq!(
            invalid.description(),
            "oauth_invalid_parameters code_verifier"
        );
        assert_eq!(
            IbmError::ServiceComponentNotFound.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(IbmError::NotSupported.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            IbmError::RequestFailed.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
