//! Injected faults at run time: which fault a request draws, and the answer it produces.

use std::time::{Duration, SystemTime};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use std::collections::HashMap;
use std::time::Instant;

use super::data::{Fault, FaultKind, FaultSchedule};

/// The configured faults with the hits each has left, and the random schedule.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    entries: Vec<(Fault, u32)>,
    schedule: Option<Drawn>,
}

/// The random schedule and what it has done.
#[derive(Debug)]
struct Drawn {
    schedule: FaultSchedule,
    rng: fastrand::Rng,
    /// Scheduled faults in a row per method and path.
    in_a_row: HashMap<(String, String), u32>,
    last_revoke: Option<Instant>,
}

impl FaultBook {
    pub(crate) fn new(faults: &[Fault], schedule: Option<&FaultSchedule>) -> Self {
        let entries = faults.iter().map(|f| (f.clone(), f.count)).collect();
        let schedule = schedule.map(|s| Drawn {
            schedule: s.clone(),
            rng: fastrand::Rng::with_seed(s.seed),
            in_a_row: HashMap::new(),
            last_revoke: None,
        });
        Self { entries, schedule }
    }

    /// A request to `method` `path` went through without a fault and succeeded.
    pub(crate) fn passed(&mut self, method: &str, path: &str) {
        if let Some(drawn) = &mut self.schedule
            && !drawn.in_a_row.is_empty()
        {
            drawn.in_a_row.remove(&(method.to_owned(), path.to_owned()));
        }
    }

    /// The first listed fault that matches and has hits left (drawing it spends one hit);
    /// else, for a path the schedule covers, maybe one drawn at random.
    pub(crate) fn draw(&mut self, method: &str, path: &str) -> Option<Fault> {
        if let Some((fault, left)) = self
            .entries
            .iter_mut()
            .find(|(f, left)| *left > 0 && f.matches(method, path))
        {
            *left -= 1;
            return Some(fault.clone());
        }
        let drawn = self.schedule.as_mut()?;
        let schedule = &drawn.schedule;
        if !schedule.covers(path) {
            return None;
        }
        // Two draws for every covered request, hit or not, so that the schedule of the n-th
        // request depends on the seed and n only.
        let hit = drawn.rng.f64() < schedule.rate;
        let kind = schedule.kinds[drawn.rng.usize(..schedule.kinds.len())];
        let key = (method.to_owned(), path.to_owned());
        let in_a_row = drawn.in_a_row.get(&key).copied().unwrap_or(0);
        if !hit || in_a_row >= schedule.max_in_a_row {
            return None;
        }
        if kind == FaultKind::Revoke {
            let now = Instant::now();
            let gap = Duration::from_millis(schedule.revoke_interval_ms);
            if drawn.last_revoke.is_some_and(|at| now < at + gap) {
                return None;
            }
            drawn.last_revoke = Some(now);
        }
        drawn.in_a_row.insert(key, in_a_row + 1);
        Some(kind.fault(path))
    }
}

impl Fault {
    pub(crate) fn delay(&self) -> Option<Duration> {
        self.delay_ms.map(Duration::from_millis)
    }

    /// The answer of a fault with a status: its body, or a platform-shaped JSON error.
    pub(crate) fn response(&self, status: u16, path: &str) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = match &self.body {
            Some(body) if serde_json::from_str::<serde_json::Value>(body).is_ok() => {
                let json = [(header::CONTENT_TYPE, "application/json")];
                (status, json, body.clone()).into_response()
            }
            Some(body) => (status, body.clone()).into_response(),
            None => (status, axum::Json(default_body(status, path))).into_response(),
        };
        if let Some(seconds) = self.retry_after {
            let value = if self.retry_after_date {
                httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(seconds))
            } else {
                seconds.to_string()
            };
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

fn default_body(status: StatusCode, path: &str) -> serde_json::Value {
    let ibm = path.starts_with("/manage/");
    let (error, description) = match status.as_u16() {
        500 if ibm => (
            "oauth_request_failed",
            "The OAuth flow failed. Try again or contact the administrator.",
        ),
        403 if ibm => (
            "forbidden",
            "OAuth 2.0 is not supported at this time. Contact your administrator.",
        ),
        429 => ("too_many_requests", "rate limit exceeded; retry later"),
        503 => (
            "service_unavailable",
            "the service is temporarily unavailable",
        ),
        _ => ("injected_fault", "the sandbox injected this error"),
    };
    json!({ "error": error, "error_description": description })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_hits_count_times_then_lets_requests_through() {
        let mut book = FaultBook::new(
            &[
                Fault::status("/a", 429, 2).with_retry_after(1),
                Fault::status("/a", 503, 1),
            ],
            None,
        );
        let statuses: Vec<_> = (0..4)
            .map(|_| book.draw("GET", "/a").and_then(|f| f.status))
            .collect();
        assert_eq!(statuses, [Some(429), Some(429), Some(503), None]);
        assert!(book.draw("GET", "/b").is_none());
    }

    #[test]
    fn a_seed_gives_the_same_schedule_and_the_rate_holds() {
        let schedule = FaultSchedule::new(7, 0.25);
        let draws = |seed| {
            let mut book = FaultBook::new(
                &[],
                Some(&FaultSchedule {
                    seed,
                    ..schedule.clone()
                }),
            );
            let path = "/tci/v1/subscriptions/1/apiservice/access";
            (0..400)
                .map(|_| {
                    let fault = book.draw("POST", path);
                    if fault.is_none() {
                        book.passed("POST", path);
                    }
                    fault.map(|f| (f.status, f.reset, f.hang, f.revoke))
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let hits = draws(7).iter().filter(|d| d.is_some()).count();
        assert!((70..=130).contains(&hits), "{hits} of 400 at rate 0.25");
        let mut book = FaultBook::new(&[], Some(&FaultSchedule::new(7, 1.0)));
        assert!(
            book.draw("POST", "/idm/v1/oauth2/token").is_none(),
            "not the token endpoint"
        );
    }

    #[test]
    fn scheduled_faults_are_transient_and_revocations_spaced() {
        let schedule = FaultSchedule {
            kinds: vec![FaultKind::Unavailable],
            ..FaultSchedule::new(1, 1.0)
        };
        let mut book = FaultBook::new(&[], Some(&schedule));
        let hits: Vec<bool> = (0..3)
            .map(|_| book.draw("GET", "/tci/v1/a").is_some())
            .collect();
        assert_eq!(hits, [true, true, false], "two in a row, then through");
        book.passed("GET", "/tci/v1/a");
        assert!(
            book.draw("GET", "/tci/v1/a").is_some(),
            "counting starts again"
        );
        assert!(
            book.draw("GET", "/tci/v1/b").is_some(),
            "another path counts apart"
        );
        let storms = FaultSchedule {
            kinds: vec![FaultKind::Revoke],
            ..FaultSchedule::new(1, 1.0)
        };
        let mut book = FaultBook::new(&[], Some(&storms));
        assert!(book.draw("GET", "/tci/v1/a").is_some_and(|f| f.revoke));
        assert!(
            book.draw("GET", "/tci/v1/b").is_none(),
            "one revocation a second"
        );
    }

    #[test]
    fn responses_carry_retry_after_in_either_form() {
        let mut fault = Fault::status("/a", 429, 1).with_retry_after(3);
        let response = fault.response(429, "/a");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        fault.retry_after_date = true;
        let response = fault.response(429, "/a");
        let date = response.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap_or("");
        assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
    }

    #[test]
    fn ibm_paths_get_the_vendor_error_codes() {
        let body = default_body(StatusCode::INTERNAL_SERVER_ERROR, "/manage/oauth2/token");
        assert_eq!(body["error"], "oauth_request_failed");
    }
}
