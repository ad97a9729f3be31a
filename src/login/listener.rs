//! Receives the redirect on a loopback `http` redirect URI (RFC 8252 §7.3): binds the URI's
//! host and port, answers the one GET on its path with a small page, and hands over the query.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use reqwest::Url;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::redirect::{self, Redirect};

const SIGNED_IN: &str = "<!doctype html><meta charset=utf-8><title>whisk</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Signed in</h1>\
<p>whisk received the authorization. You can close this tab and return to the terminal.</p>";
const REFUSED: &str = "<!doctype html><meta charset=utf-8><title>whisk</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Sign-in refused</h1>\
<p>The authorization server did not grant access. The terminal shows why.</p>";

/// The address a loopback `http` redirect URI names, or `None` for any other URI.
pub fn loopback_address(uri: &Url) -> Option<SocketAddr> {
    if uri.scheme() != "http" {
        return None;
    }
    let ip = match uri.host()? {
        url::Host::Ipv4(ip) if ip.is_loopback() => IpAddr::V4(ip),
        url::Host::Ipv6(ip) if ip.is_loopback() => IpAddr::V6(ip),
        url::Host::Domain("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
        _ => return None,
    };
    Some(SocketAddr::new(ip, uri.port_or_known_default()?))
}

/// A bound redirect receiver.
pub struct Receiver {
    listener: TcpListener,
    path: String,
}

#[derive(Clone)]
struct Shared {
    path: String,
    found: mpsc::Sender<Redirect>,
}

impl Receiver {
    /// Binds the redirect URI's address; fails when it is taken or not a loopback address.
    pub async fn bind(uri: &Url) -> Result<Receiver, String> {
        let address = loopback_address(uri)
            .ok_or_else(|| format!("`{uri}` is not a loopback `http` redirect URI"))?;
        let listener = TcpListener::bind(address)
            .await
            .map_err(|e| format!("cannot listen on {address} for the redirect: {e}"))?;
        Ok(Receiver {
            listener,
            path: uri.path().to_string(),
        })
    }

    /// Serves until a GET on the redirect path carries `code` or `error`, and returns it.
    pub async fn receive(self) -> Result<Redirect, String> {
        let (found, mut arrived) = mpsc::channel(1);
        let app = Router::new().fallback(answer).with_state(Shared {
            path: self.path,
            found,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(self.listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        let redirect = arrived.recv().await;
        let _ = stop.send(());
        // Let the page reach the browser; a keep-alive connection must not hold us up.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), server).await;
        redirect.ok_or_else(|| "the redirect receiver stopped before a redirect arrived".into())
    }
}

async fn answer(State(shared): State<Shared>, method: Method, uri: Uri) -> Response {
    if method != Method::GET || uri.path() != shared.path {
        return (StatusCode::NOT_FOUND, "not the redirect URI").into_response();
    }
    let Ok(redirect) = redirect::from_query(uri.query().unwrap_or_default()) else {
        return (
            StatusCode::BAD_REQUEST,
            "the redirect has neither `code` nor `error`",
        )
            .into_response();
    };
    let page = match &redirect {
        Redirect::Code { .. } | Redirect::BareCode { .. } => SIGNED_IN,
        Redirect::Refused { .. } => REFUSED,
    };
    let _ = shared.found.try_send(redirect);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_uris_are_received_here() {
        let addr = |s: &str| loopback_address(&Url::parse(s).unwrap());
        assert_eq!(
            addr("http://127.0.0.1:8765/callback"),
            Some("127.0.0.1:8765".parse().unwrap())
        );
        assert_eq!(
            addr("http://localhost/cb"),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(addr("http://[::1]:9/cb"), Some("[::1]:9".parse().unwrap()));
        assert_eq!(addr("https://127.0.0.1:8765/callback"), None);
        assert_eq!(addr("http://app.example/cb"), None);
    }

    #[tokio::test]
    async fn answers_the_redirect_and_hands_over_the_code() {
        let receiver = Receiver::bind(&Url::parse("http://127.0.0.1:0/callback").unwrap())
            .await
            .unwrap();
        let port = receiver.listener.local_addr().unwrap().port();
        let waiting = tokio::spawn(receiver.receive());
        let client = reqwest::Client::new();
        let other = client
            .get(format!("http://127.0.0.1:{port}/favicon.ico"))
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 404);
        let page = client
            .get(format!("http://127.0.0.1:{port}/callback?code=c1&state=s1"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Signed in"));
        assert_eq!(
            waiting.await.unwrap(),
            Ok(Redirect::Code {
                code: "c1".into(),
                state: Some("s1".into())
            })
        );
    }
}
