//! How a client authenticated at a token endpoint: HTTP Basic, form fields, neither, or both.

use axum::http::HeaderMap;

use super::params::Params;
use super::respond::{BasicAuth, basic};

/// The client's id and secret as presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientCredentials {
    pub id: String,
    pub secret: String,
}

/// The outcome of looking for client credentials (RFC 6749 §2.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    Missing,
    /// An `Authorization: Basic` header that does not decode to `id:secret`.
    Malformed,
    /// Basic and form credentials that disagree, or a secret sent both ways.
    Ambiguous,
    Basic(ClientCredentials),
    Body(ClientCredentials),
}

/// Looks at the `Authorization` header first, then at `client_id`/`client_secret` fields.
/// A `client_id` field next to Basic credentials is allowed when it names the same client.
pub(crate) fn client_auth(headers: &HeaderMap, params: &Params) -> ClientAuth {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    match basic(headers) {
        BasicAuth::Malformed => ClientAuth::Malformed,
        BasicAuth::Credentials { id, secret } => {
            if body_secret.is_some() || body_id.is_some_and(|b| b != id) {
                ClientAuth::Ambiguous
            } else {
                ClientAuth::Basic(ClientCredentials { id, secret })
            }
        }
        BasicAuth::Absent => match body_id {
            Some(id) => ClientAuth::Body(ClientCredentials {
                id: id.to_owned(),
                secret: body_secret.unwrap_or_default().to_owned(),
            }),
            None => ClientAuth::Missing,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

    fn with_basic() -> HeaderMap {
        let mut headers = HeaderMap::new();
        // base64("id:secret")
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic aWQ6c2VjcmV0"),
        );
        headers
    }

    #[test]
    fn basic_body_both_and_neither() {
        let creds = ClientCredentials {
            id: "id".to_owned(),
            secret: "secret".to_owned(),
        };
        let none = Params::default();
        assert_eq!(
            client_auth(&with_basic(), &none),
            ClientAuth::Basic(creds.clone())
        );
        let same_id = Params::parse("client_id=id");
        assert_eq!(
            client_auth(&with_basic(), &same_id),
            ClientAuth::Basic(creds.clone())
        );
        let both = Params::parse("client_id=id&client_secret=secret");
        assert_eq!(client_auth(&with_basic(), &both), ClientAuth::Ambiguous);
        assert_eq!(
            client_auth(&HeaderMap::new(), &both),
            ClientAuth::Body(creds)
        );
        assert_eq!(client_auth(&HeaderMap::new(), &none), ClientAuth::Missing);
    }
}
