//! A random fault schedule: each request to the platforms' APIs draws a fault with a given
//! probability from a generator seeded with a number, so that one seed gives the same faults
//! to the same requests (in order of arrival) every time.

use serde::{Deserialize, Serialize};

use super::Fault;

/// Faults drawn at random, on top of the listed ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSchedule {
    /// Seeds the generator: the same seed, the same schedule.
    pub seed: u64,
    /// The chance that a request draws a fault, from 0 to 1.
    pub rate: f64,
    /// The paths it applies to (exact, or a prefix followed by `*`): by default the APIs of
    /// the three platforms, not their token endpoints.
    #[serde(default = "api_paths")]
    pub paths: Vec<String>,
    /// The faults it draws from, each as likely as the others; by default all of them.
    #[serde(default = "every_kind")]
    pub kinds: Vec<FaultKind>,
    /// Faults are transient: after this many for one method and path without a success in
    /// between, requests to them go through until one succeeds (a 401 for an expired or
    /// revoked token does not count as one).
    #[serde(default = "two")]
    pub max_in_a_row: u32,
    /// A revocation is an event at the identity provider, not a property of a request: at
    /// most one in this many milliseconds. (Two in quick succession would revoke the token a
    /// client just got for the first, which is indistinguishable from a server that refuses
    /// every token.)
    #[serde(default = "a_second")]
    pub revoke_interval_ms: u64,
}

fn two() -> u32 {
    2
}

fn a_second() -> u64 {
    1000
}

/// What a drawn fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// `503 Service Unavailable`.
    Unavailable,
    /// `429 Too Many Requests` with `Retry-After: 1`.
    RateLimited,
    /// The connection is reset before an answer.
    Reset,
    /// No answer ever comes.
    Hang,
    /// Every access token issued so far is revoked (a 401 storm), then the request goes on.
    Revoke,
}

fn api_paths() -> Vec<String> {
    ["/tci/v1/*", "/manage/oauth/*", "/ic/api/*"]
        .map(String::from)
        .to_vec()
}

fn every_kind() -> Vec<FaultKind> {
    vec![
        FaultKind::Unavailable,
        FaultKind::RateLimited,
        FaultKind::Reset,
        FaultKind::Hang,
        FaultKind::Revoke,
    ]
}

impl FaultSchedule {
    /// A schedule over the default paths and kinds.
    pub fn new(seed: u64, rate: f64) -> FaultSchedule {
        FaultSchedule {
            seed,
            rate,
            paths: api_paths(),
            kinds: every_kind(),
            max_in_a_row: two(),
            revoke_interval_ms: a_second(),
        }
    }

    /// Whether a request to `path` takes part in the schedule.
    pub(crate) fn covers(&self, path: &str) -> bool {
        self.paths
            .iter()
            .any(|p| super::fault::path_matches(p, path))
    }
}

impl FaultKind {
    /// The fault this kind injects into one request to `path`.
    pub(crate) fn fault(self, path: &str) -> Fault {
        match self {
            FaultKind::Unavailable => Fault::status(path, 503, 1),
            FaultKind::RateLimited => Fault::status(path, 429, 1).with_retry_after(1),
            FaultKind::Reset => Fault::reset(path, 1),
            FaultKind::Hang => Fault::hang(path, 1),
            FaultKind::Revoke => Fault::revoke(path, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_the_apis_and_not_the_token_endpoints() {
        let schedule = FaultSchedule::new(1, 0.5);
        assert!(schedule.covers("/tci/v1/subscriptions/101/apiservice/access"));
        assert!(schedule.covers("/ic/api/integration/v1/connections"));
        assert!(schedule.covers("/manage/oauth/getUserIdentity"));
        assert!(!schedule.covers("/idm/v1/oauth2/token"));
        assert!(!schedule.covers("/manage/oauth2/token"));
        assert!(!schedule.covers("/oauth2/v1/token"));
    }

    #[test]
    fn kinds_read_as_snake_case() {
        let schedule: FaultSchedule =
            serde_json::from_str(r#"{"seed": 3, "rate": 0.2, "kinds": ["rate_limited", "hang"]}"#)
                .expect("a schedule");
        assert_eq!(schedule.kinds, [FaultKind::RateLimited, FaultKind::Hang]);
        assert_eq!(schedule.paths, api_paths());
        let fault = FaultKind::RateLimited.fault("/x");
        assert_eq!((fault.status, fault.retry_after), (Some(429), Some(1)));
    }
}
