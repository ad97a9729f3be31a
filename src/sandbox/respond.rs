//! Response helpers shared by the platforms: JSON bodies, RFC 6749 §5.2 token errors,
//! token responses with `Cache-Control: no-store`, and bearer-token extraction.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

/// A JSON answer.
pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// `{"error": .., "error_description": ..}` with a status.
pub(crate) fn error(status: StatusCode, code: &str, description: &str) -> Response {
    json(
        status,
        json!({ "error": code, "error_description": description }),
    )
}

/// An RFC 6749 §5.2 token-endpoint error: 400, or 401 with a `WWW-Authenticate` challenge for
/// `invalid_client`.
pub(crate) fn oauth_error(code: &str, description: &str) -> Response {
    let status = if code == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut response = no_store(error(status, code, description));
    if status == StatusCode::UNAUTHORIZED {
        let challenge = HeaderValue::from_static("Basic realm=\"whisk-sandbox\"");
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

/// `expires_in` of a token answer: whole seconds as an integer, as providers send it; a
/// lifetime under a second, or with a fraction, as a number with milliseconds.
pub(crate) fn expires_in(ttl: std::time::Duration) -> Value {
    if ttl.subsec_millis() == 0 {
        json!(ttl.as_secs())
    } else {
        json!(ttl.as_millis() as f64 / 1000.0)
    }
}

/// A successful token response.
pub(crate) fn token(body: Value) -> Response {
    no_store(json(StatusCode::OK, body))
}

/// A 401 for a bad bearer token, with the RFC 6750 challenge and a JSON body.
pub(crate) fn bearer_error(code: &str, description: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, code, description);
    let challenge = format!(
        "Bearer realm=\"whisk-sandbox\", error=\"invalid_token\", error_description=\"{description}\""
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The token of an `Authorization: Bearer ...` header (scheme case-insensitive).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// What an `Authorization: Basic ...` header holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BasicAuth {
    Absent,
    Malformed,
    Credentials { id: String, secret: String },
}

/// Decodes `Authorization: Basic base64(id:secret)`; another scheme counts as absent.
pub(crate) fn basic(headers: &HeaderMap) -> BasicAuth {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return BasicAuth::Absent;
    };
    let Some((scheme, encoded)) = value.to_str().ok().and_then(|v| v.split_once(' ')) else {
        return BasicAuth::Malformed;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return BasicAuth::Absent;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim());
    let text = decoded.ok().and_then(|bytes| String::from_utf8(bytes).ok());
    match text.as_deref().and_then(|t| t.split_once(':')) {
        Some((id, secret)) => BasicAuth::Credentials {
            id: id.to_owned(),
            secret: secret.to_owned(),
        },
        None => BasicAuth::Malformed,
    }
}

/// Whether a request body claims to be a form (or says nothing, as curl `-d` bodies may not).
/// The RFC 6749 §5.2 `invalid_request` answer for a token request whose body is not a form or
/// repeats a parameter, or `None` when the body is acceptable.
pub(crate) fn bad_form(
    headers: &HeaderMap,
    params: &crate::sandbox::params::Params,
) -> Option<Response> {
    if !is_form(headers) {
        return Some(oauth_error(
            "invalid_request",
            "expected an application/x-www-form-urlencoded body",
        ));
    }
    params.duplicated().first().map(|name| {
        oauth_error(
            "invalid_request",
            &format!("parameter `{name}` is given more than once"),
        )
    })
}

pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(auth) {
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    #[test]
    fn bearer_and_basic_are_decoded() {
        assert_eq!(bearer(&headers("bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("Basic abc")), None);
        assert_eq!(
            basic(&headers("Basic aWQ6c2VjOnJldA==")),
            BasicAuth::Credentials {
                id: "id".to_owned(),
                secret: "sec:ret".to_owned()
            }
        );
        assert_eq!(basic(&headers("Basic !!!")), BasicAuth::Malformed);
        assert_eq!(basic(&headers("Bearer x")), BasicAuth::Absent);
        assert_eq!(basic(&HeaderMap::new()), BasicAuth::Absent);
    }
}
