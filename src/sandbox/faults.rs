//! Injected faults at run time: which fault a request draws, and the answer it produces.

use std::time::{Duration, SystemTime};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::data::{Fault, FaultSchedule};

/// The configured faults with the hits each has left, and the random schedule.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    entries: Vec<(Fault, u32)>,
    schedule: Option<(FaultSchedule, fastrand::Rng)>,
}

impl FaultBook {
    pub(crate) fn new(faults: &[Fault], schedule: Option<&FaultSchedule>) -> Self {
        let entries = faults.iter().map(|f| (f.clone(), f.count)).collect();
        let schedule = schedule.map(|s| (s.clone(), fastrand::Rng::with_seed(s.seed)));
        Self { entries, schedule }
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
        let (schedule, rng) = self.schedule.as_mut()?;
        if !schedule.covers(path) {
            return None;
        }
        // Two draws for every covered request, hit or not, so that the schedule of the n-th
        // request depends on the seed and n only.
        let hit = rng.f64() < schedule.rate;
        let kind = schedule.kinds[rng.usize(..schedule.kinds.len())];
        hit.then(|| kind.fault(path))
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
            (0..400)
                .map(|_| book.draw("POST", "/tci/v1/subscriptions/1/apiservice/access"))
                .map(|f| f.map(|f| (f.status, f.reset, f.hang, f.revoke)))
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
