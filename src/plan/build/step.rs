//! Steps: ids, `when`, `for_each` (the loop variable, `concurrency`), what a step does
//! (exactly one of `request`, `uses`, a block of `steps`), and its checks.

use std::collections::HashSet;

use super::declare::shadows;
use super::{At, Builder, Cx};
use crate::diagnostic::PlanKind;
use crate::plan::ValueTpl;
use crate::plan::names::Scope;
use crate::plan::precheck::Rule;
use crate::plan::{Body, CheckPlan, Concurrency, Each, StepPlan};
use crate::recipe::{self, Step};
use crate::source::FieldPath;

impl Builder {
    pub(super) fn steps(
        &mut self,
        cx: Cx<'_>,
        steps: &[Step],
        field: &FieldPath,
        scope: &mut Scope,
        ids: &mut HashSet<String>,
    ) -> Vec<StepPlan> {
        let mut plans = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let field = field.index(i);
            if let Some(plan) = self.step(cx, step, &field, scope, ids) {
                plans.push(plan);
            }
        }
        plans
    }

    fn step(
        &mut self,
        cx: Cx<'_>,
        step: &Step,
        field: &FieldPath,
        scope: &mut Scope,
        ids: &mut HashSet<String>,
    ) -> Option<StepPlan> {
        let plan = self.step_plan(cx, step, field, scope, ids);
        // A step with problems still defines what it says it does, so that the steps after it
        // that read its captures or `steps.<id>` are not reported as well: one mistake, one
        // error.
        scope
            .steps
            .entry(step.id.clone())
            .or_insert(step.for_each.is_some());
        scope.captures.extend(step.capture.keys().cloned());
        plan
    }

    fn step_plan(
        &mut self,
        cx: Cx<'_>,
        step: &Step,
        field: &FieldPath,
        scope: &mut Scope,
        ids: &mut HashSet<String>,
    ) -> Option<StepPlan> {
        let cx = cx.in_step(&step.id);
        let at = cx.at;
        if self.identifier(at, &field.key("id"), &step.id, "step id")
            && !ids.insert(step.id.clone())
        {
            self.problem(
                PlanKind::Duplicate,
                at,
                &field.key("id"),
                false,
                format!("duplicate step id `{}`", step.id),
                Some("step ids must be unique within a recipe".into()),
            );
        }
        let when = step
            .when
            .as_ref()
            .and_then(|w| self.expression(at, &field.key("when"), w, scope));
        let mut inner = scope.clone();
        let each = match &step.for_each {
            Some(list) => self.each(at, field, step, list, &mut inner),
            None => {
                if step.as_.is_some() || step.concurrency.is_some() {
                    let key = if step.as_.is_some() {
                        "as"
                    } else {
                        "concurrency"
                    };
                    self.problem(
                        PlanKind::Structure,
                        at,
                        &field.key(key),
                        true,
                        format!("`{key}` needs `for_each`"),
                        Some("add `for_each: <a list>` or remove it".into()),
                    );
                }
                None
            }
        };
        if step.every_shard && (step.for_each.is_some() || field.depth() > 2) {
            let (message, help) = if step.for_each.is_some() {
                (
                    "`every_shard` is for steps outside loops: a top-level `for_each` runs in every shard already, on its share of the items",
                    "remove `every_shard`",
                )
            } else {
                (
                    "`every_shard` is for top-level steps: the steps of a block run with their item, in the shard that has it",
                    "move `every_shard` to a top-level step, or remove it",
                )
            };
            self.problem(
                PlanKind::Structure,
                at,
                &field.key("every_shard"),
                true,
                message.into(),
                Some(help.into()),
            );
        }
        let kinds = [
            step.request.is_some(),
            step.uses.is_some(),
            step.steps.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            self.problem(PlanKind::Structure, at, field, false, format!("step `{}` needs exactly one of `request`, `uses` or `steps`", step.id), Some("a step sends a request, runs another recipe, or (with `for_each`) runs a block of steps".into()));
            return None;
        }
        let mut produced: Vec<String> = Vec::new();
        let body = if let Some(request) = &step.request {
            Body::Request(Box::new(self.request(cx, step, request, field, &inner)?))
        } else if let Some(uses) = &step.uses {
            self.not_applicable(
                at,
                field,
                step,
                &["expect", "capture", "auth"],
                "a `uses` step",
                "the used recipe's `outputs` become this step's captures",
            );
            let uses = self.uses(at, field, uses, &step.with, &inner)?;
            produced.extend(uses.recipe.outputs.iter().map(|(name, _)| name.clone()));
            Body::Uses(uses)
        } else {
            let block = step.steps.as_deref().unwrap_or_default();
            if each.is_none() {
                self.problem(
                    PlanKind::Structure,
                    at,
                    &field.key("steps"),
                    true,
                    "a block of `steps` needs `for_each`".into(),
                    Some("add `for_each: <a list>` to run the block once per item".into()),
                );
            }
            self.not_applicable(
                at,
                field,
                step,
                &["expect", "capture"],
                "a block of steps",
                "put it on the steps inside the block",
            );
            let mut block_scope = inner.clone();
            let plans = self.steps(cx, block, &field.key("steps"), &mut block_scope, ids);
            produced.extend(block_scope.captures.difference(&inner.captures).cloned());
            inner.captures = block_scope.captures.clone();
            Body::Block(plans)
        };
        let captures = self.captures(at, field, step, &inner);
        produced.extend(captures.iter().map(|c| c.name.clone()));
        let mut check_scope = inner.clone();
        check_scope.captures.extend(produced.iter().cloned());
        check_scope.captures.extend(step.capture.keys().cloned());
        let checks = self.checks(at, field, step, &check_scope);
        let repeat = self.repeat(at, field, step, &check_scope);
        scope.steps.insert(step.id.clone(), each.is_some());
        scope.captures.extend(produced);
        Some(StepPlan {
            id: step.id.clone(),
            source: at.source.clone(),
            field: field.clone(),
            name: step.name.clone(),
            when,
            each,
            body,
            captures,
            checks,
            repeat,
            continue_on_error: step.continue_on_error,
            every_shard: step.every_shard,
            // Known once the whole recipe is built (`StepReads::mark`).
            results_read: true,
        })
    }

    /// Reports each of `keys` that `step` sets although it does not apply to `what` it is.
    fn not_applicable(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        step: &Step,
        keys: &[&str],
        what: &str,
        help: &str,
    ) {
        for key in keys {
            let present = match *key {
                "expect" => step.expect.is_some(),
                "capture" => !step.capture.is_empty(),
                _ => step.auth.is_some(),
            };
            if present {
                self.problem(
                    PlanKind::Structure,
                    at,
                    &field.key(key),
                    true,
                    format!("`{key}` does not apply to {what}"),
                    Some(help.into()),
                );
            }
        }
    }

    /// A step's checks, with its captures (and those its body produced) in scope.
    fn checks(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        step: &Step,
        scope: &Scope,
    ) -> Vec<CheckPlan> {
        let mut checks = Vec::new();
        for (i, check) in step.check.iter().enumerate() {
            let f = field.key("check").index(i);
            let that = self.expression(at, &f.key("that"), &check.that, scope);
            let message = check
                .message
                .as_ref()
                .and_then(|m| self.string(at, &f.key("message"), m, scope));
            if let Some(that) = that {
                checks.push(CheckPlan {
                    that,
                    text: check.that.clone(),
                    message,
                });
            }
        }
        checks
    }

    fn each(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        step: &Step,
        list: &recipe::ForEach,
        inner: &mut Scope,
    ) -> Option<Each> {
        let f = field.key("for_each");
        let list = match list {
            recipe::ForEach::Expression(text) => {
                self.expression(at, &f, text, inner).map(ValueTpl::Tpl)
            }
            recipe::ForEach::List(items) => {
                self.value(at, &f, &serde_json::Value::Array(items.clone()), inner)
            }
        };
        let var = step.as_.clone().unwrap_or_else(|| "item".to_string());
        if step.as_.is_some() {
            self.identifier(at, &field.key("as"), &var, "loop variable");
        }
        if let Some(why) = shadows(&var, inner) {
            self.problem(
                PlanKind::Shadows,
                at,
                &field.key("as"),
                false,
                format!("loop variable `{var}` shadows {why}"),
                Some("choose another name with `as:`".into()),
            );
        }
        let concurrency = match &step.concurrency {
            None => Concurrency::Fixed(1),
            Some(recipe::Concurrency::Fixed(0)) => {
                self.problem(
                    PlanKind::Limit,
                    at,
                    &field.key("concurrency"),
                    false,
                    "concurrency must be at least 1".into(),
                    None,
                );
                Concurrency::Fixed(1)
            }
            Some(recipe::Concurrency::Fixed(n)) => Concurrency::Fixed(*n as usize),
            Some(recipe::Concurrency::Template(text)) => match text.trim().parse::<usize>() {
                Ok(0) | Err(_) if !text.contains("{{") => {
                    self.problem(
                        PlanKind::Limit,
                        at,
                        &field.key("concurrency"),
                        false,
                        format!("concurrency `{text}` is not a positive integer"),
                        None,
                    );
                    Concurrency::Fixed(1)
                }
                Ok(n) => Concurrency::Fixed(n),
                Err(_) => Concurrency::Template(self.checked(
                    at,
                    &field.key("concurrency"),
                    text,
                    inner,
                    Rule::Concurrency,
                )?),
            },
        };
        inner.locals.insert(var.clone());
        inner.locals.insert("loop".to_string());
        Some(Each {
            list: list?,
            var,
            concurrency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::diagnostic::PlanKind;
    use crate::plan::{Body, Concurrency};

    #[test]
    fn every_shard_is_for_top_level_steps_outside_loops() {
        let ok = plan(&recipe(
            "steps:\n  - id: a\n    every_shard: true\n    request: { url: '{{ inputs.base }}/a' }\n",
        ));
        assert!(ok.root.steps[0].every_shard);
        let found = problems(&recipe(
            "steps:\n  - id: a\n    every_shard: true\n    for_each: '[1]'\n    request: { url: '{{ inputs.base }}/a' }\n  - id: b\n    for_each: '[1]'\n    steps:\n      - id: c\n        every_shard: true\n        request: { url: '{{ inputs.base }}/c' }\n",
        ));
        assert!(
            has(&found, PlanKind::Structure, "steps[0].every_shard"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Structure, "steps[1].steps[0].every_shard"),
            "{found:?}"
        );
    }

    #[test]
    fn steps_have_unique_ids_one_body_and_keys_that_apply() {
        let found = problems(&recipe(
            "steps:\n  - id: a\n    request: { url: 'https://x/' }\n  - id: a\n    request: { url: 'https://x/' }\n  - id: b\n    as: x\n    request: { url: 'https://x/' }\n  - id: c\n    steps: []\n  - id: d\n    request: { url: 'https://x/' }\n    uses: other.yaml\n",
        ));
        assert!(has(&found, PlanKind::Duplicate, "steps[1].id"), "{found:?}");
        assert!(has(&found, PlanKind::Structure, "steps[2].as"), "{found:?}");
        assert!(
            has(&found, PlanKind::Structure, "steps[3].steps"),
            "{found:?}"
        );
        assert!(has(&found, PlanKind::Structure, "steps[4]"), "{found:?}");
    }

    #[test]
    fn loops_have_a_variable_a_concurrency_and_a_block() {
        let found = problems(&recipe(
            "steps:\n  - id: a\n    for_each: '[1]'\n    concurrency: 0\n    request: { url: 'https://x/' }\n  - id: b\n    for_each: '[1]'\n    concurrency: many\n    request: { url: 'https://x/' }\n",
        ));
        assert!(
            has(&found, PlanKind::Limit, "steps[0].concurrency"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Limit, "steps[1].concurrency"),
            "{found:?}"
        );
        let plan = plan(&recipe(
            "steps:\n  - id: a\n    for_each: '[1, 2]'\n    as: n\n    concurrency: '{{ 1 + 1 }}'\n    steps:\n      - id: inner\n        request: { url: '{{ inputs.base }}/{{ n }}' }\n        capture: { id: $.id }\n    check:\n      - that: id\n",
        ));
        let step = &plan.root.steps[0];
        let each = step.each.as_ref().expect("a loop");
        assert_eq!(each.var, "n");
        assert!(matches!(each.concurrency, Concurrency::Template(_)));
        assert!(matches!(&step.body, Body::Block(block) if block.len() == 1));
        assert_eq!(step.checks.len(), 1, "a check sees the block's captures");
    }
}
