//! Defaults layering: what a step's request runs with, from the step's own settings, else the
//! recipe's `defaults`, else whisk's. Pure: `layer` only picks; the builder compiles and
//! reports what it picked, at the field it came from.

use std::time::Duration;

use crate::plan::{RedirectPolicy, RetryPolicy};
use crate::recipe::{self, Defaults, Rate, Step};
use crate::source::FieldPath;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_ON_STATUS: [u16; 4] = [429, 502, 503, 504];
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_millis(500);
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A step's request settings, layered.
#[derive(Debug)]
pub struct Layered<'a> {
    /// The auth profile named, and where.
    pub auth: Option<(&'a str, FieldPath)>,
    /// Headers in sending order — the step's, then the defaults' it does not set itself (by
    /// name, any case) — with where each is written.
    pub headers: Vec<(&'a str, &'a serde_json::Value, FieldPath)>,
    pub retry: RetryPolicy,
    /// Where `retry.attempts` came from, when it is 0 (an error).
    pub zero_attempts: Option<FieldPath>,
    /// The redirect policy, but for `forward_auth_to`, which is compiled from `forward_hosts`.
    pub redirects: RedirectPolicy,
    pub forward_hosts: (&'a [String], FieldPath),
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: Option<u64>,
    pub rate_limit: Option<Rate>,
}

/// Layers the settings of `step` (at `field`) over `defaults`.
pub fn layer<'a>(
    step: &'a Step,
    request: &'a recipe::Request,
    defaults: &'a Defaults,
    field: &FieldPath,
) -> Layered<'a> {
    let at_defaults = || FieldPath::root().key("defaults");
    let auth = match &step.auth {
        Some(name) => Some((name.as_str(), field.key("auth"))),
        None => defaults
            .auth
            .as_deref()
            .map(|name| (name, at_defaults().key("auth"))),
    };
    let mut headers: Vec<(&str, &serde_json::Value, FieldPath)> = Vec::new();
    let own = field.key("request").key("headers");
    let shared = at_defaults().key("headers");
    for (map, base) in [(&request.headers, &own), (&defaults.headers, &shared)] {
        for (name, value) in map {
            if !headers.iter().any(|(n, _, _)| n.eq_ignore_ascii_case(name)) {
                headers.push((name.as_str(), value, base.key(name)));
            }
        }
    }
    let (retry, zero_attempts) = retry(step.retry.as_ref(), defaults.retry.as_ref(), field);
    let redirect = |f: fn(&recipe::Redirects) -> Option<bool>| {
        step.redirects
            .as_ref()
            .and_then(f)
            .or_else(|| defaults.redirects.as_ref().and_then(f))
    };
    let forward_hosts = match step
        .redirects
        .as_ref()
        .and_then(|r| r.forward_auth_to.as_deref())
    {
        Some(hosts) => (hosts, field.key("redirects").key("forward_auth_to")),
        None => (
            defaults
                .redirects
                .as_ref()
                .and_then(|r| r.forward_auth_to.as_deref())
                .unwrap_or_default(),
            at_defaults().key("redirects").key("forward_auth_to"),
        ),
    };
    Layered {
        auth,
        headers,
        retry,
        zero_attempts,
        redirects: RedirectPolicy {
            follow: redirect(|r| r.follow).unwrap_or(true),
            forward_auth_to: Vec::new(),
            allow_insecure: redirect(|r| r.allow_insecure).unwrap_or(false),
        },
        forward_hosts,
        timeout: step
            .timeout
            .or(defaults.timeout)
            .map_or(DEFAULT_TIMEOUT, |d| d.0),
        connect_timeout: step
            .connect_timeout
            .or(defaults.connect_timeout)
            .map_or(DEFAULT_CONNECT_TIMEOUT, |d| d.0),
        max_body: step.max_body.or(defaults.max_body).map(|s| s.0),
        rate_limit: step.rate_limit.or(defaults.rate_limit),
    }
}

/// The retry policy, each setting from the step, else the defaults, else whisk's; and where
/// `attempts` was set to 0, which is an error (attempts count the first try).
fn retry(
    step: Option<&recipe::Retry>,
    defaults: Option<&recipe::Retry>,
    field: &FieldPath,
) -> (RetryPolicy, Option<FieldPath>) {
    let attempts = step
        .and_then(|r| r.attempts)
        .map(|n| (n, field.key("retry").key("attempts")))
        .or_else(|| {
            defaults.and_then(|r| r.attempts).map(|n| {
                let at = FieldPath::root().key("defaults").key("retry");
                (n, at.key("attempts"))
            })
        });
    let zero = attempts
        .as_ref()
        .filter(|(n, _)| *n == 0)
        .map(|(_, f)| f.clone());
    let on_status = step
        .and_then(|r| r.on_status.clone())
        .or_else(|| defaults.and_then(|r| r.on_status.clone()))
        .unwrap_or_else(|| DEFAULT_ON_STATUS.to_vec());
    let backoff = |f: fn(&recipe::Backoff) -> Option<recipe::Duration>| {
        step.and_then(|r| r.backoff.as_ref())
            .and_then(f)
            .or_else(|| defaults.and_then(|r| r.backoff.as_ref()).and_then(f))
    };
    let policy = RetryPolicy {
        attempts: attempts.map_or(1, |(n, _)| n).max(1),
        on_status,
        initial: backoff(|b| b.initial).map_or(DEFAULT_BACKOFF_INITIAL, |d| d.0),
        max: backoff(|b| b.max).map_or(DEFAULT_BACKOFF_MAX, |d| d.0),
    };
    (policy, zero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::Recipe;

    fn recipe(yaml: &str) -> Recipe {
        let source = crate::recipe::load::source("r.yaml", yaml);
        crate::recipe::load_str(&source).expect("a recipe")
    }

    fn layered(yaml: &str, check: impl Fn(Layered<'_>)) {
        let recipe = recipe(yaml);
        let step = &recipe.steps[0];
        let request = step.request.as_ref().expect("a request");
        check(layer(
            step,
            request,
            &recipe.defaults,
            &FieldPath::root().key("steps").index(0),
        ));
    }

    #[test]
    fn whisk_defaults_apply_when_nothing_is_set() {
        layered(
            "version: 1\nname: r\nsteps:\n  - id: a\n    request: { url: 'https://x/' }\n",
            |l| {
                assert_eq!(l.auth, None);
                assert_eq!(l.retry.attempts, 1);
                assert_eq!(l.retry.on_status, DEFAULT_ON_STATUS);
                assert_eq!(l.retry.initial, DEFAULT_BACKOFF_INITIAL);
                assert_eq!(l.timeout, DEFAULT_TIMEOUT);
                assert_eq!(l.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
                assert!(l.redirects.follow && !l.redirects.allow_insecure);
                assert!(l.forward_hosts.0.is_empty());
                assert_eq!((l.max_body, l.rate_limit.is_none()), (None, true));
                assert!(l.headers.is_empty() && l.zero_attempts.is_none());
            },
        );
    }

    #[test]
    fn defaults_apply_and_the_step_wins_setting_by_setting() {
        let yaml = "version: 1\nname: r\ndefaults:\n  auth: api\n  timeout: 5s\n  connect_timeout: 2s\n  headers: { Accept: application/json, X-Team: core }\n  retry: { attempts: 4, on_status: [503], backoff: { initial: 1s, max: 9s } }\n  redirects: { follow: false, forward_auth_to: [a.example] }\n  max_body: 1KiB\n  rate_limit: 5/s\nsteps:\n  - id: a\n    auth: none\n    timeout: 1s\n    retry: { attempts: 2, backoff: { max: 3s } }\n    redirects: { allow_insecure: true }\n    request:\n      url: 'https://x/'\n      headers: { accept: text/plain }\n";
        layered(yaml, |l| {
            let step = FieldPath::root().key("steps").index(0);
            let defaults = FieldPath::root().key("defaults");
            assert_eq!(l.auth, Some(("none", step.key("auth"))));
            assert_eq!(l.timeout, Duration::from_secs(1), "the step's");
            assert_eq!(l.connect_timeout, Duration::from_secs(2), "the defaults'");
            assert_eq!(l.retry.attempts, 2);
            assert_eq!(l.retry.on_status, [503], "from the defaults");
            assert_eq!(l.retry.initial, Duration::from_secs(1), "from the defaults");
            assert_eq!(l.retry.max, Duration::from_secs(3), "the step's");
            assert!(!l.redirects.follow, "the defaults'");
            assert!(l.redirects.allow_insecure, "the step's");
            assert_eq!(
                l.forward_hosts,
                (
                    &["a.example".to_string()][..],
                    defaults.key("redirects").key("forward_auth_to")
                )
            );
            assert_eq!(l.max_body, Some(1024));
            assert!(l.rate_limit.is_some());
            let names: Vec<(&str, String)> = l
                .headers
                .iter()
                .map(|(n, _, f)| (*n, f.to_string()))
                .collect();
            assert_eq!(
                names,
                [
                    ("accept", "steps[0].request.headers.accept".to_string()),
                    ("X-Team", "defaults.headers.X-Team".to_string())
                ],
                "the step's header wins over the defaults' in any case"
            );
        });
    }

    #[test]
    fn zero_attempts_is_reported_where_it_is_written() {
        let yaml = "version: 1\nname: r\ndefaults:\n  retry: { attempts: 0 }\nsteps:\n  - id: a\n    request: { url: 'https://x/' }\n";
        layered(yaml, |l| {
            assert_eq!(l.retry.attempts, 1);
            assert_eq!(
                l.zero_attempts.map(|f| f.to_string()).as_deref(),
                Some("defaults.retry.attempts")
            );
        });
    }
}
