//! The names a template may read at a given point of a recipe, and the check that every name
//! it does read exists there.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::did_you_mean;

/// Fields of `steps.<id>`.
const STEP_FIELDS: &[&str] = &["status", "headers", "body", "duration_ms", "pages"];
/// Extra fields of `steps.<id>` for a `for_each` step.
const LOOP_FIELDS: &[&str] = &["results", "succeeded", "failed"];
/// Names no capture or loop variable may take.
pub const RESERVED: &[&str] = &["inputs", "secrets", "steps", "loop"];

/// What is in scope at one point of a recipe.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub inputs: HashSet<String>,
    pub secrets: HashSet<String>,
    /// Earlier steps by id, with whether each is a `for_each` step.
    pub steps: HashMap<String, bool>,
    pub captures: HashSet<String>,
    /// Loop variables (and `loop`) of the enclosing `for_each` steps.
    pub locals: HashSet<String>,
    pub globals: HashSet<String>,
}

impl Scope {
    /// The problems with the names a template reads, as messages.
    pub fn check(&self, vars: &HashSet<String>) -> Vec<(String, Option<String>)> {
        let mut sorted: Vec<&String> = vars.iter().collect();
        sorted.sort();
        sorted
            .into_iter()
            .filter_map(|var| self.check_one(var))
            .collect()
    }

    fn check_one(&self, var: &str) -> Option<(String, Option<String>)> {
        let mut parts = var.split('.');
        let root = parts.next().unwrap_or_default();
        let second = parts.next();
        match root {
            "inputs" => second.and_then(|name| {
                (!self.inputs.contains(name)).then(|| {
                    (
                        format!("undefined input `inputs.{name}`"),
                        hint(name, &self.inputs, "declare it under `inputs:`"),
                    )
                })
            }),
            "secrets" => second.and_then(|name| {
                (!self.secrets.contains(name)).then(|| {
                    (
                        format!("undefined secret `secrets.{name}`"),
                        hint(name, &self.secrets, "declare it under `secrets:`"),
                    )
                })
            }),
            "steps" => {
                let id = second?;
                let Some(looped) = self.steps.get(id) else {
                    let ids: HashSet<String> = self.steps.keys().cloned().collect();
                    return Some((
                        format!("`steps.{id}` is not an earlier step"),
                        hint(
                            id,
                            &ids,
                            "a template can read only steps that run before it",
                        ),
                    ));
                };
                let field = parts.next()?;
                let known =
                    STEP_FIELDS.contains(&field) || (*looped && LOOP_FIELDS.contains(&field));
                (!known).then(|| {
                    let mut fields: Vec<&str> = STEP_FIELDS.to_vec();
                    if *looped {
                        fields.extend(LOOP_FIELDS);
                    }
                    (
                        format!("`steps.{id}` has no field `{field}`"),
                        Some(
                            did_you_mean(field, fields.iter().copied()).unwrap_or_else(|| {
                                format!(
                                    "its fields are {}",
                                    fields
                                        .iter()
                                        .map(|f| format!("`{f}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            }),
                        ),
                    )
                })
            }
            name if self.captures.contains(name)
                || self.locals.contains(name)
                || self.globals.contains(name) =>
            {
                None
            }
            name => {
                let known: HashSet<String> = self
                    .captures
                    .iter()
                    .chain(&self.locals)
                    .cloned()
                    .chain(RESERVED.iter().map(|s| s.to_string()))
                    .collect();
                Some((
                    format!("undefined variable `{name}`"),
                    hint(
                        name,
                        &known,
                        "names in scope are `inputs.*`, `secrets.*`, `steps.<id>`, captures of earlier steps and loop variables",
                    ),
                ))
            }
        }
    }
}

fn hint(name: &str, known: &HashSet<String>, otherwise: &str) -> Option<String> {
    Some(
        did_you_mean(name, known.iter().map(String::as_str))
            .unwrap_or_else(|| otherwise.to_string()),
    )
}

/// Which loops' `steps.<id>.results` the templates of one recipe may read: a template that
/// reads `steps` or `steps.<id>` whole (to pass it to a filter, say) may read any field, so it
/// counts as reading the results too. A loop nobody reads the results of keeps only its last
/// item's response at run time.
#[derive(Debug, Default)]
pub struct StepReads {
    all: bool,
    ids: HashSet<String>,
}

impl StepReads {
    /// Notes what a template reads (`vars` as minijinja's nested undeclared variables).
    pub fn record(&mut self, vars: &HashSet<String>) {
        for var in vars {
            let mut parts = var.split('.');
            if parts.next() != Some("steps") {
                continue;
            }
            match (parts.next(), parts.next()) {
                (None, _) => self.all = true,
                (Some(id), None | Some("results")) => {
                    self.ids.insert(id.to_string());
                }
                (Some(_), Some(_)) => {}
            }
        }
    }

    pub fn reads_results(&self, id: &str) -> bool {
        self.all || self.ids.contains(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accepts_what_is_in_scope() {
        let mut scope = Scope::default();
        scope.inputs.insert("base_url".into());
        scope.steps.insert("enable".into(), true);
        scope.captures.insert("app_names".into());
        scope.locals.insert("locator".into());
        let ok = vars(&[
            "inputs.base_url",
            "steps.enable.results",
            "app_names",
            "locator",
            "inputs",
        ]);
        assert!(scope.check(&ok).is_empty());
    }

    #[test]
    fn names_what_is_missing() {
        let mut scope = Scope::default();
        scope.inputs.insert("base_url".into());
        scope.steps.insert("plain".into(), false);
        let problems = scope.check(&vars(&[
            "inputs.base_ur",
            "steps.plain.results",
            "steps.later",
            "nope",
        ]));
        let messages: Vec<&str> = problems.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "undefined input `inputs.base_ur`",
                "undefined variable `nope`",
                "`steps.later` is not an earlier step",
                "`steps.plain` has no field `results`",
            ]
        );
        assert_eq!(problems[0].1.as_deref(), Some("did you mean `base_url`?"));
    }

    #[test]
    fn step_reads_count_whole_values_as_reading_results() {
        let mut reads = StepReads::default();
        reads.record(&vars(&[
            "steps.enable.status",
            "steps.listed.results",
            "steps.dumped",
            "inputs.steps",
        ]));
        assert!(!reads.reads_results("enable"));
        assert!(reads.reads_results("listed"));
        assert!(reads.reads_results("dumped"));
        assert!(!reads.reads_results("other"));
        reads.record(&vars(&["steps"]));
        assert!(reads.reads_results("enable"));
    }
}
