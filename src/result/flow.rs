//! What polling did: how many polls, how it ended, and the polls themselves (the first few
//! and the last ones, so that a long poll inside a large loop stays small).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The polls of an `until` step.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Polls {
    pub count: u32,
    pub elapsed_ms: u64,
    /// `satisfied`, `failed_if`, `timed_out`, `max_polls`, `failed` (a poll failed) or
    /// `interrupted`.
    pub outcome: std::borrow::Cow<'static, str>,
    /// The first `FIRST_POLLS` and the last `LAST_POLLS` polls, in order.
    pub entries: Vec<Poll>,
    /// Polls left out between them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

pub const FIRST_POLLS: usize = 5;
pub const LAST_POLLS: usize = 20;

/// One poll.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Poll {
    pub n: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// Tries the poll took (retries and token refreshes included).
    pub attempts: usize,
    /// The wait before the next poll.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
    /// The captures, when they differ from the poll before (the state changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captures: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Polls {
    pub fn new() -> Polls {
        Polls {
            count: 0,
            elapsed_ms: 0,
            outcome: "satisfied".into(),
            entries: Vec::new(),
            omitted: 0,
        }
    }

    /// Adds a poll, keeping the first and last ones.
    pub fn push(&mut self, poll: Poll) {
        self.count += 1;
        self.entries.push(poll);
        if self.entries.len() > FIRST_POLLS + LAST_POLLS {
            self.entries.remove(FIRST_POLLS);
            self.omitted += 1;
        }
    }

    /// The last poll.
    pub fn last_mut(&mut self) -> Option<&mut Poll> {
        self.entries.last_mut()
    }
}

impl Default for Polls {
    fn default() -> Polls {
        Polls::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_and_the_last_polls() {
        let mut polls = Polls::new();
        for n in 1..=40 {
            polls.push(Poll {
                n,
                status: Some(200),
                duration_ms: 1,
                attempts: 1,
                wait_ms: None,
                captures: None,
            });
        }
        let kept: Vec<u32> = polls.entries.iter().map(|p| p.n).collect();
        assert_eq!(kept[..5], [1, 2, 3, 4, 5]);
        assert_eq!(kept[5..], (21..=40).collect::<Vec<_>>()[..]);
        assert_eq!((polls.count, polls.omitted), (40, 15));
    }
}
