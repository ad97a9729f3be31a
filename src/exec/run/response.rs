//! What a step makes of an answer: the status check, the captures, and the checks.

use super::{BodyOutcome, Runner};
use crate::exec::capture::{self, ResponseView};
use crate::exec::context::Scope;
use crate::exec::http::Incoming;
use crate::exec::request::describe;
use crate::plan::{StatusSet, StepPlan};
use crate::result::{CheckResult, ErrorInfo, ErrorKind};
use crate::source::FieldPath;

impl Runner<'_> {
    /// The status check and the captures of a response.
    pub(super) fn check_response(
        &self,
        step: &StepPlan,
        expected: &StatusSet,
        response: &Incoming,
        scope: &mut Scope,
        outcome: &mut BodyOutcome,
    ) {
        if !expected.accepts(response.status) {
            let exchange = outcome.run.request.as_ref();
            outcome.error = Some(
                ErrorInfo::new(
                    ErrorKind::Status,
                    format!(
                        "step `{}`: expected status {expected}, got {} from {} {}: `{}`",
                        step.id,
                        response.status,
                        exchange.map(|e| e.method.as_ref()).unwrap_or_default(),
                        exchange.map(|e| e.url.as_str()).unwrap_or_default(),
                        crate::event::excerpt(&response.body, &self.plan.redactor.masker())
                    ),
                )
                .in_field(FieldPath::root().key("expect").key("status")),
            );
            return;
        }
        // Parsed only for captures: a body nothing captures from is kept as bytes.
        let json: Option<serde_json::Value> =
            if step.captures.is_empty() || response.body.is_empty() {
                None
            } else {
                serde_json::from_slice(&response.body).ok()
            };
        let masker = self.plan.redactor.masker();
        let view = ResponseView {
            headers: &response.headers,
            body: &response.body,
            json: json.as_ref(),
            masker: &masker,
        };
        for plan in &step.captures {
            match capture::extract(plan, &view) {
                Ok(value) => {
                    outcome.warnings.extend(capture::warning(plan, &value));
                    scope.set_json(&plan.name, &value);
                    outcome.run.captures.insert(plan.name.clone(), value);
                }
                Err(message) => {
                    outcome.error = Some(
                        ErrorInfo::new(
                            ErrorKind::Capture,
                            format!("step `{}`: {message}", step.id),
                        )
                        .in_field(FieldPath::root().key("capture").key(&plan.name)),
                    );
                    return;
                }
            }
        }
    }

    /// The step's checks, with its captures in scope; the first that fails is the error.
    pub(super) fn checks(&self, step: &StepPlan, scope: &Scope, outcome: &mut BodyOutcome) {
        if step.checks.is_empty() {
            return;
        }
        let mut ctx_scope = scope.clone();
        for (name, value) in &outcome.run.captures {
            ctx_scope.set_json(name, value);
        }
        let ctx = ctx_scope.value();
        for (index, check) in step.checks.iter().enumerate() {
            let message = check
                .message
                .as_ref()
                .and_then(|m| self.plan.templates.text(m, &ctx).ok());
            let (passed, error) = match self.plan.templates.truthy(&check.that, &ctx) {
                Ok(passed) => (passed, None),
                Err(e) => (false, Some(describe(&e))),
            };
            outcome.run.checks.push(CheckResult {
                that: check.text.clone(),
                passed,
                message: message.clone(),
            });
            if !passed && outcome.error.is_none() {
                let text = match (error, message) {
                    (Some(error), _) => format!(
                        "step `{}`: check `{}` could not be evaluated: {error}",
                        step.id, check.text
                    ),
                    (None, Some(message)) => format!(
                        "step `{}`: check failed: {message} (`{}`)",
                        step.id, check.text
                    ),
                    (None, None) => format!("step `{}`: check failed: `{}`", step.id, check.text),
                };
                let field = FieldPath::root().key("check").index(index).key("that");
                outcome.error = Some(ErrorInfo::new(ErrorKind::Check, text).in_field(field));
            }
        }
    }
}
