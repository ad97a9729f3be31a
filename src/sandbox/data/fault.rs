//! One injected fault: which requests it hits, how often, and what it does to them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A fault for the first `count` requests matching `path` (and `method`, when given).
///
/// A fault with a `status` answers in place of the real handler (after `delay_ms`, if any);
/// `reset` closes the connection with a TCP reset instead of answering; `hang` never answers;
/// `revoke` revokes every access token issued so far and lets the request through (which
/// then meets a revoked token: a 401 storm); a fault with only `delay_ms` slows the request
/// down and lets the real handler answer. The handler never runs for `status`, `reset` and
/// `hang`, so the request changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// An exact path, or a prefix followed by `*` (`/tci/v1/*`).
    pub path: String,
    /// Only this method (any case); every method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// How many matching requests the fault hits before it is spent.
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` in seconds, sent with `status`.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Send `Retry-After` as an HTTP date (now + `retry_after`) instead of seconds.
    #[serde(default)]
    pub retry_after_date: bool,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Close the connection with a TCP reset instead of answering.
    #[serde(default)]
    pub reset: bool,
    /// Never answer: the request is held until the client gives up or the sandbox stops.
    #[serde(default)]
    pub hang: bool,
    /// Revoke every access token issued so far, then let the request through.
    #[serde(default)]
    pub revoke: bool,
    /// Response body; a platform-shaped JSON error when absent.
    #[serde(default)]
    pub body: Option<String>,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// A fault that answers `status` to the first `count` requests for `path`.
    pub fn status(path: &str, status: u16, count: u32) -> Self {
        Self {
            path: path.to_owned(),
            method: None,
            count,
            status: Some(status),
            retry_after: None,
            retry_after_date: false,
            delay_ms: None,
            reset: false,
            hang: false,
            revoke: false,
            body: None,
        }
    }

    /// A fault that resets the connection of the first `count` requests for `path`.
    pub fn reset(path: &str, count: u32) -> Self {
        Self {
            status: None,
            reset: true,
            ..Self::status(path, 0, count)
        }
    }

    /// A fault that never answers the first `count` requests for `path`.
    pub fn hang(path: &str, count: u32) -> Self {
        Self {
            status: None,
            hang: true,
            ..Self::status(path, 0, count)
        }
    }

    /// A fault that revokes every access token when one of the first `count` requests for
    /// `path` arrives.
    pub fn revoke(path: &str, count: u32) -> Self {
        Self {
            status: None,
            revoke: true,
            ..Self::status(path, 0, count)
        }
    }

    /// A fault that delays the first `count` requests for `path` by `delay`.
    pub fn slow(path: &str, delay: Duration, count: u32) -> Self {
        Self {
            status: None,
            delay_ms: Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)),
            ..Self::status(path, 0, count)
        }
    }

    /// Adds a `Retry-After` of `seconds`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Restricts the fault to one method.
    pub fn with_method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Whether the fault applies to a request, ignoring how many hits are left.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        method_ok && path_matches(&self.path, path)
    }
}

/// Whether `path` is `pattern`, or starts with it when `pattern` ends in `*`.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_prefix_paths_match() {
        let exact = Fault::status("/tci/v1/subscriptions/0/apps", 429, 1);
        assert!(exact.matches("GET", "/tci/v1/subscriptions/0/apps"));
        assert!(!exact.matches("GET", "/tci/v1/subscriptions/0/apps/x"));
        let prefix = Fault::status("/tci/*", 503, 1).with_method("post");
        assert!(prefix.matches("POST", "/tci/v1/anything"));
        assert!(!prefix.matches("GET", "/tci/v1/anything"));
        assert!(!prefix.matches("POST", "/manage/oauth2/token"));
    }
}
