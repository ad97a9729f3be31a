//! Inputs, secrets and names: what a recipe declares, checked, and what a new name would hide.

use std::path::PathBuf;

use indexmap::IndexMap;

use super::{At, Builder};
use crate::diagnostic::PlanKind;
use crate::plan::names::{RESERVED, Scope};
use crate::plan::{InputPlan, SecretPlan, bind};
use crate::recipe::{InputType, Recipe};
use crate::source::FieldPath;

impl Builder {
    pub(super) fn inputs(
        &mut self,
        at: At<'_>,
        recipe: &Recipe,
        scope: &mut Scope,
    ) -> IndexMap<String, InputPlan> {
        let mut inputs = IndexMap::new();
        for (name, input) in &recipe.inputs {
            let field = FieldPath::root().key("inputs").key(name);
            self.identifier(at, &field, name, "input");
            if let Some(default) = &input.default
                && let Err(message) = bind::check_type(input.kind, default)
            {
                self.problem(
                    PlanKind::Declaration,
                    at,
                    &field.key("default"),
                    false,
                    format!("default of input `{name}`: {message}"),
                    None,
                );
            }
            if !input.columns.is_empty() && input.kind != InputType::Array {
                self.problem(
                    PlanKind::Declaration,
                    at,
                    &field.key("columns"),
                    true,
                    format!(
                        "`columns` types the rows of an `array` input, and `{name}` is not one"
                    ),
                    Some("declare it `type: array`, or remove `columns`".into()),
                );
            }
            for (column, kind) in &input.columns {
                if matches!(kind, InputType::Array | InputType::Object) {
                    self.problem(
                        PlanKind::Declaration,
                        at,
                        &field.key("columns").key(column),
                        false,
                        format!("column `{column}`: a CSV cell is a string, number or boolean"),
                        Some("use `string` and parse it with `fromjson` in a template".into()),
                    );
                }
            }
            scope.inputs.insert(name.clone());
            inputs.insert(
                name.clone(),
                InputPlan {
                    kind: input.kind,
                    default: input.default.clone(),
                    env: input.env.clone(),
                    columns: input.columns.clone(),
                },
            );
        }
        inputs
    }

    pub(super) fn secrets(
        &mut self,
        at: At<'_>,
        recipe: &Recipe,
        scope: &mut Scope,
    ) -> IndexMap<String, SecretPlan> {
        let mut secrets = IndexMap::new();
        for (name, secret) in &recipe.secrets {
            let field = FieldPath::root().key("secrets").key(name);
            self.identifier(at, &field, name, "secret");
            let plan = match (&secret.env, &secret.file) {
                (Some(var), None) => SecretPlan::Env(var.clone()),
                (None, Some(file)) => SecretPlan::File(PathBuf::from(file)),
                _ => {
                    self.problem(
                        PlanKind::Declaration,
                        at,
                        &field,
                        false,
                        format!("secret `{name}` needs exactly one of `env` or `file`"),
                        Some("write `{ env: VARIABLE }` or `{ file: path }`".into()),
                    );
                    continue;
                }
            };
            scope.secrets.insert(name.clone());
            secrets.insert(name.clone(), plan);
        }
        secrets
    }

    pub(super) fn identifier(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        name: &str,
        what: &str,
    ) -> bool {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            self.problem(
                PlanKind::Name,
                at,
                field,
                true,
                format!("{what} `{name}` is not a valid name"),
                Some("use lowercase letters, digits and `_`, starting with a letter or `_`".into()),
            );
        }
        valid
    }
}

/// What a new name would hide, if anything.
pub(super) fn shadows(name: &str, scope: &Scope) -> Option<String> {
    if RESERVED.contains(&name) {
        Some(format!("the built-in name `{name}`"))
    } else if scope.inputs.contains(name) {
        Some(format!("input `{name}`"))
    } else if scope.secrets.contains(name) {
        Some(format!("secret `{name}`"))
    } else if scope.captures.contains(name) {
        Some(format!("the capture `{name}` of an earlier step"))
    } else if scope.locals.contains(name) {
        Some(format!("the loop variable `{name}`"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::diagnostic::PlanKind;

    #[test]
    fn inputs_and_secrets_are_declared_with_valid_names_and_one_source() {
        let found = problems(
            "version: 1\nname: r\ninputs:\n  Bad: { type: string }\n  n: { type: integer, default: 'x' }\nsecrets:\n  s: { env: A, file: b }\nsteps: []\n",
        );
        assert!(has(&found, PlanKind::Name, "inputs.Bad"), "{found:?}");
        assert!(
            has(&found, PlanKind::Declaration, "inputs.n.default"),
            "{found:?}"
        );
        assert!(has(&found, PlanKind::Declaration, "secrets.s"), "{found:?}");
    }

    #[test]
    fn a_name_may_not_hide_another() {
        let found = problems(&recipe(
            "steps:\n  - id: a\n    for_each: '[1]'\n    as: base\n    request: { url: 'https://x/' }\n",
        ));
        assert!(has(&found, PlanKind::Shadows, "steps[0].as"), "{found:?}");
    }
}
