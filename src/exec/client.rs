//! The HTTP client of a run, chosen once: every request of the run — a step's hops and the
//! token requests — goes through it, so that a cassette holds every exchange and one choice
//! decides where requests go.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Request, Response};

use super::direct::Direct;
use super::limits::Clients;
use super::tls::Identity;
use super::transport::{Answer, Failure, Parts, Transport, rebuild};
use crate::cassette::{Player, Recorder, Replayed, Sent};

/// The connect timeout of token requests.
const TOKEN_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How requests of a run are sent.
#[derive(Clone)]
pub enum Client {
    /// whisk's own HTTP/1.1 client: live runs without a proxy.
    Direct(Arc<Direct>),
    /// reqwest (built when first needed): live runs through a proxy.
    Reqwest(Arc<Clients>),
    /// reqwest, every exchange kept for a cassette (`whisk record`).
    Record(Arc<Clients>, Arc<Recorder>),
    /// Answered from a cassette; nothing is sent (`whisk test`).
    Replay(Arc<Player>),
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Client::Direct(_) => "Direct",
            Client::Reqwest(_) => "Reqwest",
            Client::Record(..) => "Record",
            Client::Replay(_) => "Replay",
        })
    }
}

impl Client {
    /// The client for `transport`: the direct client for live runs unless a proxy is
    /// configured (reqwest honours proxies), reqwest for recordings, the cassette for replays.
    pub fn choose(transport: &Transport, ca_certs: &super::CaCerts) -> Client {
        let clients = || Arc::new(Clients::new(ca_certs.certs.clone()));
        match transport {
            Transport::Live if super::direct::proxy_configured() => Client::Reqwest(clients()),
            Transport::Live => Client::Direct(Arc::new(Direct::new(ca_certs.pem.clone()))),
            Transport::Record(recorder) => Client::Record(clients(), recorder.clone()),
            Transport::Replay(player) => Client::Replay(player.clone()),
        }
    }

    /// A live client outside a run (`whisk auth login`): reqwest, which honours proxies.
    pub fn live() -> Client {
        Client::Reqwest(Arc::new(Clients::new(Vec::new())))
    }

    /// Answered from a cassette: waits (retry back-off, rate limits) are skipped.
    pub fn replaying(&self) -> bool {
        matches!(self, Client::Replay(_))
    }

    pub fn recording(&self) -> bool {
        matches!(self, Client::Record(..))
    }

    /// The direct client, when this is one (loop threads forget its connections).
    pub fn direct(&self) -> Option<&Direct> {
        match self {
            Client::Direct(direct) => Some(direct),
            _ => None,
        }
    }

    /// Sends one hop of a step's request. The headers are taken out of `parts`.
    pub async fn send(
        &self,
        parts: &mut Parts,
        connect_timeout: Duration,
    ) -> Result<Answer, Failure> {
        if let Client::Direct(direct) = self {
            return direct
                .send(parts, connect_timeout)
                .await
                .map(Answer::Direct)
                .map_err(Failure::Direct);
        }
        let mut request = Request::new(parts.method.clone(), parts.url.clone());
        *request.headers_mut() = std::mem::take(&mut parts.headers);
        *request.body_mut() = parts.body.clone().map(Into::into);
        let mut canonical = None;
        if let Some(multipart) = &parts.multipart {
            // A cassette keeps (and a replay compares) what the parts are, not their bytes.
            if matches!(self, Client::Record(..) | Client::Replay(_)) {
                canonical = Some(multipart.canonical().into_bytes());
            }
            if !matches!(self, Client::Replay(_)) {
                let body = multipart.body().map_err(|e| {
                    Failure::Direct(format!("cannot open a file of the multipart body: {e}"))
                })?;
                *request.body_mut() = Some(reqwest::Body::wrap(body));
            }
        }
        // Boxed: the direct client above is the common case, and its requests' futures need
        // not be as large as this path's state (see `Direct::send`).
        Box::pin(self.whole_as(request, connect_timeout, canonical, parts.identity.clone()))
            .await
            .map(Answer::Reqwest)
    }

    /// Sends a token request (its body whole, its timeout kept) and returns the answer whole.
    pub async fn execute(
        &self,
        request: Request,
        identity: Option<Arc<Identity>>,
    ) -> Result<Response, Failure> {
        self.whole_as(request, TOKEN_CONNECT_TIMEOUT, None, identity)
            .await
    }

    /// Sends `request` and reads its answer whole: over the network (kept for the cassette
    /// when recording), or from the cassette; `canonical` is what a cassette records in place
    /// of the body (a multipart body's description), `identity` the client certificate.
    async fn whole_as(
        &self,
        request: Request,
        connect_timeout: Duration,
        canonical: Option<Vec<u8>>,
        identity: Option<Arc<Identity>>,
    ) -> Result<Response, Failure> {
        let sent_of = |request: &Request| {
            let mut sent = Sent::of(request);
            if let Some(body) = &canonical {
                sent.body = body.clone();
            }
            sent
        };
        let client = |clients: &Clients| {
            clients
                .get(connect_timeout, identity.as_deref())
                .map_err(|e| Failure::Direct(format!("cannot set up the HTTP client: {e}")))
        };
        match self {
            Client::Direct(direct) => {
                let timeout = request.timeout().copied();
                let send = whole(direct, request, connect_timeout, identity.clone());
                match timeout {
                    Some(timeout) => tokio::time::timeout(timeout, send)
                        .await
                        .unwrap_or(Err(Failure::Timeout)),
                    None => send.await,
                }
            }
            Client::Reqwest(clients) => client(clients)?
                .execute(request)
                .await
                .map_err(Failure::Http),
            Client::Record(clients, recorder) => {
                let client = client(clients)?;
                let sent = sent_of(&request);
                let response = match client.execute(request).await {
                    Ok(response) => response,
                    Err(error) => {
                        recorder.failed(sent, super::http::error_chain(&error));
                        return Err(Failure::Http(error));
                    }
                };
                let status = response.status();
                let version = response.version();
                let headers = response.headers().clone();
                let body = match response.bytes().await {
                    Ok(body) => body,
                    Err(error) => {
                        recorder.failed(sent, super::http::error_chain(&error));
                        return Err(Failure::Http(error));
                    }
                };
                recorder.answered(sent, status.as_u16(), &headers, &body);
                Ok(rebuild(status, version, headers, body.to_vec()))
            }
            Client::Replay(player) => match player.answer(&sent_of(&request)) {
                Replayed::Answer {
                    status,
                    headers,
                    body,
                } => {
                    let status = reqwest::StatusCode::from_u16(status)
                        .map_err(|_| Failure::Cassette(format!("bad status {status}")))?;
                    Ok(rebuild(status, reqwest::Version::HTTP_11, headers, body))
                }
                Replayed::Failed(message) => Err(Failure::Cassette(message)),
                Replayed::Missing(message) => Err(Failure::Missing(message)),
            },
        }
    }
}

/// `request` sent with the direct client, its answer read whole.
async fn whole(
    direct: &Arc<Direct>,
    request: Request,
    connect_timeout: Duration,
    identity: Option<Arc<Identity>>,
) -> Result<Response, Failure> {
    let mut parts = Parts {
        method: request.method().clone(),
        url: request.url().clone(),
        headers: request.headers().clone(),
        body: request
            .body()
            .and_then(|b| b.as_bytes())
            .map(bytes::Bytes::copy_from_slice),
        multipart: None,
        identity,
    };
    let mut answer = direct
        .send(&mut parts, connect_timeout)
        .await
        .map(Answer::Direct)
        .map_err(Failure::Direct)?;
    let status = answer.status();
    let headers = answer.take_headers();
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(Failure::Direct)? {
        body.extend_from_slice(&chunk);
    }
    Ok(rebuild(status, reqwest::Version::HTTP_11, headers, body))
}
