//! A lean HTTP/1.1 client for step and token requests on direct connections: hyper's connection
//! API and a small pool of idle connections per origin and thread. A fan-out sends thousands of
//! requests, and reqwest's full stack (its tower layers, proxy matching, its own pool) costs
//! more CPU per request than the rest of whisk; this client does only what a request needs.
//! reqwest sends every request when a proxy is configured (see `proxy_configured`).
//!
//! What it does: `Host`, `User-Agent` and `Accept` headers as reqwest sets them, connect
//! timeout, TCP_NODELAY, TLS with rustls (the platform's roots plus `--ca-cert`, ALPN
//! `http/1.1`), connection reuse once a response body was read to its end, and one resend on a
//! fresh connection when a reused one turns out to be closed before the request went out (hyper
//! hands the unsent request back). A connection is driven by a task on the runtime of the thread
//! that opened it and only ever reused by that thread (see `threads.rs`), so each thread keeps
//! its idle connections to itself: taking one and giving it back locks nothing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::transport::Parts;
use reqwest::header::{ACCEPT, HOST, HeaderValue, USER_AGENT};

const MAX_IDLE_PER_ORIGIN: usize = 256;

use super::tls::Identity;

type Sender = SendRequest<OutBody>;

/// A request body: whole, or a multipart body streamed from its files.
type OutBody = http_body_util::Either<Full<Bytes>, super::multipart::MultipartBody>;

#[derive(Debug)]
struct Origin {
    tls: bool,
    host: String,
    port: u16,
    /// The `Host` header of its requests.
    host_header: Option<HeaderValue>,
    /// The TLS client certificate its connections present (HTTPS only).
    identity: Option<Arc<Identity>>,
}

impl Origin {
    fn new(tls: bool, host: &str, port: u16, identity: Option<Arc<Identity>>) -> Origin {
        let default_port = if tls { 443 } else { 80 };
        let header = if port == default_port {
            HeaderValue::from_str(host)
        } else {
            HeaderValue::from_str(&format!("{host}:{port}"))
        };
        Origin {
            tls,
            host: host.to_string(),
            port,
            host_header: header.ok(),
            identity: identity.filter(|_| tls),
        }
    }

    fn is(&self, tls: bool, host: &str, port: u16, identity: Option<u64>) -> bool {
        self.tls == tls
            && self.port == port
            && self.host == host
            && (!tls || self.identity.as_ref().map(|i| i.id) == identity)
    }
}

/// An origin of a client on this thread, and its idle connections.
struct Idle {
    /// The client's `Direct::id`.
    client: u64,
    origin: Arc<Origin>,
    senders: Vec<Sender>,
}

thread_local! {
    /// This thread's origins and their idle connections, of every client (a run has one; tests
    /// make many). A handful of entries: a linear search beats hashing.
    static IDLE: RefCell<Vec<Idle>> = const { RefCell::new(Vec::new()) };
}

/// Numbers the clients, whose idle connections share a thread's list.
static CLIENTS: AtomicU64 = AtomicU64::new(0);

/// The client: the TLS configuration, made on first use; its idle connections are in `IDLE`.
pub struct Direct {
    id: u64,
    roots: Vec<Vec<u8>>,
    /// TLS configurations by client certificate (0: none), made on first use.
    tls: Mutex<HashMap<u64, Result<tokio_rustls::TlsConnector, String>>>,
}

impl Drop for Direct {
    /// Its idle connections on this thread go with it (the loop threads forgot theirs when
    /// their runtimes ended).
    fn drop(&mut self) {
        self.forget_this_thread();
    }
}

/// Whether the environment names a proxy, which reqwest honours and this client does not.
pub fn proxy_configured() -> bool {
    [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

impl Direct {
    /// `roots`: PEM files of certificate authorities trusted besides the platform's.
    pub fn new(roots: Vec<Vec<u8>>) -> Direct {
        Direct {
            id: CLIENTS.fetch_add(1, Ordering::Relaxed),
            roots,
            tls: Mutex::new(HashMap::new()),
        }
    }

    /// Sends `parts` and returns the response, whose body streams from the connection.
    pub async fn send(
        self: &Arc<Self>,
        parts: &mut Parts,
        connect_timeout: Duration,
    ) -> Result<http::Response<Pooled>, String> {
        let (origin, idle) = self.checkout(&parts.url, parts.identity.as_ref());
        let mut reused = true;
        let pooled = match idle {
            // Ready once the connection finished with its previous exchange.
            Some(mut sender) => sender.ready().await.is_ok().then_some(sender),
            None => None,
        };
        let mut sender = match pooled {
            Some(sender) => sender,
            None => {
                reused = false;
                // Boxed, as below: a request's future moves from caller to callee at every
                // `.await` on its way down and is as large as the largest state it may hold.
                // The TCP and TLS handshake made every request's future kilobytes larger, and
                // that copying was a tenth of a fan-out's CPU time; a new connection is rare
                // enough to pay an allocation instead.
                Box::pin(self.connect(&origin, connect_timeout)).await?
            }
        };
        let mut request = to_http(parts, &origin)?;
        let response = loop {
            match sender.try_send_request(request).await {
                Ok(response) => break response,
                Err(mut error) => match error.take_message() {
                    // A pooled connection the server closed meanwhile: the request came back
                    // unsent, and goes on a new connection.
                    Some(unsent) if reused => {
                        request = unsent;
                        reused = false;
                        sender = Box::pin(self.connect(&origin, connect_timeout)).await?;
                    }
                    _ => return Err(super::http::error_chain(error.error())),
                },
            }
        };
        let (head, body) = response.into_parts();
        let body = Pooled {
            body,
            back: Mutex::new(Some((self.clone(), origin, sender))),
        };
        Ok(http::Response::from_parts(head, body))
    }

    /// Drops the idle connections of this thread, whose runtime is ending.
    pub fn forget_this_thread(&self) {
        // Taken out first: dropping a connection must not find the list borrowed.
        // (None when the thread's list is already gone: the thread is ending.)
        let gone: Option<Vec<Idle>> = IDLE
            .try_with(|idle| {
                let mut idle = idle.borrow_mut();
                let (gone, kept) = std::mem::take(&mut *idle)
                    .into_iter()
                    .partition(|entry| entry.client == self.id);
                *idle = kept;
                gone
            })
            .ok();
        drop(gone);
    }

    /// The origin of `url` on this thread, and an idle connection to it if there is one.
    fn checkout(
        &self,
        url: &reqwest::Url,
        identity: Option<&Arc<Identity>>,
    ) -> (Arc<Origin>, Option<Sender>) {
        let tls = url.scheme() == "https";
        let id = identity.map(|i| i.id);
        let host = host_of(url);
        let port = url.port_or_known_default().unwrap_or(80);
        IDLE.with(|idle| {
            let mut idle = idle.borrow_mut();
            let Some(entry) = idle
                .iter_mut()
                .find(|e| e.client == self.id && e.origin.is(tls, host, port, id))
            else {
                let origin = Arc::new(Origin::new(tls, host, port, identity.cloned()));
                idle.push(Idle {
                    client: self.id,
                    origin: origin.clone(),
                    senders: Vec::new(),
                });
                return (origin, None);
            };
            while let Some(sender) = entry.senders.pop() {
                if !sender.is_closed() {
                    return (entry.origin.clone(), Some(sender));
                }
            }
            (entry.origin.clone(), None)
        })
    }

    /// Keeps `sender` for the next request to `origin`, when this is the thread that opened
    /// it (its origin is in this thread's list); otherwise the connection is closed.
    fn checkin(&self, origin: &Arc<Origin>, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        // A thread whose list is gone (it is ending) closes the connection.
        let _ = IDLE.try_with(|idle| {
            let mut idle = idle.borrow_mut();
            if let Some(entry) = idle
                .iter_mut()
                .find(|e| e.client == self.id && Arc::ptr_eq(&e.origin, origin))
                && entry.senders.len() < MAX_IDLE_PER_ORIGIN
            {
                entry.senders.push(sender);
            }
        });
    }

    async fn connect(&self, origin: &Origin, timeout: Duration) -> Result<Sender, String> {
        let address = (origin.host.trim_matches(['[', ']']), origin.port);
        let stream =
            match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    return Err(format!(
                        "cannot connect to {}:{}: {error}",
                        origin.host, origin.port
                    ));
                }
                Err(_) => {
                    return Err(format!(
                        "cannot connect to {}:{}: no connection within {}",
                        origin.host,
                        origin.port,
                        crate::recipe::Duration(timeout)
                    ));
                }
            };
        let _ = stream.set_nodelay(true);
        if origin.tls {
            let connector = self.tls(origin.identity.as_deref())?;
            let name = rustls_pki_types::ServerName::try_from(
                origin.host.trim_matches(['[', ']']).to_string(),
            )
            .map_err(|e| format!("`{}` is not a valid TLS server name: {e}", origin.host))?;
            let stream = tokio::time::timeout(timeout, connector.connect(name, stream))
                .await
                .map_err(|_| {
                    format!(
                        "TLS handshake with {}:{} did not finish within {}",
                        origin.host,
                        origin.port,
                        crate::recipe::Duration(timeout)
                    )
                })?
                .map_err(|e| {
                    format!(
                        "TLS handshake with {}:{} failed: {}",
                        origin.host,
                        origin.port,
                        super::http::error_chain(&e)
                    )
                })?;
            handshake(TokioIo::new(stream)).await
        } else {
            handshake(TokioIo::new(stream)).await
        }
    }

    fn tls(&self, identity: Option<&Identity>) -> Result<tokio_rustls::TlsConnector, String> {
        let mut made = self.tls.lock().unwrap_or_else(|e| e.into_inner());
        made.entry(identity.map_or(0, |i| i.id))
            .or_insert_with(|| tls_connector(&self.roots, identity))
            .clone()
    }
}

async fn handshake<T>(io: TokioIo<T>) -> Result<Sender, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP handshake failed: {}", super::http::error_chain(&e)))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// The host of `url` as the origin names it.
fn host_of(url: &reqwest::Url) -> &str {
    url.host_str().unwrap_or_default()
}

/// rustls with the platform's verifier and the extra roots, offering HTTP/1.1 only, and
/// presenting `identity` when the server asks for a client certificate.
fn tls_connector(
    roots: &[Vec<u8>],
    identity: Option<&Identity>,
) -> Result<tokio_rustls::TlsConnector, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut extra = Vec::new();
    for pem in roots {
        for cert in CertificateDer::pem_slice_iter(pem) {
            extra.push(cert.map_err(|e| format!("bad CA certificate: {e}"))?);
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| format!("cannot set up certificate verification: {e}"))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some(identity) => {
            let (chain, key) = identity.rustls();
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("the client certificate is not usable: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The request in hyper's form: origin-form target, `Host`, and reqwest's default headers. The
/// headers are moved out of `parts`.
fn to_http(parts: &mut Parts, origin: &Origin) -> Result<http::Request<OutBody>, String> {
    let url = &parts.url;
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let body = match &parts.multipart {
        Some(multipart) => http_body_util::Either::Right(
            multipart
                .body()
                .map_err(|e| format!("cannot open a file of the multipart body: {e}"))?,
        ),
        None => http_body_util::Either::Left(Full::new(parts.body.clone().unwrap_or_default())),
    };
    let mut out = http::Request::new(body);
    *out.method_mut() = parts.method.clone();
    *out.uri_mut() = http::Uri::try_from(target).unwrap_or_else(|_| http::Uri::from_static("/"));
    let headers = out.headers_mut();
    *headers = std::mem::take(&mut parts.headers);
    if !headers.contains_key(HOST)
        && let Some(host) = &origin.host_header
    {
        headers.insert(HOST, host.clone());
    }
    if !headers.contains_key(USER_AGENT) {
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(super::limits::USER_AGENT),
        );
    }
    if !headers.contains_key(ACCEPT) {
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    }
    Ok(out)
}

impl Drop for Pooled {
    fn drop(&mut self) {
        // Read to the end, but the reader stopped before asking again: the connection is free.
        if self.body.is_end_stream() {
            self.release();
        }
    }
}

/// Where a connection goes back to: the client's pool, under its origin.
type Back = (Arc<Direct>, Arc<Origin>, Sender);

/// A response body that gives its connection back to the pool once read to the end.
pub struct Pooled {
    body: hyper::body::Incoming,
    back: Mutex<Option<Back>>,
}

impl Pooled {
    fn release(&self) {
        let back = self.back.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((direct, origin, sender)) = back {
            direct.checkin(&origin, sender);
        }
    }
}

impl http_body::Body for Pooled {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.release(),
            Poll::Ready(Some(Ok(_))) if self.body.is_end_stream() => self.release(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let end = self.body.is_end_stream();
        if end {
            self.release();
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
