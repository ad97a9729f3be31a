//! `until`: the request again and again until its condition holds. Each poll is a whole
//! request — retries, token refreshes and `expect` included — then its captures; `fail_if`
//! and `that` are evaluated with them and `poll` (`n`, `elapsed_ms`, `status`) in scope. A poll
//! that fails (a status `expect` does not accept, a capture that is missing) fails the step:
//! that is not "not yet". Waits honour `Retry-After`, never pass the deadline, end early on
//! Ctrl-C, and are skipped in a replay.

use std::time::{Duration, Instant, SystemTime};

use super::{BodyOutcome, Runner};
use crate::event::Event;
use crate::exec::auth::AuthContext;
use crate::exec::context::Scope;
use crate::exec::request::{Target, describe};
use crate::exec::retry::retry_after;
use crate::plan::flow::UntilPlan;
use crate::plan::{RequestPlan, StepPlan};
use crate::result::{ErrorInfo, ErrorKind, Poll, Polls};
use crate::source::FieldPath;

impl Runner<'_> {
    pub(super) async fn poll(
        &self,
        step: &StepPlan,
        plan: &RequestPlan,
        until: &UntilPlan,
        scope: &mut Scope,
        auth: &AuthContext,
        keep: bool,
    ) -> BodyOutcome {
        let started = Instant::now();
        let deadline = started + until.timeout;
        let mut polls = Polls::new();
        let mut previous: Option<serde_json::Map<String, serde_json::Value>> = None;
        let field = || FieldPath::root().key("until");
        let mut n = 0u32;
        loop {
            n += 1;
            let poll_started = Instant::now();
            let mut asked: Option<Duration> = None;
            let mut outcome = self
                .exchange(
                    step,
                    plan,
                    scope,
                    auth,
                    keep,
                    &Target::Rendered,
                    &mut |answer| {
                        asked = answer
                            .headers
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| retry_after(v, SystemTime::now(), until.timeout));
                    },
                )
                .await;
            let exchange = outcome.run.request.as_ref();
            let status = exchange.and_then(|e| e.status);
            let captures = &outcome.run.captures;
            let changed = previous.as_ref() != Some(captures);
            polls.push(Poll {
                n,
                status,
                duration_ms: poll_started.elapsed().as_millis() as u64,
                attempts: exchange.map_or(0, |e| e.attempts.len()),
                wait_ms: None,
                captures: (changed && !captures.is_empty()).then(|| captures.clone()),
            });
            previous = Some(captures.clone());
            let end = |outcome, how, error, polls: &mut Polls| {
                finish(outcome, polls, started, how, error)
            };
            if let Some(error) = &outcome.error {
                let how = if error.kind == ErrorKind::Interrupted {
                    "interrupted"
                } else {
                    "failed"
                };
                return end(outcome, how, None, &mut polls);
            }
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let state = crate::plan::template::to_value(&serde_json::json!({
                "n": n,
                "elapsed_ms": elapsed_ms,
                "status": status,
            }));
            let ctx = scope.with_local([("poll".into(), state)]).value();
            let templates = &self.plan.templates;
            if let Some((fail_if, text)) = &until.fail_if {
                match templates.truthy(fail_if, &ctx) {
                    Ok(true) => {
                        let error = ErrorInfo::new(
                            ErrorKind::Poll,
                            format!(
                                "step `{}`: `fail_if: {text}` held at poll {n}{}",
                                step.id,
                                state_of(&outcome)
                            ),
                        )
                        .in_field(field().key("fail_if"));
                        return end(outcome, "failed_if", Some(error), &mut polls);
                    }
                    Ok(false) => {}
                    Err(e) => {
                        let error = template_error(step, "until.fail_if", &e);
                        return end(outcome, "failed", Some(error), &mut polls);
                    }
                }
            }
            match templates.truthy(&until.that, &ctx) {
                Ok(true) => return end(outcome, "satisfied", None, &mut polls),
                Ok(false) => {}
                Err(e) => {
                    let error = template_error(step, "until.that", &e);
                    return end(outcome, "failed", Some(error), &mut polls);
                }
            }
            let not_ready = |outcome: &BodyOutcome, why: String| {
                ErrorInfo::new(
                    ErrorKind::Poll,
                    format!(
                        "step `{}`: `{}` still false after {why}{}",
                        step.id,
                        until.that_text,
                        state_of(outcome)
                    ),
                )
                .in_field(field().key("that"))
            };
            if until.max_polls.is_some_and(|max| n >= max) {
                let error = not_ready(&outcome, crate::plural::count(n as usize, "poll", "polls"));
                return end(outcome, "max_polls", Some(error), &mut polls);
            }
            let now = Instant::now();
            if now >= deadline {
                let why = format!(
                    "{} ({})",
                    crate::recipe::Duration(until.timeout),
                    crate::plural::count(n as usize, "poll", "polls")
                );
                let error = not_ready(&outcome, why);
                return end(outcome, "timed_out", Some(error), &mut polls);
            }
            let wait = asked
                .unwrap_or_else(|| until.wait.after(n))
                .min(deadline - now);
            if let Some(last) = polls.last_mut() {
                last.wait_ms = Some(wait.as_millis() as u64);
            }
            self.events.sink.emit(&Event::Poll {
                step: step.id.clone(),
                item: scope.item_label(),
                n,
                wait_ms: wait.as_millis() as u64,
            });
            if self.options.stop.stopping() || !self.sleep(wait).await {
                let error = ErrorInfo::new(
                    ErrorKind::Interrupted,
                    format!(
                        "step `{}`: interrupted while polling, after poll {n}",
                        step.id
                    ),
                );
                return end(outcome, "interrupted", Some(error), &mut polls);
            }
            // The next poll starts from a clean outcome; this one's report lives in `polls`.
            outcome.error = None;
            drop(outcome);
        }
    }

    /// Waits `wait`, unless the run is interrupted first (`false`) or replays (no wait).
    async fn sleep(&self, wait: Duration) -> bool {
        if self.client.replaying() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => true,
            _ = self.options.stop.soft_stopped() => false,
        }
    }
}

/// The outcome of the last poll, with every poll's record and how polling ended.
fn finish(
    mut outcome: BodyOutcome,
    polls: &mut Polls,
    started: Instant,
    how: &'static str,
    error: Option<ErrorInfo>,
) -> BodyOutcome {
    polls.outcome = how.into();
    polls.elapsed_ms = started.elapsed().as_millis() as u64;
    if outcome.error.is_none() {
        outcome.error = error;
    }
    outcome.run.polls = Some(Box::new(std::mem::take(polls)));
    outcome
}

/// The poll's captures, for a message: `; last: state="Starting"`.
fn state_of(outcome: &BodyOutcome) -> String {
    if outcome.run.captures.is_empty() {
        let status = outcome.run.request.as_ref().and_then(|e| e.status);
        return status.map_or_else(String::new, |s| format!("; last status {s}"));
    }
    let parts: Vec<String> = outcome
        .run
        .captures
        .iter()
        .map(|(name, value)| format!("{name}={}", crate::event::shorten(&value.to_string(), 60)))
        .collect();
    format!("; last: {}", parts.join(", "))
}

fn template_error(step: &StepPlan, field: &str, error: &minijinja::Error) -> ErrorInfo {
    let mut path = FieldPath::root();
    for part in field.split('.') {
        path = path.key(part);
    }
    ErrorInfo::new(
        ErrorKind::Template,
        format!("step `{}`, field `{field}`: {}", step.id, describe(error)),
    )
    .in_field(path)
}
