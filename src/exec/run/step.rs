//! One step without `for_each`: skipped by `when`, failed by a `when` that cannot be
//! evaluated, or its body run once — what it leaves in scope (captures, `steps.<id>`) and its
//! result, finished with its duration and event.

use std::time::Instant;

use super::steps::blank;
use super::{BodyOutcome, Runner};
use crate::event::Event;
use crate::exec::context::Scope;
use crate::exec::request::describe;
use crate::plan::StepPlan;
use crate::result::{ErrorInfo, ErrorKind, Status, StepResult};
use crate::source::FieldPath;

impl Runner<'_> {
    pub(super) fn skipped(&self, step: &StepPlan) -> StepResult {
        self.events.sink.emit(&Event::StepSkipped {
            step: step.id.clone(),
        });
        blank(step, Status::Skipped)
    }

    pub(super) fn when_failed(
        &self,
        step: &StepPlan,
        error: &minijinja::Error,
        started: Instant,
    ) -> StepResult {
        let mut result = blank(step, Status::Failed);
        result.error = Some(
            ErrorInfo::new(
                ErrorKind::Template,
                format!("step `{}`, field `when`: {}", step.id, describe(error)),
            )
            .in_field(FieldPath::root().key("when")),
        );
        self.finish(step, result, started)
    }

    pub(super) fn started(&self, step: &StepPlan) {
        self.events.sink.emit(&Event::StepStarted {
            step: step.id.clone(),
            items: None,
        });
    }

    /// The body ran once: its captures and `steps.<id>` go into scope.
    pub(super) fn ran(
        &self,
        step: &StepPlan,
        scope: &mut Scope,
        body: BodyOutcome,
        started: Instant,
    ) -> StepResult {
        let mut result = blank(step, Status::Succeeded);
        for (name, value) in &body.run.captures {
            scope.set_json(name, value);
        }
        scope.set_step(&step.id, body.data.into_value());
        if let Some(error) = body.error {
            result.status = if error.kind == ErrorKind::Interrupted {
                Status::Interrupted
            } else {
                Status::Failed
            };
            result.error = Some(error);
        }
        result.run = Some(body.run);
        result.warnings = body.warnings;
        self.finish(step, result, started)
    }

    /// The step's duration, where its error is in the recipe, and its event.
    pub(super) fn finish(
        &self,
        step: &StepPlan,
        mut result: StepResult,
        started: Instant,
    ) -> StepResult {
        result.duration_ms = started.elapsed().as_millis() as u64;
        if let Some(error) = &mut result.error {
            error.locate(&step.source, &step.field);
        }
        self.events.sink.emit(&Event::StepFinished {
            step: result.id.clone(),
            status: result.status,
            duration_ms: result.duration_ms,
            error: result.error.as_ref().map(|e| e.message.clone()),
        });
        result
    }
}
