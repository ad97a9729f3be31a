//! Redirect-URI rules: HTTPS callbacks, or loopback `http` ones that match on any port.

use reqwest::Url;

/// Whether a callback may be registered: HTTPS (as the vendor demands), or `http` on a
/// loopback host, which the sandbox allows so that a CLI can receive the code itself.
pub(crate) fn check_registered(uri: &str) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|e| format!("`{uri}` is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        _ => Err(format!(
            "`{uri}` must use https, or http on 127.0.0.1, [::1] or localhost"
        )),
    }
}

/// Whether a redirect URI sent by a client matches the registered one: exactly, or for
/// loopback `http` URIs, on everything but the port (RFC 8252 §7.3).
pub(crate) fn matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    let (Ok(mut registered), Ok(mut given)) = (Url::parse(registered), Url::parse(given)) else {
        return false;
    };
    if registered.scheme() != "http" || !is_loopback(&registered) {
        return false;
    }
    // Both set_port calls succeed on http URLs; the comparison then ignores the port.
    let _ = registered.set_port(None);
    let _ = given.set_port(None);
    registered == given
}

/// The callback URL carrying `code` and `state`, keeping any query the callback already has.
pub(crate) fn with_code(redirect_uri: &str, code: &str, state: Option<&str>) -> Option<String> {
    let mut url = Url::parse(redirect_uri).ok()?;
    {
        let mut pairs = url.query_pairs_mut();
        pairs.append_pair("code", code);
        if let Some(state) = state {
            pairs.append_pair("state", state);
        }
    }
    Some(url.into())
}

fn is_loopback(url: &Url) -> bool {
    matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("[::1]") | Some("localhost")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_needs_https_or_loopback() {
        assert!(check_registered("https://app.example.com/cb").is_ok());
        assert!(check_registered("http://127.0.0.1:8765/callback").is_ok());
        assert!(check_registered("http://localhost/cb").is_ok());
        assert!(check_registered("http://app.example.com/cb").is_err());
        assert!(check_registered("not a url").is_err());
    }

    #[test]
    fn loopback_matches_any_port_only() {
        let registered = "http://127.0.0.1:8765/callback";
        assert!(matches(registered, "http://127.0.0.1:40001/callback"));
        assert!(!matches(registered, "http://127.0.0.1:40001/other"));
        assert!(!matches(registered, "http://localhost:8765/callback"));
        assert!(matches("https://a.example/cb", "https://a.example/cb"));
        assert!(!matches(
            "https://a.example/cb",
            "https://a.example:8443/cb"
        ));
    }

    #[test]
    fn code_and_state_are_appended_and_encoded() {
        let url = with_code("http://127.0.0.1:1/cb?x=1", "abc", Some("a b&c"));
        assert_eq!(
            url.as_deref(),
            Some("http://127.0.0.1:1/cb?x=1&code=abc&state=a+b%26c")
        );
    }
}
