//! The URL policy: step URLs are absolute `http(s)`; token and authorization URLs are HTTPS
//! unless they point at a loopback address, so that credentials never travel in clear text
//! off this machine. The planner checks literal URLs with it, the token manager and sign-in
//! the rendered ones.

/// A request URL must be absolute `http` or `https`.
pub fn check_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("`{text}` is not a valid URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(format!(
            "URL scheme `{other}` is not supported: use `http` or `https`"
        )),
    }
}

/// A token URL must be HTTPS unless it points at a loopback address.
pub fn check_token_url(text: &str) -> Result<(), String> {
    check_url(text)?;
    let url = reqwest::Url::parse(text).map_err(|e| e.to_string())?;
    if url.scheme() == "https" || is_loopback(&url) {
        Ok(())
    } else {
        Err(format!(
            "token URL `{text}` is not HTTPS: credentials would travel in clear text"
        ))
    }
}

/// An authorization URL must be HTTPS unless it points at a loopback address.
pub fn check_authorization_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("`{text}` is not a valid URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(format!(
            "authorization URL `{text}` is not HTTPS: the sign-in would travel in clear text"
        )),
        other => Err(format!(
            "URL scheme `{other}` is not supported: use `http` or `https`"
        )),
    }
}

/// Whether `url` names this machine: a loopback address, or `localhost`.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_urls_are_absolute_http() {
        assert!(check_url("https://api.example.com/v1").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(
            check_url("api.example.com/v1")
                .unwrap_err()
                .contains("not a valid URL")
        );
        assert!(
            check_url("ftp://x/")
                .unwrap_err()
                .contains("`ftp` is not supported")
        );
    }

    #[test]
    fn token_urls_are_https_off_loopback() {
        for good in [
            "https://idp.example/token",
            "http://127.0.0.1:9/token",
            "http://[::1]:9/token",
            "http://localhost/token",
        ] {
            assert!(check_token_url(good).is_ok(), "{good}");
        }
        let error = check_token_url("http://idp.example/token").unwrap_err();
        assert!(error.contains("clear text"), "{error}");
    }

    #[test]
    fn authorization_urls_are_https_off_loopback() {
        assert!(
            check_authorization_url("https://apps.lotuslive.com/manage/oauth2/authorize").is_ok()
        );
        assert!(check_authorization_url("http://127.0.0.1:9/authorize").is_ok());
        assert!(check_authorization_url("http://idp.example/authorize").is_err());
        assert!(check_authorization_url("ftp://idp.example/authorize").is_err());
    }
}
