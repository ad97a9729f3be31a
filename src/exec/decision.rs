//! What a request does after each try: a pure function of what came back, the state of the
//! attempt and the retry policy. `request::perform` sends, waits and asks the token manager;
//! this decides.
//!
//! An *attempt* is one try of the request, counted against `retry.attempts`. A refusal that
//! matches `refresh_on` is followed by a resend with a newer token as part of the same attempt;
//! each attempt may make one token grant for that, so a request refused again after this
//! attempt's own grant fails. A resend with a token someone else obtained meanwhile (another
//! iteration, thread or process) spends nothing: that token was never tried by this attempt.
//! A retry after a 429/5xx answer or a network error is a new attempt with its own allowance.
//! One exception: when the token a resend carried had run out by whisk's own clock (past its
//! expiry less the refresh margin) by the time the refusal came — a slow network, a loaded
//! machine, a token that lives seconds — the refusal says nothing about the token endpoint's
//! tokens, and the attempt may grant again, up to `MAX_LAPSED` times.

use std::time::{Duration, SystemTime};

use super::retry;
use crate::plan::RetryPolicy;

/// How many times one attempt resends with a token others obtained, refused each time, before
/// it gives up. Each such token is newer than the last, so this only bounds a pathological
/// server that refuses every token while they keep changing.
pub const MAX_ADOPTED: u32 = 8;

/// How many more grants one attempt may make after its own, each because the token it had
/// just obtained ran out before the answer came.
pub const MAX_LAPSED: u32 = 3;

/// What one try came back with.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    /// The server answered `status`; `refused` when the answer matches the OAuth2 profile's
    /// `refresh_on`; `lapsed` when the token sent had run out (by whisk's clock) by the time
    /// the answer came; `retry_after` is the `Retry-After` header, when there is one.
    Answer {
        status: u16,
        refused: bool,
        lapsed: bool,
        retry_after: Option<&'a str>,
    },
    /// No answer.
    Failed(Failure),
}

/// Why a try got no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    Network,
    Redirect,
    Body,
    /// A replay's cassette has no such request.
    Missing,
}

/// Where the request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The attempt the last try belonged to, from 1.
    pub attempt: u32,
    /// This attempt made a token grant after a refusal.
    pub granted: bool,
    /// Resends of this attempt with tokens obtained by others.
    pub adopted: u32,
    /// Grants after this attempt's first, each for a token that ran out in transit.
    pub lapsed: u32,
}

impl Progress {
    pub fn first() -> Progress {
        Progress {
            attempt: 1,
            granted: false,
            adopted: 0,
            lapsed: 0,
        }
    }

    /// The state after a refresh that `granted` a new token (or took a newer one). A refresh
    /// after this attempt's own grant is one for a token that lapsed in transit.
    pub fn refreshed(self, granted: bool) -> Progress {
        Progress {
            granted: self.granted || granted,
            adopted: self.adopted + u32::from(!granted),
            lapsed: self.lapsed + u32::from(self.granted),
            ..self
        }
    }

    /// The next attempt, after a wait.
    pub fn next(self) -> Progress {
        Progress {
            attempt: self.attempt + 1,
            ..Progress::first()
        }
    }
}

/// What the policy allows.
#[derive(Clone, Copy, Debug)]
pub struct Policy<'a> {
    pub retry: &'a RetryPolicy,
    /// A request that got no answer may be sent again (its method, or `idempotent: true`).
    pub resend_after_error: bool,
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The answer stands; the step judges it.
    Done,
    /// Take a newer token (a grant only when the refused one is still the newest) and send
    /// again, as part of the same attempt.
    Refresh,
    /// Wait, then make the next attempt.
    Retry { wait: Duration },
    /// Refused again after this attempt refreshed its token (and not because that token ran
    /// out in transit): authentication failed.
    RefusedAgain,
    /// No answer, and no retry left or allowed.
    GiveUp,
}

/// The decision after a try. `now` is for `Retry-After` dates, `jitter` a random number in
/// `[0, 1)` for the backoff.
pub fn decide(
    outcome: Outcome<'_>,
    progress: Progress,
    policy: Policy<'_>,
    now: SystemTime,
    jitter: f64,
) -> Decision {
    let retries_left = progress.attempt < policy.retry.attempts;
    match outcome {
        Outcome::Answer {
            refused: true,
            lapsed,
            ..
        } => {
            let allowance = !progress.granted || (lapsed && progress.lapsed < MAX_LAPSED);
            if allowance && progress.adopted < MAX_ADOPTED {
                Decision::Refresh
            } else {
                Decision::RefusedAgain
            }
        }
        Outcome::Answer {
            status,
            retry_after,
            ..
        } => {
            if !(retries_left && policy.retry.on_status.contains(&status)) {
                return Decision::Done;
            }
            let wait = retry_after
                .and_then(|value| retry::retry_after(value, now, policy.retry.max))
                .unwrap_or_else(|| retry::backoff(policy.retry, progress.attempt, jitter));
            Decision::Retry { wait }
        }
        Outcome::Failed(Failure::Timeout | Failure::Network)
            if retries_left && policy.resend_after_error =>
        {
            Decision::Retry {
                wait: retry::backoff(policy.retry, progress.attempt, jitter),
            }
        }
        Outcome::Failed(_) => Decision::GiveUp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            on_status: vec![429, 503],
            initial: Duration::from_millis(400),
            max: Duration::from_secs(30),
        }
    }

    fn answer(status: u16) -> Outcome<'static> {
        Outcome::Answer {
            status,
            refused: false,
            lapsed: false,
            retry_after: None,
        }
    }

    const REFUSED: Outcome<'static> = Outcome::Answer {
        status: 401,
        refused: true,
        lapsed: false,
        retry_after: None,
    };

    /// Refused, with a token that had run out by the time the answer came.
    const LAPSED: Outcome<'static> = Outcome::Answer {
        status: 401,
        refused: true,
        lapsed: true,
        retry_after: None,
    };

    fn at(attempt: u32, granted: bool, adopted: u32) -> Progress {
        Progress {
            attempt,
            granted,
            adopted,
            lapsed: 0,
        }
    }

    fn wait_ms(ms: u64) -> Decision {
        Decision::Retry {
            wait: Duration::from_millis(ms),
        }
    }

    #[test]
    fn decisions_by_outcome_attempt_and_policy() {
        let retry = policy();
        let get = Policy {
            retry: &retry,
            resend_after_error: true,
        };
        let post = Policy {
            retry: &retry,
            resend_after_error: false,
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let in_2s = httpdate::fmt_http_date(now + Duration::from_secs(2));
        let table: Vec<(&str, Outcome, Progress, Policy, Decision)> = vec![
            (
                "a success stands",
                answer(200),
                at(1, false, 0),
                get,
                Decision::Done,
            ),
            (
                "an unlisted status stands",
                answer(404),
                at(1, false, 0),
                get,
                Decision::Done,
            ),
            (
                "a first refusal refreshes",
                REFUSED,
                at(1, false, 0),
                get,
                Decision::Refresh,
            ),
            (
                "a refusal after taking another's token refreshes",
                REFUSED,
                at(1, false, 3),
                get,
                Decision::Refresh,
            ),
            (
                "a refusal after this attempt's own grant fails",
                REFUSED,
                at(1, true, 0),
                get,
                Decision::RefusedAgain,
            ),
            (
                "a token that ran out in transit after this attempt's grant is granted again",
                LAPSED,
                at(1, true, 0),
                get,
                Decision::Refresh,
            ),
            (
                "tokens that keep running out in transit end",
                LAPSED,
                Progress {
                    lapsed: MAX_LAPSED,
                    ..at(1, true, 0)
                },
                get,
                Decision::RefusedAgain,
            ),
            (
                "a refusal on a later attempt refreshes again",
                REFUSED,
                at(2, false, 0),
                get,
                Decision::Refresh,
            ),
            (
                "a refusal on the last attempt still refreshes",
                REFUSED,
                at(3, false, 0),
                get,
                Decision::Refresh,
            ),
            (
                "tokens that keep changing and keep being refused end",
                REFUSED,
                at(1, false, MAX_ADOPTED),
                get,
                Decision::RefusedAgain,
            ),
            (
                "503 waits the backoff",
                answer(503),
                at(1, false, 0),
                get,
                wait_ms(200),
            ),
            (
                "the backoff doubles",
                answer(503),
                at(2, true, 0),
                get,
                wait_ms(400),
            ),
            (
                "POST retries a 503 too",
                answer(503),
                at(1, false, 0),
                post,
                wait_ms(200),
            ),
            (
                "the last attempt's 503 stands",
                answer(503),
                at(3, false, 0),
                get,
                Decision::Done,
            ),
            (
                "Retry-After in seconds wins",
                Outcome::Answer {
                    status: 429,
                    refused: false,
                    lapsed: false,
                    retry_after: Some("1"),
                },
                at(1, false, 0),
                get,
                wait_ms(1000),
            ),
            (
                "Retry-After as a date wins",
                Outcome::Answer {
                    status: 429,
                    refused: false,
                    lapsed: false,
                    retry_after: Some(&in_2s),
                },
                at(1, false, 0),
                get,
                wait_ms(2000),
            ),
            (
                "Retry-After is capped by backoff.max",
                Outcome::Answer {
                    status: 429,
                    refused: false,
                    lapsed: false,
                    retry_after: Some("3600"),
                },
                at(1, false, 0),
                get,
                wait_ms(30_000),
            ),
            (
                "an unreadable Retry-After falls back to the backoff",
                Outcome::Answer {
                    status: 429,
                    refused: false,
                    lapsed: false,
                    retry_after: Some("soon"),
                },
                at(1, false, 0),
                get,
                wait_ms(200),
            ),
            (
                "a reset is retried when resending is allowed",
                Outcome::Failed(Failure::Network),
                at(1, false, 0),
                get,
                wait_ms(200),
            ),
            (
                "a timeout is retried when resending is allowed",
                Outcome::Failed(Failure::Timeout),
                at(2, false, 0),
                get,
                wait_ms(400),
            ),
            (
                "a POST is not resent after a reset",
                Outcome::Failed(Failure::Network),
                at(1, false, 0),
                post,
                Decision::GiveUp,
            ),
            (
                "the last attempt's timeout gives up",
                Outcome::Failed(Failure::Timeout),
                at(3, false, 0),
                get,
                Decision::GiveUp,
            ),
            (
                "a bad redirect is never retried",
                Outcome::Failed(Failure::Redirect),
                at(1, false, 0),
                get,
                Decision::GiveUp,
            ),
            (
                "a request missing from the cassette is never retried",
                Outcome::Failed(Failure::Missing),
                at(1, false, 0),
                get,
                Decision::GiveUp,
            ),
            (
                "an oversized body is never retried",
                Outcome::Failed(Failure::Body),
                at(1, false, 0),
                get,
                Decision::GiveUp,
            ),
        ];
        for (case, outcome, progress, policy, expected) in table {
            assert_eq!(
                decide(outcome, progress, policy, now, 0.5),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn attempts_move_on() {
        let first = Progress::first();
        assert_eq!(first, at(1, false, 0));
        assert_eq!(first.refreshed(false), at(1, false, 1));
        assert_eq!(first.refreshed(false).refreshed(true), at(1, true, 1));
        assert_eq!(
            first.refreshed(true).refreshed(true),
            Progress {
                lapsed: 1,
                ..at(1, true, 0)
            },
            "a grant after the attempt's own is counted as lapsed"
        );
        assert_eq!(
            first.refreshed(true).next(),
            at(2, false, 0),
            "a new attempt has its own allowance"
        );
    }
}
