//! Keeping the exchanges of a recorded run. They are held unmasked in memory while the run goes
//! on (a token is known to be secret only once its answer is read) and masked all at once when
//! the cassette is made.

use std::sync::Mutex;

use reqwest::header::HeaderMap;

use super::model::{
    Body, Cassette, FORMAT_VERSION, Interaction, RecordedRequest, RecordedResponse, masked_headers,
};
use crate::redact::Masker;

/// A request as it went out.
#[derive(Clone, Debug)]
pub struct Sent {
    pub method: String,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Sent {
    pub fn of(request: &reqwest::Request) -> Sent {
        Sent {
            method: request.method().to_string(),
            url: request.url().to_string(),
            headers: request.headers().clone(),
            body: request
                .body()
                .and_then(|b| b.as_bytes())
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
        }
    }

    /// The request masked as a cassette holds it.
    pub fn masked(&self, redactor: &Masker) -> RecordedRequest {
        RecordedRequest {
            method: self.method.clone(),
            url: redactor.mask(&self.url).into_owned(),
            headers: masked_headers(&self.headers, redactor),
            body: Body::masked(&self.body, redactor),
        }
    }
}

struct Raw {
    sent: Sent,
    answer: Result<(u16, HeaderMap, Vec<u8>), String>,
}

/// The exchanges of a run being recorded.
#[derive(Default)]
pub struct Recorder {
    exchanges: Mutex<Vec<Raw>>,
}

impl Recorder {
    pub fn answered(&self, sent: Sent, status: u16, headers: &HeaderMap, body: &[u8]) {
        self.push(Raw {
            sent,
            answer: Ok((status, headers.clone(), body.to_vec())),
        });
    }

    pub fn failed(&self, sent: Sent, error: String) {
        self.push(Raw {
            sent,
            answer: Err(error),
        });
    }

    fn push(&self, raw: Raw) {
        self.exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(raw);
    }

    pub fn len(&self) -> usize {
        self.exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cassette: every exchange masked with everything `redactor` learnt during the run.
    pub fn cassette(
        &self,
        redactor: &Masker,
        recipe: String,
        recorded_at: String,
        mut inputs: serde_json::Map<String, serde_json::Value>,
    ) -> Cassette {
        for value in inputs.values_mut() {
            redactor.mask_value(value);
        }
        let exchanges = self.exchanges.lock().unwrap_or_else(|e| e.into_inner());
        let interactions = exchanges
            .iter()
            .map(|raw| {
                let request = raw.sent.masked(redactor);
                match &raw.answer {
                    Ok((status, headers, body)) => Interaction {
                        request,
                        response: Some(RecordedResponse {
                            status: *status,
                            headers: masked_headers(headers, redactor),
                            body: Body::masked(body, redactor),
                        }),
                        error: None,
                    },
                    Err(error) => Interaction {
                        request,
                        response: None,
                        error: Some(redactor.mask(error).into_owned()),
                    },
                }
            })
            .collect();
        Cassette {
            whisk_cassette: FORMAT_VERSION,
            recipe,
            recorded_at,
            inputs,
            run_failed: false,
            interactions,
        }
    }
}
