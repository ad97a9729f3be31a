//! Where a request goes: to the network, to the network with the exchange kept for a cassette
//! (`whisk record`), or to a cassette alone, with no network at all (`whisk test`). Step
//! requests and token requests both pass through here, so a cassette holds every exchange.

use std::sync::Arc;

use reqwest::{Client, Request, Response};

use super::direct::Direct;
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
    /// The cassette has no answer for the request, or recorded that it got none.
    Cassette(String),
    /// The direct client's connection or exchange failed.
    Direct(String),
}

impl Failure {
    pub fn is_timeout(&self) -> bool {
        matches!(self, Failure::Http(e) if e.is_timeout())
    }

    /// The failure and its causes, in one line.
    pub fn describe(&self) -> String {
        match self {
            Failure::Http(e) => super::http::error_chain(e),
            Failure::Cassette(message) | Failure::Direct(message) => message.clone(),
        }
    }
}

/// A client together with where its requests go.
#[derive(Clone, Debug)]
pub struct Sender {
    pub client: Client,
    pub transport: Transport,
}

impl Sender {
    pub fn live(client: Client) -> Sender {
        Sender {
            client,
            transport: Transport::Live,
        }
    }

    pub async fn execute(&self, request: Request) -> Result<Response, Failure> {
        self.transport.execute(&self.client, request).await
    }
}

impl Transport {
    /// Answered from a cassette: waits (retry back-off, rate limits) are skipped.
    pub fn replaying(&self) -> bool {
        matches!(self, Transport::Replay(_))
    }

    /// Sends a step's request: with the direct client when there is one and the run is live,
    /// else like `execute`.
    pub async fn execute_step(
        &self,
        client: &Client,
        direct: Option<&Arc<Direct>>,
        connect_timeout: std::time::Duration,
        request: Request,
    ) -> Result<Response, Failure> {
        match (self, direct) {
            (Transport::Live, Some(direct)) => direct
                .execute(request, connect_timeout)
                .await
                .map_err(Failure::Direct),
            _ => self.execute(client, request).await,
        }
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
                Replayed::Failed(message) | Replayed::Missing(message) => {
                    Err(Failure::Cassette(message))
                }
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
