//! The authorization request (RFC 6749 §4.1.1 with RFC 7636 PKCE): the URL a person opens to
//! sign in.

use reqwest::Url;

/// What goes into the authorize URL.
pub struct AuthorizeRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: Option<&'a str>,
    pub state: &'a str,
    /// The S256 challenge, when PKCE is used.
    pub code_challenge: Option<&'a str>,
    /// Extra parameters from `authorization_params`.
    pub params: &'a [(String, String)],
}

/// `base` with the request's parameters appended to any query it already has.
pub fn authorize_url(base: &Url, request: &AuthorizeRequest<'_>) -> Url {
    let mut url = base.clone();
    {
        let mut pairs = url.query_pairs_mut();
        pairs.append_pair("response_type", "code");
        pairs.append_pair("client_id", request.client_id);
        pairs.append_pair("redirect_uri", request.redirect_uri);
        if let Some(scope) = request.scope {
            pairs.append_pair("scope", scope);
        }
        pairs.append_pair("state", request.state);
        if let Some(challenge) = request.code_challenge {
            pairs.append_pair("code_challenge", challenge);
            pairs.append_pair("code_challenge_method", "S256");
        }
        for (name, value) in request.params {
            pairs.append_pair(name, value);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_every_parameter_encoded() {
        let base = Url::parse("https://idp.example/authorize?tenant=a").unwrap();
        let params = vec![("prompt".to_string(), "consent".to_string())];
        let url = authorize_url(
            &base,
            &AuthorizeRequest {
                client_id: "app 1",
                redirect_uri: "http://127.0.0.1:8765/callback",
                scope: Some("openid offline_access"),
                state: "st",
                code_challenge: Some("ch"),
                params: &params,
            },
        );
        assert_eq!(
            url.as_str(),
            "https://idp.example/authorize?tenant=a&response_type=code&client_id=app+1\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&scope=openid+offline_access\
             &state=st&code_challenge=ch&code_challenge_method=S256&prompt=consent"
        );
    }
}
