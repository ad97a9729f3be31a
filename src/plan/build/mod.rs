//! Builds a `Plan` from a recipe, collecting every validation problem with its location. One
//! file per part of a recipe: `declare` (inputs, secrets, names), `templates`, `auth` and
//! `oauth2` (profiles), `step` (steps, loops, checks), `request`, `policy` (defaults
//! layering), `capture`, `uses` (used recipes, cycles).

mod auth;
mod capture;
mod declare;
mod flow;
mod oauth2;
mod policy;
mod request;
mod step;
mod templates;
mod uses;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use super::names::{Scope, StepReads};
use super::template::TemplateBuilder;
use super::*;
use crate::diagnostic::{Diagnostic, Kind, PlanKind};
use crate::recipe::{self, Recipe};
use crate::source::{FieldPath, Source};

/// Loads the recipe at `path` and every recipe it uses, and validates them into a plan.
pub fn load_and_build(path: &Path) -> Result<Plan, Vec<Diagnostic>> {
    let (source, recipe) = recipe::load_file(path).map_err(|e| vec![e.0])?;
    build(source, &recipe)
}

/// Validates a parsed recipe (and the recipes it uses) into a plan.
pub fn build(source: Source, recipe: &Recipe) -> Result<Plan, Vec<Diagnostic>> {
    let redactor = crate::redact::Redactor::new();
    let templates = TemplateBuilder::new(&redactor);
    let globals = templates.globals();
    let mut builder = Builder {
        templates,
        globals,
        problems: Vec::new(),
        recipes: Vec::new(),
        loaded: HashMap::new(),
        stack: Vec::new(),
        reads: Vec::new(),
        prechecks: Vec::new(),
    };
    let source = Arc::new(source);
    let key = canonical(&source.path);
    builder.stack.push(key);
    let root = builder.recipe(source, recipe);
    if !builder.problems.is_empty() {
        return Err(builder.problems);
    }
    let templates = builder.templates.finish().map_err(|e| {
        vec![Diagnostic::new(
            Kind::Plan(PlanKind::Template),
            format!("template error: {e}"),
        )]
    })?;
    Ok(Plan {
        root,
        recipes: builder.recipes,
        templates,
        redactor,
    })
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

struct Builder {
    templates: TemplateBuilder,
    globals: HashSet<String>,
    problems: Vec<Diagnostic>,
    recipes: Vec<Arc<RecipePlan>>,
    loaded: HashMap<PathBuf, Arc<RecipePlan>>,
    stack: Vec<PathBuf>,
    /// For each recipe being built (innermost last), the steps its templates read as a whole.
    reads: Vec<StepReads>,
    /// For each recipe being built (innermost last), the fields to check at binding.
    prechecks: Vec<Vec<precheck::Precheck>>,
}

/// Where the builder is: which file, which step.
#[derive(Clone, Copy)]
struct At<'a> {
    source: &'a Arc<Source>,
    step: Option<&'a str>,
}

/// What the steps of one recipe are built against: where, the recipe, its auth profiles.
#[derive(Clone, Copy)]
struct Cx<'a> {
    at: At<'a>,
    recipe: &'a Recipe,
    auth: &'a IndexMap<String, Arc<AuthPlan>>,
}

impl<'a> Cx<'a> {
    /// The same, inside step `id`.
    fn in_step(self, id: &'a str) -> Cx<'a> {
        Cx {
            at: At {
                source: self.at.source,
                step: Some(id),
            },
            ..self
        }
    }
}

impl Builder {
    /// Records a problem at `field` (at its key when `at_key`) of the file `at` is in.
    pub(super) fn problem(
        &mut self,
        kind: PlanKind,
        at: At<'_>,
        field: &FieldPath,
        at_key: bool,
        message: String,
        help: Option<String>,
    ) {
        let mut diagnostic =
            Diagnostic::new(Kind::Plan(kind), message).at_field(at.source, field, at_key);
        if let Some(step) = at.step {
            diagnostic = diagnostic.step(step);
        }
        if let Some(help) = help {
            diagnostic = diagnostic.help(help);
        }
        self.problems.push(diagnostic);
    }

    fn recipe(&mut self, source: Arc<Source>, recipe: &Recipe) -> Arc<RecipePlan> {
        let at = At {
            source: &source,
            step: None,
        };
        let root = FieldPath::root();
        if recipe.version != 1 {
            self.problem(
                PlanKind::Version,
                at,
                &root.key("version"),
                false,
                format!("unsupported recipe version `{}`", recipe.version),
                Some("this whisk reads `version: 1`".into()),
            );
        }
        let id = self.recipes.len();
        // Reserve the id: sub-recipes planned below take the next ones.
        let mut scope = Scope {
            globals: self.globals.clone(),
            ..Scope::default()
        };
        self.prechecks.push(Vec::new());
        let inputs = self.inputs(at, recipe, &mut scope);
        let secrets = self.secrets(at, recipe, &mut scope);
        let auth = self.auth(at, recipe, &scope);
        // Like the auth profiles, it sees inputs and secrets only.
        let cert_scope = Scope {
            inputs: scope.inputs.clone(),
            secrets: scope.secrets.clone(),
            globals: scope.globals.clone(),
            ..Scope::default()
        };
        let client_cert = recipe.defaults.client_cert.as_ref().and_then(|cert| {
            let field = root.key("defaults").key("client_cert");
            self.client_cert(at, &field, cert, &cert_scope)
        });
        let placeholder = Arc::new(RecipePlan {
            id,
            name: recipe.name.clone(),
            source: source.clone(),
            inputs: IndexMap::new(),
            secrets: IndexMap::new(),
            auth: IndexMap::new(),
            steps: Vec::new(),
            outputs: Vec::new(),
            prechecks: Vec::new(),
            client_cert: None,
        });
        self.recipes.push(placeholder);
        self.reads.push(StepReads::default());
        let mut ids = HashSet::new();
        let cx = Cx {
            at,
            recipe,
            auth: &auth,
        };
        let mut steps = self.steps(cx, &recipe.steps, &root.key("steps"), &mut scope, &mut ids);
        let mut outputs = Vec::new();
        for (name, expr) in &recipe.outputs {
            let field = root.key("outputs").key(name);
            if let Some(tpl) = self.expression(at, &field, expr, &scope) {
                outputs.push((name.clone(), tpl));
            }
        }
        let reads = self.reads.pop().unwrap_or_default();
        mark_results_read(&mut steps, &reads);
        let prechecks = self.prechecks.pop().unwrap_or_default();
        let plan = Arc::new(RecipePlan {
            id,
            name: recipe.name.clone(),
            source,
            inputs,
            secrets,
            auth,
            steps,
            outputs,
            prechecks,
            client_cert,
        });
        self.recipes[id] = plan.clone();
        plan
    }
}

/// Sets `results_read` on every step of a recipe (blocks too) once all its templates are known.
fn mark_results_read(steps: &mut [StepPlan], reads: &StepReads) {
    for step in steps {
        step.results_read = reads.reads_results(&step.id);
        if let Body::Block(block) = &mut step.body {
            mark_results_read(block, reads);
        }
    }
}

/// Plans recipe texts for the unit tests of the builder's parts.
#[cfg(test)]
pub(super) mod testing {
    use super::*;

    /// `text` as a recipe at `path`: its plan, or its problems as (kind, field, message).
    pub fn build_at(path: &Path, text: &str) -> Result<Plan, Vec<(PlanKind, String, String)>> {
        let source = crate::recipe::load::source(path, text);
        let recipe = crate::recipe::load_str(&source).expect("the recipe parses");
        build(source, &recipe).map_err(|problems| {
            problems
                .into_iter()
                .map(|d| {
                    let Kind::Plan(kind) = d.kind else {
                        panic!("not a plan problem: {d:?}")
                    };
                    (kind, d.field.unwrap_or_default(), d.message)
                })
                .collect()
        })
    }

    /// The problems of `text` (which must have some).
    pub fn problems(text: &str) -> Vec<(PlanKind, String, String)> {
        match build_at(Path::new("r.yaml"), text) {
            Ok(_) => panic!("no problems in:\n{text}"),
            Err(problems) => problems,
        }
    }

    /// The plan of `text` (which must have no problems).
    pub fn plan(text: &str) -> Plan {
        build_at(Path::new("r.yaml"), text).unwrap_or_else(|p| panic!("{p:?}"))
    }

    /// A recipe with `body` after `version`, `name` and a `base` input.
    pub fn recipe(body: &str) -> String {
        format!(
            "version: 1\nname: r\ninputs:\n  base: {{ type: string, default: 'https://x' }}\n{body}"
        )
    }

    /// Whether a problem of `kind` at `field` is among `problems`.
    pub fn has(problems: &[(PlanKind, String, String)], kind: PlanKind, field: &str) -> bool {
        problems.iter().any(|(k, f, _)| *k == kind && f == field)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn a_recipe_is_planned_with_every_problem_collected() {
        let plan = plan(&recipe(
            "steps:\n  - id: a\n    request: { url: '{{ inputs.base }}/a' }\n",
        ));
        assert_eq!(plan.root.steps.len(), 1);
        assert_eq!(plan.root.steps[0].field.to_string(), "steps[0]");
        let found = problems("version: 2\nname: r\nsteps:\n  - id: A\n    request: { url: 'x' }\n");
        assert!(has(&found, PlanKind::Version, "version"), "{found:?}");
        assert!(has(&found, PlanKind::Name, "steps[0].id"), "{found:?}");
        assert!(
            has(&found, PlanKind::Url, "steps[0].request.url"),
            "{found:?}"
        );
    }
}
