//! Sending one attempt: the request, redirects followed by hand (so that every hop is recorded
//! and the Authorization header goes only where it may), and a body read up to a cap.

use std::time::Duration;

use reqwest::header::{COOKIE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, Url};

use super::client::Client;
use super::transport::{Answer, Failure, Parts};
use crate::result::Hop;

const MAX_REDIRECTS: usize = 10;

/// A request ready to send.
/// How redirects are followed for one request (templates rendered).
pub struct Redirects {
    pub follow: bool,
    pub forward_auth_to: Vec<String>,
    /// Follow HTTPS → HTTP redirects.
    pub allow_insecure: bool,
}

pub struct Outgoing {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    /// A multipart body (instead of `body`), streamed from its files on every send.
    pub multipart: Option<std::sync::Arc<super::multipart::Multipart>>,
    /// The credential header from the auth profile.
    pub auth: Option<(HeaderName, HeaderValue)>,
    /// The TLS client certificate to present (mutual TLS).
    pub identity: Option<std::sync::Arc<crate::exec::tls::Identity>>,
}

/// An answer, after redirects.
pub struct Incoming {
    /// Where the answer came from, after redirects.
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Why an attempt got no answer.
pub enum SendError {
    Timeout(String),
    Network(String),
    Redirect(String),
    Body(String),
    /// A replay's cassette has no answer for the request.
    Missing(String),
}

/// How one attempt is sent: redirects, timeouts, the largest body read.
pub struct SendPolicy {
    pub redirects: Redirects,
    pub connect_timeout: Duration,
    /// For the whole attempt: every hop, and the body.
    pub timeout: Duration,
    pub max_body: usize,
}

/// Sends `out` with `client`, following redirects per `policy`, within its timeout.
pub async fn send(
    client: &Client,
    out: &Outgoing,
    policy: &SendPolicy,
) -> (Result<Incoming, SendError>, Vec<Hop>) {
    let mut hops = Vec::new();
    let timeout = policy.timeout;
    let result = tokio::time::timeout(timeout, follow(client, out, policy, &mut hops)).await;
    let result = match result {
        Ok(result) => result,
        Err(_) => Err(SendError::Timeout(format!(
            "no answer from {} {} within {}",
            out.method,
            out.url,
            crate::recipe::Duration(timeout)
        ))),
    };
    (result, hops)
}

async fn follow(
    client: &Client,
    out: &Outgoing,
    send: &SendPolicy,
    hops: &mut Vec<Hop>,
) -> Result<Incoming, SendError> {
    let policy = &send.redirects;
    let max_body = send.max_body;
    // The hop being sent. Its headers carry the credential while it may go along; `base`
    // holds the headers without it once a redirect changed them.
    let credential = |headers: &mut HeaderMap, with_auth: bool| {
        if with_auth && let Some((name, value)) = &out.auth {
            headers.insert(name.clone(), value.clone());
        }
    };
    let mut parts = Parts {
        method: out.method.clone(),
        url: out.url.clone(),
        headers: out.headers.clone(),
        body: out.body.clone().map(bytes::Bytes::from),
        multipart: out.multipart.clone(),
        identity: out.identity.clone(),
    };
    credential(&mut parts.headers, true);
    let mut base: Option<HeaderMap> = None;
    let mut with_auth = true;
    loop {
        let mut response = client
            .send(&mut parts, send.connect_timeout)
            .await
            .map_err(|e| match e {
                Failure::Missing(_) => SendError::Missing(describe(&parts.method, &parts.url, &e)),
                _ => {
                    let text = describe(&parts.method, &parts.url, &e);
                    SendError::Network(client_cert_hint(text, parts.identity.is_some()))
                }
            })?;
        let (method, url) = (&parts.method, &parts.url);
        let status = response.status();
        if status.is_redirection()
            && policy.follow
            && let Some(location) = response.headers().get(LOCATION)
        {
            if hops.len() >= MAX_REDIRECTS {
                return Err(SendError::Redirect(format!(
                    "more than {MAX_REDIRECTS} redirects, starting at {method} {}",
                    out.url
                )));
            }
            let location = location.to_str().map_err(|_| {
                SendError::Redirect(format!("{method} {url}: the redirect location is not text"))
            })?;
            let next = url.join(location).map_err(|e| {
                SendError::Redirect(format!(
                    "{method} {url}: bad redirect location `{location}`: {e}"
                ))
            })?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(SendError::Redirect(format!(
                    "{method} {url} redirects to `{}:` ({next}); whisk follows redirects to http and https only, and never sends a request's credential or body elsewhere",
                    next.scheme()
                )));
            }
            if downgrades(url, &next, policy.allow_insecure) {
                return Err(SendError::Redirect(format!(
                    "{method} {url} redirects from HTTPS to plain HTTP ({next}); whisk refuses to follow unless `redirects.allow_insecure` is true"
                )));
            }
            let same_host = authority(&next) == authority(&out.url);
            with_auth = with_auth && (same_host || forwarded(&next, &policy.forward_auth_to));
            let headers = base.get_or_insert_with(|| out.headers.clone());
            if !same_host {
                headers.remove(COOKIE);
            }
            let code = status.as_u16();
            let mut method = parts.method.clone();
            let mut body = parts.body.take();
            let mut multipart = parts.multipart.take();
            if code == 303 || ((code == 301 || code == 302) && method == Method::POST) {
                if method != Method::HEAD {
                    method = Method::GET;
                }
                body = None;
                multipart = None;
                headers.remove(reqwest::header::CONTENT_TYPE);
                headers.remove(reqwest::header::CONTENT_LENGTH);
            }
            hops.push(Hop {
                status: code,
                location: next.to_string(),
                auth_forwarded: with_auth && out.auth.is_some(),
            });
            // Drain the redirect's body so that the connection can be reused.
            let _ = read_body(&mut response, max_body).await;
            let mut headers = headers.clone();
            credential(&mut headers, with_auth);
            parts = Parts {
                method,
                url: next,
                headers,
                body,
                multipart,
                identity: out.identity.clone(),
            };
            continue;
        }
        let body = read_body(&mut response, max_body).await.map_err(|e| match e {
            BodyError::TooLarge => SendError::Body(format!(
                "the response body of {method} {url} is larger than {}; whisk stopped reading it (raise `max_body` if it is expected)",
                human_size(max_body)
            )),
            BodyError::Broken(detail) => SendError::Network(format!("{method} {url}: the connection broke while reading the body: {detail}")),
        })?;
        return Ok(Incoming {
            url: parts.url,
            status: status.as_u16(),
            headers: response.take_headers(),
            body,
        });
    }
}

enum BodyError {
    TooLarge,
    Broken(String),
}

async fn read_body(response: &mut Answer, max_body: usize) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n > max_body as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Broken)? {
        if body.len() + chunk.len() > max_body {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Whether following `from` → `to` would leave HTTPS for anything but HTTPS without
/// permission (`redirects.allow_insecure` permits plain HTTP, and nothing else).
pub fn downgrades(from: &Url, to: &Url, allow_insecure: bool) -> bool {
    from.scheme() == "https" && to.scheme() != "https" && !(allow_insecure && to.scheme() == "http")
}

fn human_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// A URL's host (lowercased) and port: what "the same host" compares.
pub fn authority(url: &Url) -> (String, Option<u16>) {
    (
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default(),
    )
}

/// Whether `url`'s host is listed in `forward_auth_to` (a bare host matches any port).
pub fn forwarded(url: &Url, hosts: &[String]) -> bool {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port_or_known_default();
    hosts.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        match entry.rsplit_once(':') {
            Some((h, p))
                if !h.is_empty()
                    && p.chars().all(|c| c.is_ascii_digit())
                    && !entry.ends_with(']') =>
            {
                h.trim_matches(['[', ']']) == host.trim_matches(['[', ']'])
                    && p.parse::<u16>().ok() == port
            }
            _ => entry.trim_matches(['[', ']']) == host.trim_matches(['[', ']']),
        }
    })
}

fn describe(method: &Method, url: &Url, error: &Failure) -> String {
    format!("{method} {url}: {}", error.describe())
}

/// A TLS alert that means the server wanted another client certificate (or one at all), with
/// what to do.
fn client_cert_hint(text: String, presented: bool) -> String {
    const ALERTS: [&str; 5] = [
        "CertificateRequired",
        "UnknownCA",
        "BadCertificate",
        "CertificateUnknown",
        "AccessDenied",
    ];
    if !ALERTS
        .iter()
        .any(|alert| text.contains(&format!("alert: {alert}")))
    {
        return text;
    }
    if presented {
        format!(
            "{text} (the server refused the TLS client certificate: check that `client_cert` is one its CA issued)"
        )
    } else {
        format!(
            "{text} (the server asks for a TLS client certificate: set `defaults.client_cert` or the auth profile's `client_cert`)"
        )
    }
}

/// The error and its causes, in one line.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_to_http_needs_permission() {
        let https = Url::parse("https://a.example/x").unwrap();
        let http = Url::parse("http://b.example/x").unwrap();
        assert!(downgrades(&https, &http, false));
        assert!(!downgrades(&https, &http, true));
        assert!(!downgrades(&http, &https, false));
        assert!(!downgrades(&http, &http, false));
        for scheme in ["ws", "ftp", "gopher", "file"] {
            let other = Url::parse(&format!("{scheme}://b.example/x")).unwrap();
            assert!(downgrades(&https, &other, true), "{scheme}");
        }
        assert_eq!(human_size(16 << 20), "16 MiB");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }

    #[test]
    fn forward_list_matches_hosts_and_ports() {
        let url = Url::parse("http://127.0.0.2:8080/x").unwrap();
        assert!(forwarded(&url, &["127.0.0.2".into()]));
        assert!(forwarded(&url, &["127.0.0.2:8080".into()]));
        assert!(!forwarded(&url, &["127.0.0.2:9090".into()]));
        assert!(!forwarded(&url, &["example.com".into()]));
        let https = Url::parse("https://design.example.com/ic").unwrap();
        assert!(forwarded(&https, &["design.example.com:443".into()]));
    }
}
