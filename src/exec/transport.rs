//! Where a request goes: to the network, to the network with the exchange kept for a cassette
//! (`whisk record`), or to a cassette alone, with no network at all (`whisk test`). Step
//! requests and token requests both pass through here, so a cassette holds every exchange.

use std::sync::Arc;

use reqwest::{Client, Request, Response};

use super::direct::Direct;
use super::limits::Clients;
use crate::cassette::{Player, Recorder, Replayed, Sent};

/// How requests of a run are answered.
#[derive(Clone, Default)]
pub enum Transport {
    /// Sent over the network.
    #[default]
    Live,
    /// Sent over the network; every exchange is kept for the cassette.
    Record(Arc<Recorder>),
    /// Answered from a cassette; nothing is sent.
    Replay(Arc<Player>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Live => "Live",
            Transport::Record(_) => "Record",
            Transport::Replay(_) => "Replay",
        })
    }
}

/// Why a request got no answer.
pub enum Failure {
    Http(reqwest::Error),
    /// The cassette recorded that the request got no answer.
    Cassette(String),
    /// The cassette has no such request: sending it again cannot help.
    Missing(String),
    /// The direct client's connection or exchange failed.
    Direct(String),
    /// No answer within the request's timeout.
    Timeout,
}

impl Failure {
    pub fn is_timeout(&self) -> bool {
        match self {
            Failure::Http(e) => e.is_timeout(),
            Failure::Timeout => true,
            Failure::Cassette(_) | Failure::Missing(_) | Failure::Direct(_) => false,
        }
    }

    /// The failure and its causes, in one line.
    pub fn describe(&self) -> String {
        match self {
            Failure::Http(e) => super::http::error_chain(e),
            Failure::Cassette(message) | Failure::Missing(message) | Failure::Direct(message) => {
                message.clone()
            }
            Failure::Timeout => "no answer in time".to_string(),
        }
    }
}

/// One hop of a step's request.
pub struct Parts {
    pub method: reqwest::Method,
    pub url: reqwest::Url,
    /// Every header, the credential included.
    pub headers: reqwest::header::HeaderMap,
    pub body: Option<bytes::Bytes>,
}

/// An answer whose body is still to be read.
pub enum Answer {
    Reqwest(Response),
    Direct(http::Response<super::direct::Pooled>),
}

impl Answer {
    pub fn status(&self) -> reqwest::StatusCode {
        match self {
            Answer::Reqwest(r) => r.status(),
            Answer::Direct(r) => r.status(),
        }
    }

    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        match self {
            Answer::Reqwest(r) => r.headers(),
            Answer::Direct(r) => r.headers(),
        }
    }

    pub fn take_headers(&mut self) -> reqwest::header::HeaderMap {
        match self {
            Answer::Reqwest(r) => std::mem::take(r.headers_mut()),
            Answer::Direct(r) => std::mem::take(r.headers_mut()),
        }
    }

    pub fn content_length(&self) -> Option<u64> {
        use http_body::Body as _;
        match self {
            Answer::Reqwest(r) => r.content_length(),
            Answer::Direct(r) => r.body().size_hint().exact(),
        }
    }

    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, String> {
        match self {
            Answer::Reqwest(r) => r.chunk().await.map_err(|e| super::http::error_chain(&e)),
            Answer::Direct(r) => loop {
                use http_body::Body as _;
                use http_body_util::BodyExt as _;
                // Known to be over (all of its Content-Length read): no need to wait for the
                // connection to say so.
                if r.body().is_end_stream() {
                    return Ok(None);
                }
                match r.body_mut().frame().await {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(super::http::error_chain(&e)),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                }
            },
        }
    }
}

/// How token requests (and requests outside a run) are sent: the run's reqwest clients (each
/// built when first needed), the direct client when the run has one, and where requests go.
#[derive(Clone)]
pub struct Sender {
    clients: Arc<Clients>,
    direct: Option<Arc<Direct>>,
    pub transport: Transport,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("direct", &self.direct.is_some())
            .field("transport", &self.transport)
            .finish()
    }
}

impl Sender {
    /// Sends over the network with reqwest, outside a run (`whisk auth login`).
    pub fn live() -> Sender {
        Sender::new(Arc::new(Clients::new(Vec::new())), None, Transport::Live)
    }

    /// Sends live requests with `direct` when there is one, else with a client of `clients`
    /// (built on first use: it loads the platform's certificates, which a run whose requests
    /// all go direct never needs).
    pub fn new(clients: Arc<Clients>, direct: Option<Arc<Direct>>, transport: Transport) -> Sender {
        Sender {
            clients,
            direct,
            transport,
        }
    }

    fn client(&self) -> Result<Client, Failure> {
        self.clients.get(TOKEN_CONNECT_TIMEOUT).map_err(|e| {
            Failure::Direct(format!(
                "cannot set up the HTTP client: {}",
                super::http::error_chain(&e)
            ))
        })
    }

    /// Sends `request` (its body whole, its timeout kept) and returns the answer.
    pub async fn execute(&self, request: Request) -> Result<Response, Failure> {
        if let (Transport::Live, Some(direct)) = (&self.transport, &self.direct) {
            let timeout = request.timeout().copied();
            let send = direct_whole(direct, request);
            return match timeout {
                Some(timeout) => tokio::time::timeout(timeout, send)
                    .await
                    .unwrap_or(Err(Failure::Timeout)),
                None => send.await,
            };
        }
        self.transport.execute(&self.client()?, request).await
    }
}

/// The connect timeout of token requests.
const TOKEN_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `request` sent with the direct client, its answer read whole.
async fn direct_whole(direct: &Arc<Direct>, request: Request) -> Result<Response, Failure> {
    let mut parts = Parts {
        method: request.method().clone(),
        url: request.url().clone(),
        headers: request.headers().clone(),
        body: request
            .body()
            .and_then(|b| b.as_bytes())
            .map(bytes::Bytes::copy_from_slice),
    };
    let mut answer = direct
        .send(&mut parts, TOKEN_CONNECT_TIMEOUT)
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

impl Transport {
    /// Answered from a cassette: waits (retry back-off, rate limits) are skipped.
    pub fn replaying(&self) -> bool {
        matches!(self, Transport::Replay(_))
    }

    /// Sends one hop of a step's request: with the direct client when there is one and the
    /// run is live, else as a reqwest request (proxies, recording, replay). The headers are
    /// taken out of `parts`.
    pub async fn execute_step(
        &self,
        clients: &Clients,
        direct: Option<&Arc<Direct>>,
        connect_timeout: std::time::Duration,
        parts: &mut Parts,
    ) -> Result<Answer, Failure> {
        if let (Transport::Live, Some(direct)) = (self, direct) {
            return direct
                .send(parts, connect_timeout)
                .await
                .map(Answer::Direct)
                .map_err(Failure::Direct);
        }
        let client = clients.get(connect_timeout).map_err(|e| {
            Failure::Direct(format!(
                "cannot set up the HTTP client: {}",
                super::http::error_chain(&e)
            ))
        })?;
        let mut request = client
            .request(parts.method.clone(), parts.url.clone())
            .headers(std::mem::take(&mut parts.headers));
        if let Some(body) = &parts.body {
            request = request.body(body.clone());
        }
        let request = request.build().map_err(Failure::Http)?;
        self.execute(&client, request).await.map(Answer::Reqwest)
    }

    /// Sends `request` with `client`, or answers it from the cassette.
    pub async fn execute(&self, client: &Client, request: Request) -> Result<Response, Failure> {
        match self {
            Transport::Live => client.execute(request).await.map_err(Failure::Http),
            Transport::Record(recorder) => {
                let sent = Sent::of(&request);
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
            Transport::Replay(player) => match player.answer(&Sent::of(&request)) {
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

fn rebuild(
    status: reqwest::StatusCode,
    version: reqwest::Version,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
) -> Response {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    *response.version_mut() = version;
    *response.headers_mut() = headers;
    Response::from(response)
}
