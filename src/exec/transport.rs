//! Where the requests of a run go (`Transport`: the network, the network with every exchange
//! kept for a cassette, or a cassette alone), and what goes and comes back: a hop's `Parts`,
//! an `Answer` whose body is still to be read, a `Failure`.

use std::sync::Arc;

use reqwest::Response;

use crate::cassette::{Player, Recorder};

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
    /// A multipart body, streamed from its files (instead of `body`).
    pub multipart: Option<std::sync::Arc<super::multipart::Multipart>>,
    /// The TLS client certificate to present.
    pub identity: Option<std::sync::Arc<crate::exec::tls::Identity>>,
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

pub(super) fn rebuild(
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
