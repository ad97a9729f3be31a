//! Counters that tests assert on: requests per path, token requests per grant, the last
//! `Authorization` header per path, and the full request log.

use std::collections::BTreeMap;

use serde::Serialize;

use super::log::{Listener, RequestRecord};
use super::tokens::Replaced;

/// At most this many records are kept in `Stats::log` (the oldest are dropped).
const LOG_LIMIT: usize = 10_000;

/// A snapshot of the sandbox's counters. Paths are request paths without the query.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Requests per path on the main listener.
    pub requests: BTreeMap<String, u64>,
    /// Requests per path on the Oracle runtime listener.
    pub runtime_requests: BTreeMap<String, u64>,
    /// The `Authorization` header of the latest request per path on the main listener
    /// (`None` when that request had none).
    pub last_authorization: BTreeMap<String, Option<String>>,
    /// The same for the runtime listener.
    pub runtime_last_authorization: BTreeMap<String, Option<String>>,
    /// Token-endpoint requests per `platform/grant_type` (`tibco/refresh_token`,
    /// `ibm/authorization_code`, `oracle/client_credentials`, `tibco/none` when absent),
    /// whatever their outcome.
    pub token_requests: BTreeMap<String, u64>,
    /// Token-endpoint refusals per `platform/error` (`tibco/invalid_grant`, ...).
    pub token_errors: BTreeMap<String, u64>,
    /// Access tokens issued per platform.
    pub token_grants: BTreeMap<String, u64>,
    /// Per platform, grants that replaced a token that was due: expired, revoked, or past
    /// half its lifetime (when clients are expected to renew).
    pub token_expiries: BTreeMap<String, u64>,
    /// Per platform, grants that replaced a token that was not due: ones a careful client
    /// does not make. `token_grants` = first grants + `token_expiries` + `early_grants`.
    pub early_grants: BTreeMap<String, u64>,
    /// Injected `revoke` faults served (every live access token revoked at once).
    pub revocations: u64,
    /// TIBCO API access switched on, per organization locator (`0` resolved): the calls that
    /// reached the handler with a valid token and changed or confirmed the switch.
    pub enables: BTreeMap<String, u64>,
    /// Requests answered or delayed by an injected fault.
    pub faults_served: u64,
    /// Every request, oldest first.
    pub log: Vec<RequestRecord>,
}

impl Stats {
    /// Requests to `path` on the main listener.
    pub fn requests_to(&self, path: &str) -> u64 {
        self.requests.get(path).copied().unwrap_or(0)
    }

    /// Token requests of one platform (`tibco`, `ibm`, `oracle`) and grant type.
    pub fn token_requests_for(&self, platform: &str, grant: &str) -> u64 {
        let key = format!("{platform}/{grant}");
        self.token_requests.get(&key).copied().unwrap_or(0)
    }

    /// The `Authorization` header of the latest request to `path` on the main listener.
    pub fn last_authorization_for(&self, path: &str) -> Option<&str> {
        self.last_authorization.get(path)?.as_deref()
    }

    pub(crate) fn record_arrival(&mut self, listener: Listener, path: &str, auth: Option<String>) {
        let (counts, auths) = match listener {
            Listener::Main => (&mut self.requests, &mut self.last_authorization),
            Listener::OracleRuntime => (
                &mut self.runtime_requests,
                &mut self.runtime_last_authorization,
            ),
        };
        *counts.entry(path.to_owned()).or_default() += 1;
        auths.insert(path.to_owned(), auth);
    }

    pub(crate) fn record_token_request(&mut self, platform: &str, grant: Option<&str>) {
        let key = format!("{platform}/{}", grant.unwrap_or("none"));
        *self.token_requests.entry(key).or_default() += 1;
    }

    pub(crate) fn record_token_error(&mut self, platform: &str, code: &str) {
        *self
            .token_errors
            .entry(format!("{platform}/{code}"))
            .or_default() += 1;
    }

    pub(crate) fn record_grant(&mut self, platform: &str, replaced: Replaced) {
        *self.token_grants.entry(platform.to_owned()).or_default() += 1;
        let counter = match replaced {
            Replaced::First => return,
            Replaced::Due => &mut self.token_expiries,
            Replaced::Early => &mut self.early_grants,
        };
        *counter.entry(platform.to_owned()).or_default() += 1;
    }

    pub(crate) fn record_enable(&mut self, locator: &str) {
        *self.enables.entry(locator.to_owned()).or_default() += 1;
    }

    /// Token-endpoint refusals of one platform with one code.
    pub fn token_errors_for(&self, platform: &str, code: &str) -> u64 {
        self.token_errors
            .get(&format!("{platform}/{code}"))
            .copied()
            .unwrap_or(0)
    }

    /// Value of a per-platform counter (`token_grants`, `token_expiries`, `early_grants`).
    pub fn of(counter: &BTreeMap<String, u64>, platform: &str) -> u64 {
        counter.get(platform).copied().unwrap_or(0)
    }

    pub(crate) fn record_done(&mut self, record: RequestRecord) {
        if record.fault {
            self.faults_served += 1;
        }
        if self.log.len() >= LOG_LIMIT {
            self.log.remove(0);
        }
        self.log.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_path_grant_and_listener() {
        let mut stats = Stats::default();
        stats.record_arrival(Listener::Main, "/a", Some("Bearer x".to_owned()));
        stats.record_arrival(Listener::Main, "/a", None);
        stats.record_arrival(Listener::OracleRuntime, "/a", Some("Bearer y".to_owned()));
        stats.record_token_request("tibco", Some("refresh_token"));
        stats.record_token_request("tibco", None);
        assert_eq!(stats.requests_to("/a"), 2);
        assert_eq!(stats.runtime_requests.get("/a"), Some(&1));
        assert_eq!(stats.last_authorization_for("/a"), None);
        assert_eq!(stats.token_requests_for("tibco", "refresh_token"), 1);
        assert_eq!(stats.token_requests_for("tibco", "none"), 1);
    }
}
