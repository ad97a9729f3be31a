//! Answering a replayed run's requests from a cassette. A request matches a recorded one with
//! the same method, URL and body once both are masked, so that secrets and tokens (which a
//! replay does not have) do not matter. Recorded exchanges are used in order; when a request is
//! made more often than it was recorded (a token refreshed later in a slower recording, say),
//! its last answer is given again.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::HeaderMap;

use super::model::{Body, Cassette, header_map};
use super::recorder::Sent;
use crate::redact::Redactor;

type Key = (String, String, String);

/// What the cassette says about one request.
pub enum Replayed {
    Answer {
        status: u16,
        headers: HeaderMap,
        body: Vec<u8>,
    },
    /// The recording got no answer either.
    Failed(String),
    /// The cassette has no such request.
    Missing(String),
}

pub struct Player {
    cassette: Cassette,
    /// Where the cassette was read from, for messages.
    name: String,
    by_key: HashMap<Key, Vec<usize>>,
    used: Mutex<Vec<bool>>,
    /// The requests the cassette did not hold (method and masked URL), in the order asked.
    missed: Mutex<Vec<String>>,
    redactor: Redactor,
}

impl Player {
    /// A player for `cassette`; `redactor` is the replayed run's, which masks its requests the
    /// way the recording's were masked.
    pub fn new(cassette: Cassette, name: String, redactor: Redactor) -> Player {
        let mut by_key: HashMap<Key, Vec<usize>> = HashMap::new();
        for (index, interaction) in cassette.interactions.iter().enumerate() {
            let request = &interaction.request;
            let key = (
                request.method.clone(),
                request.url.clone(),
                request.body.key(),
            );
            by_key.entry(key).or_default().push(index);
        }
        let used = Mutex::new(vec![false; cassette.interactions.len()]);
        Player {
            cassette,
            name,
            by_key,
            used,
            missed: Mutex::default(),
            redactor,
        }
    }

    pub fn answer(&self, sent: &Sent) -> Replayed {
        let masker = self.redactor.masker();
        let url = masker.mask(&sent.url).into_owned();
        let body = Body::masked(&sent.body, &masker);
        let key = (sent.method.clone(), url, body.key());
        let Some(candidates) = self.by_key.get(&key) else {
            self.missed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{} {}", key.0, key.1));
            return Replayed::Missing(self.missing(&key));
        };
        let index = {
            let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
            let index = candidates
                .iter()
                .copied()
                .find(|&i| !used[i])
                .unwrap_or(candidates[candidates.len() - 1]);
            used[index] = true;
            index
        };
        let interaction = &self.cassette.interactions[index];
        match (&interaction.response, &interaction.error) {
            (Some(response), _) => Replayed::Answer {
                status: response.status,
                headers: header_map(&response.headers),
                body: response.body.bytes(),
            },
            (None, error) => Replayed::Failed(format!(
                "{} (as recorded in `{}`)",
                error.as_deref().unwrap_or("no answer"),
                self.name
            )),
        }
    }

    fn missing(&self, (method, url, _): &Key) -> String {
        let same_url = self
            .cassette
            .interactions
            .iter()
            .filter(|i| i.request.method == *method && i.request.url == *url)
            .count();
        let detail = match same_url {
            0 => String::new(),
            n => format!(
                " (it has {n} for this method and URL with {} body)",
                if n == 1 { "another" } else { "other bodies" }
            ),
        };
        format!(
            "not in the cassette `{}`{detail}; the recipe or its inputs changed since it was recorded: record it again with `whisk record`",
            self.name
        )
    }

    /// The requests the replay made that the cassette does not hold, as `METHOD URL` (masked).
    pub fn missed(&self) -> Vec<String> {
        self.missed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many recorded exchanges the replay did not ask for.
    pub fn unused(&self) -> usize {
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|u| !**u)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::Recorder;

    fn sent(method: &str, url: &str, body: &str) -> Sent {
        Sent {
            method: method.into(),
            url: url.into(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn matches_masked_requests_in_order_and_repeats_the_last() {
        let recording = Redactor::new();
        recording.add("real-refresh-token");
        let recorder = Recorder::default();
        let token = sent(
            "POST",
            "http://127.0.0.1/token",
            "grant_type=refresh_token&refresh_token=real-refresh-token",
        );
        recorder.answered(token.clone(), 200, &HeaderMap::new(), b"{\"n\":1}");
        recorder.answered(token, 200, &HeaderMap::new(), b"{\"n\":2}");
        let cassette = recorder.cassette(
            &recording.masker(),
            "r.yaml".into(),
            "t".into(),
            Default::default(),
        );
        assert!(
            !serde_json::to_string(&cassette)
                .unwrap()
                .contains("real-refresh-token")
        );

        // The replay holds another value where the recording held the secret.
        let replaying = Redactor::new();
        replaying.add("placeholder");
        let player = Player::new(cassette, "c.json".into(), replaying);
        let asked = sent(
            "POST",
            "http://127.0.0.1/token",
            "grant_type=refresh_token&refresh_token=placeholder",
        );
        let bodies: Vec<Vec<u8>> = (0..3)
            .map(|_| match player.answer(&asked) {
                Replayed::Answer { body, .. } => body,
                _ => panic!("no answer"),
            })
            .collect();
        assert_eq!(
            bodies,
            [
                b"{\"n\":1}".to_vec(),
                b"{\"n\":2}".to_vec(),
                b"{\"n\":2}".to_vec()
            ]
        );
        assert_eq!(player.unused(), 0);
        match player.answer(&sent("POST", "http://127.0.0.1/token", "other")) {
            Replayed::Missing(message) => {
                assert!(message.contains("2 for this method and URL"), "{message}")
            }
            _ => panic!("matched a request with another body"),
        }
    }
}
