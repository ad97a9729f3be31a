//! `uses`: the used recipe loaded (once, however often it is used) and planned, cycles
//! refused, and `with` checked against its inputs.

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;

use super::{At, Builder, canonical};
use crate::diagnostic::{PlanKind, did_you_mean};
use crate::plan::UsesPlan;
use crate::plan::names::Scope;
use crate::recipe;
use crate::source::FieldPath;

impl Builder {
    pub(super) fn uses(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        uses: &str,
        with: &IndexMap<String, serde_json::Value>,
        scope: &Scope,
    ) -> Option<UsesPlan> {
        let base = at.source.path.parent().unwrap_or(Path::new("."));
        let path = base.join(uses);
        let key = canonical(&path);
        if let Some(position) = self.stack.iter().position(|p| *p == key) {
            let chain: Vec<String> = self.stack[position..]
                .iter()
                .chain(std::iter::once(&key))
                .map(|p| {
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect();
            self.problem(
                PlanKind::Uses,
                at,
                &field.key("uses"),
                false,
                format!("`uses` cycle: {}", chain.join(" → ")),
                Some("a recipe cannot use itself, directly or through others".into()),
            );
            return None;
        }
        // Only recipe files: an error in another file (an `.env`, a key) would quote its lines.
        if !path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            self.problem(
                PlanKind::Uses,
                at,
                &field.key("uses"),
                false,
                format!(
                    "`uses` names `{}`, which is not a recipe file (`.yaml`, `.yml` or `.json`)",
                    path.display()
                ),
                Some("`uses` runs another recipe; whisk reads nothing else through it".into()),
            );
            return None;
        }
        let recipe = match self.loaded.get(&key) {
            Some(plan) => plan.clone(),
            None => {
                let (source, parsed) = match recipe::load_file(&path) {
                    Ok(loaded) => loaded,
                    Err(error) => {
                        let mut diagnostic = error.0;
                        if diagnostic.location.as_ref().is_none_or(|l| l.line == 0) {
                            diagnostic = diagnostic.at_field(at.source, &field.key("uses"), false);
                        }
                        self.problems
                            .push(diagnostic.step(at.step.unwrap_or_default()));
                        return None;
                    }
                };
                self.stack.push(key.clone());
                let plan = self.recipe(Arc::new(source), &parsed);
                self.stack.pop();
                self.loaded.insert(key, plan.clone());
                plan
            }
        };
        let mut values = Vec::new();
        for (name, value) in with {
            let f = field.key("with").key(name);
            if !recipe.inputs.contains_key(name) {
                let help = did_you_mean(name, recipe.inputs.keys().map(String::as_str));
                self.problem(
                    PlanKind::Uses,
                    at,
                    &f,
                    true,
                    format!("`{name}` is not an input of `{uses}`"),
                    help,
                );
                continue;
            }
            if let Some(tpl) = self.value(at, &f, value, scope) {
                values.push((name.clone(), tpl));
            }
        }
        for (name, input) in &recipe.inputs {
            if input.default.is_none() && input.env.is_none() && !with.contains_key(name) {
                self.problem(
                    PlanKind::Uses,
                    at,
                    &field.key("with"),
                    true,
                    format!("`{uses}` needs input `{name}`"),
                    Some(format!("add `{name}:` under `with:`")),
                );
            }
        }
        Some(UsesPlan {
            recipe,
            with: values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::diagnostic::PlanKind;
    use crate::plan::Body;

    fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn a_used_recipe_is_loaded_once_and_its_inputs_checked() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(
            dir.path(),
            "child.yaml",
            "version: 1\nname: child\ninputs:\n  id: { type: string }\nsteps: []\noutputs:\n  done: '1'\n",
        );
        let root = "version: 1\nname: root\nsteps:\n  - id: a\n    uses: child.yaml\n    with: { id: '1' }\n  - id: b\n    uses: child.yaml\n    with: { id: '2' }\n";
        let path = write(dir.path(), "root.yaml", root);
        let plan = build_at(&path, root).expect("a plan");
        let (Body::Uses(a), Body::Uses(b)) = (&plan.root.steps[0].body, &plan.root.steps[1].body)
        else {
            panic!("uses steps")
        };
        assert!(std::sync::Arc::ptr_eq(&a.recipe, &b.recipe), "planned once");
        let bad = "version: 1\nname: root\nsteps:\n  - id: a\n    uses: child.yaml\n    with: { idd: '1' }\n";
        let path = write(dir.path(), "bad.yaml", bad);
        let found = build_at(&path, bad).expect_err("problems");
        assert!(
            has(&found, PlanKind::Uses, "steps[0].with.idd"),
            "{found:?}"
        );
        assert!(has(&found, PlanKind::Uses, "steps[0].with"), "{found:?}");
    }

    #[test]
    fn only_recipe_files_are_used_and_nothing_else_is_quoted() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), ".env", "API_KEY=hunter2-from-the-env-file\n");
        let root = "version: 1\nname: root\nsteps:\n  - id: a\n    uses: .env\n";
        let path = write(dir.path(), "root.yaml", root);
        let found = build_at(&path, root).expect_err("problems");
        assert!(has(&found, PlanKind::Uses, "steps[0].uses"), "{found:?}");
        assert!(!format!("{found:?}").contains("hunter2"), "{found:?}");
    }

    #[test]
    fn a_cycle_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = "version: 1\nname: a\nsteps:\n  - id: b\n    uses: b.yaml\n";
        write(
            dir.path(),
            "b.yaml",
            "version: 1\nname: b\nsteps:\n  - id: a\n    uses: a.yaml\n",
        );
        let path = write(dir.path(), "a.yaml", a);
        let found = build_at(&path, a).expect_err("problems");
        assert!(
            found
                .iter()
                .any(|(k, _, m)| *k == PlanKind::Uses && m.contains("cycle")),
            "{found:?}"
        );
    }
}
