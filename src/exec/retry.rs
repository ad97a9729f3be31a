//! Retry decisions and delays: pure functions of their inputs.

use std::time::{Duration, SystemTime};

use reqwest::Method;

use crate::plan::RetryPolicy;

/// Exponential backoff with full jitter: a random delay between zero and
/// `initial * 2^(attempt-1)`, capped by `max`. `unit` is a random number in `[0, 1)`.
pub fn backoff(policy: &RetryPolicy, attempt: u32, unit: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(31);
    let ceiling = policy
        .initial
        .saturating_mul(1u32 << exponent)
        .min(policy.max);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// The wait a `Retry-After` header asks for (seconds or an HTTP date), capped by `max`.
pub fn retry_after(value: &str, now: SystemTime, max: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(max))
}

/// Whether a request that failed without an answer (network error, timeout) may be resent.
/// POST and PATCH only when the step says `idempotent: true`.
pub fn may_resend_after_error(method: &Method, idempotent: bool) -> bool {
    idempotent
        || matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            on_status: vec![503],
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(&policy(), 1, 0.999_999).as_millis(), 499);
        assert_eq!(backoff(&policy(), 3, 1.0), Duration::from_secs(2));
        assert_eq!(backoff(&policy(), 20, 1.0), Duration::from_secs(30));
        assert_eq!(backoff(&policy(), 3, 0.0), Duration::ZERO);
    }

    #[test]
    fn retry_after_in_both_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let max = Duration::from_secs(30);
        assert_eq!(retry_after("2", now, max), Some(Duration::from_secs(2)));
        assert_eq!(retry_after("600", now, max), Some(max));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(retry_after(&later, now, max), Some(Duration::from_secs(5)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(retry_after(&earlier, now, max), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now, max), None);
    }

    #[test]
    fn only_idempotent_requests_are_resent_after_errors() {
        assert!(may_resend_after_error(&Method::GET, false));
        assert!(may_resend_after_error(&Method::PUT, false));
        assert!(!may_resend_after_error(&Method::POST, false));
        assert!(may_resend_after_error(&Method::POST, true));
        assert!(!may_resend_after_error(&Method::PATCH, false));
    }
}
