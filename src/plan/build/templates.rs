//! Templates and expressions of a recipe: compiled, and the names they read checked against
//! the scope they are in (and recorded, for the steps whose results some template reads).

use std::collections::HashSet;

use super::{At, Builder};
use crate::diagnostic::PlanKind;
use crate::plan::names::Scope;
use crate::plan::precheck::{self, Precheck, Rule};
use crate::plan::template;
use crate::plan::{Tpl, ValueTpl};
use crate::source::FieldPath;

impl Builder {
    pub(super) fn string(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        text: &str,
        scope: &Scope,
    ) -> Option<Tpl> {
        let compiled = self.templates.string(text);
        self.finish_template(at, field, compiled, scope)
    }

    /// A string field whose value must follow `rule`: checked now when it is literal, when
    /// the inputs are bound when it reads only inputs and secrets, else when it is sent.
    pub(super) fn checked(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        text: &str,
        scope: &Scope,
        rule: Rule,
    ) -> Option<Tpl> {
        let (tpl, vars) = match self.templates.string(text) {
            Ok((tpl, vars)) => {
                if !self.check_names(at, field, &vars, scope) {
                    return None;
                }
                (tpl, vars)
            }
            Err(error) => {
                self.template_error(at, field, &error);
                return None;
            }
        };
        match &tpl {
            Tpl::Literal(value) => {
                if let Err(message) = rule.check(value) {
                    let help = Some(rule.help().to_owned());
                    self.problem(PlanKind::Url, at, field, false, message, help);
                }
            }
            _ if precheck::bindable(&vars) => {
                if let Some(list) = self.prechecks.last_mut() {
                    list.push(Precheck {
                        tpl: tpl.clone(),
                        rule,
                        field: field.clone(),
                        step: at.step.map(str::to_owned),
                        inputs: precheck::inputs_read(&vars),
                    });
                }
            }
            _ => {}
        }
        Some(tpl)
    }

    pub(super) fn expression(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        text: &str,
        scope: &Scope,
    ) -> Option<Tpl> {
        let compiled = self.templates.expression(text);
        self.finish_template(at, field, compiled, scope)
    }

    pub(super) fn value(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        value: &serde_json::Value,
        scope: &Scope,
    ) -> Option<ValueTpl> {
        match self.templates.value(value) {
            Ok((tpl, vars)) => self.check_names(at, field, &vars, scope).then_some(tpl),
            Err(error) => {
                self.template_error(at, field, &error);
                None
            }
        }
    }

    fn finish_template(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        compiled: template::Compiled,
        scope: &Scope,
    ) -> Option<Tpl> {
        match compiled {
            Ok((tpl, vars)) => self.check_names(at, field, &vars, scope).then_some(tpl),
            Err(error) => {
                self.template_error(at, field, &error);
                None
            }
        }
    }

    fn template_error(&mut self, at: At<'_>, field: &FieldPath, error: &minijinja::Error) {
        let detail = error
            .detail()
            .map(str::to_string)
            .unwrap_or_else(|| error.kind().to_string());
        self.problem(
            PlanKind::Template,
            at,
            field,
            false,
            format!("invalid template: {detail}"),
            Some("templates use minijinja syntax: `{{ inputs.name }}`".into()),
        );
    }

    fn check_names(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        vars: &HashSet<String>,
        scope: &Scope,
    ) -> bool {
        if let Some(reads) = self.reads.last_mut() {
            reads.record(vars);
        }
        let problems = scope.check(vars);
        let ok = problems.is_empty();
        for (message, help) in problems {
            self.problem(PlanKind::UndefinedName, at, field, false, message, help);
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::diagnostic::PlanKind;

    #[test]
    fn templates_compile_and_read_only_names_in_scope() {
        let found = problems(&recipe(
            "steps:\n  - id: a\n    request: { url: '{{ inputs.bse }}/a', headers: { X: '{{ 1 + }}' } }\n",
        ));
        assert!(
            has(&found, PlanKind::UndefinedName, "steps[0].request.url"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Template, "steps[0].request.headers.X"),
            "{found:?}"
        );
        let ok = plan(&recipe(
            "steps:\n  - id: a\n    request: { url: '{{ inputs.base }}' }\n  - id: b\n    request: { url: \"{{ steps.a.status }}\" }\n",
        ));
        assert_eq!(ok.root.steps.len(), 2);
    }
}
