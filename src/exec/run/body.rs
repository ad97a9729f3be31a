//! A step's body, run: a request (sent, then its answer checked and captured), a used recipe
//! (its outputs become the step's captures), or a block (the captures it produced).

use std::time::Instant;

use minijinja::Value;

use super::{BodyOutcome, RecipeOutcome, Runner, StepsOutcome};
use crate::exec::auth::AuthContext;
use crate::exec::context::Scope;
use crate::exec::http::Incoming;
use crate::exec::request;
use crate::exec::step_data::StepData;
use crate::exec::walk::{UsesFailed, produced};
use crate::plan::flow::Repeat;
use crate::plan::{RequestPlan, StepPlan, UsesPlan};
use crate::result::{ErrorInfo, ErrorKind, Status};

impl Runner<'_> {
    /// A request step's body: one request, or a poll, or the pages of a list.
    pub(super) async fn request(
        &self,
        step: &StepPlan,
        plan: &RequestPlan,
        scope: &mut Scope,
        auth: &AuthContext,
        keep: bool,
    ) -> BodyOutcome {
        match &step.repeat {
            None => {
                let target = request::Target::Rendered;
                self.exchange(step, plan, scope, auth, keep, &target, &mut |_| {})
                    .await
            }
            // Boxed so that the plain request above, a fan-out's every item, does not carry
            // their larger state (see `Direct::send`).
            Some(Repeat::Until(until)) => {
                Box::pin(self.poll(step, plan, until, scope, auth, keep)).await
            }
            Some(Repeat::Pages(pages)) => {
                Box::pin(self.pages(step, plan, pages, scope, auth, keep)).await
            }
        }
    }

    /// One request to `target` and what the step makes of its answer (status, captures);
    /// `inspect` sees the answer first (a poll's `Retry-After`, a page's next link).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn exchange(
        &self,
        step: &StepPlan,
        plan: &RequestPlan,
        scope: &mut Scope,
        auth: &AuthContext,
        keep: bool,
        target: &request::Target,
        inspect: &mut (dyn FnMut(&Incoming) + Send),
    ) -> BodyOutcome {
        // Read only when kept: a fan-out's items skip the clock.
        let started = keep.then(Instant::now);
        let mut outcome = BodyOutcome::default();
        let ctx = scope.value();
        let who = request::Who {
            step: &step.id,
            scope,
        };
        let (exchange, response) = request::perform(self, &who, plan, &ctx, auth, target).await;
        outcome.run.request = exchange;
        match response {
            Ok(response) => {
                let duration_ms = started.map(|s| s.elapsed().as_millis() as u64);
                self.check_response(step, &plan.expect, &response, scope, &mut outcome);
                inspect(&response);
                if let Some(duration_ms) = duration_ms {
                    outcome.data.set_response(response, duration_ms);
                }
            }
            Err(error) => outcome.error = Some(error),
        }
        outcome
    }

    pub(super) fn uses_failed(
        &self,
        step: &StepPlan,
        uses: &UsesPlan,
        why: UsesFailed,
    ) -> BodyOutcome {
        let error = match why {
            UsesFailed::With(message) => ErrorInfo::new(
                ErrorKind::Template,
                format!("step `{}`, {message}", step.id),
            ),
            UsesFailed::Inputs(messages) => ErrorInfo::new(
                ErrorKind::Uses,
                format!(
                    "step `{}`: inputs of `{}`: {}",
                    step.id,
                    uses.recipe.name,
                    messages.join("; ")
                ),
            ),
        };
        BodyOutcome {
            error: Some(error),
            ..BodyOutcome::default()
        }
    }

    pub(super) fn used(
        &self,
        step: &StepPlan,
        uses: &UsesPlan,
        sub: RecipeOutcome,
        scope: &mut Scope,
        started: Instant,
    ) -> BodyOutcome {
        let mut outcome = BodyOutcome::default();
        if let Some(outputs) = &sub.outputs {
            for (name, value) in outputs {
                scope.set_json(name, value);
                outcome.run.captures.insert(name.clone(), value.clone());
            }
        }
        if sub.interrupted && !sub.failed {
            outcome.error = Some(ErrorInfo::new(
                ErrorKind::Interrupted,
                format!("step `{}`: interrupted", step.id),
            ));
        } else if sub.failed {
            let first = sub
                .error
                .clone()
                .or_else(|| sub.steps.iter().find_map(|s| s.error.clone()));
            outcome.error = Some(match first {
                Some(error) if error.kind == ErrorKind::Auth => error,
                Some(error) => {
                    let mut wrapped = ErrorInfo::new(
                        ErrorKind::Uses,
                        format!(
                            "step `{}`: recipe `{}` failed: {}",
                            step.id, uses.recipe.name, error.message
                        ),
                    );
                    // Where it failed, in the used recipe.
                    wrapped.location = error.location;
                    wrapped
                }
                None => ErrorInfo::new(
                    ErrorKind::Uses,
                    format!("step `{}`: recipe `{}` failed", step.id, uses.recipe.name),
                ),
            });
        }
        outcome.run.steps = Some(sub.steps);
        outcome.data.set(
            "duration_ms",
            Value::from(started.elapsed().as_millis() as u64),
        );
        outcome
    }

    pub(super) fn block(
        &self,
        step: &StepPlan,
        block: &[StepPlan],
        inner: Scope,
        steps: StepsOutcome,
        scope: &mut Scope,
        started: Instant,
    ) -> BodyOutcome {
        let mut outcome = BodyOutcome::default();
        for name in produced(block) {
            if let Some(value) = inner
                .value()
                .get_attr(&name)
                .ok()
                .filter(|v| !v.is_undefined())
            {
                if let Ok(json) = serde_json::to_value(&value) {
                    outcome.run.captures.insert(name.clone(), json);
                }
                scope.set(&name, value);
            }
        }
        if steps.interrupted && !steps.failed {
            outcome.error = Some(ErrorInfo::new(
                ErrorKind::Interrupted,
                format!("step `{}`: interrupted", step.id),
            ));
        } else if steps.failed {
            let first = steps.results.iter().find_map(|r| r.error.clone());
            outcome.error = Some(match first {
                Some(error) if error.kind == ErrorKind::Auth => error,
                Some(error) => error,
                None => ErrorInfo::new(
                    ErrorKind::Iteration,
                    format!("a step of the block of `{}` failed", step.id),
                ),
            });
        }
        if let Some(last) = steps
            .results
            .iter()
            .rev()
            .find(|r| !matches!(r.status, Status::Skipped | Status::NotRun))
            && let Some(data) = inner
                .value()
                .get_attr("steps")
                .ok()
                .and_then(|s| s.get_attr(&last.id).ok())
        {
            outcome.data = StepData::of(&data);
        }
        outcome.run.steps = Some(steps.results);
        outcome.data.set(
            "duration_ms",
            Value::from(started.elapsed().as_millis() as u64),
        );
        outcome
    }
}
