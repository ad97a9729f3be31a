//! Builds a `Plan` from a recipe, collecting every validation problem with its location.

mod oauth2;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;

use super::names::{RESERVED, Scope, StepReads};
use super::template::TemplateBuilder;
use super::*;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::recipe::{self, Recipe, Step};
use crate::source::{FieldPath, Source};

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
    };
    let source = Arc::new(source);
    let key = canonical(&source.path);
    builder.stack.push(key);
    let root = builder.recipe(source, recipe);
    if !builder.problems.is_empty() {
        return Err(builder.problems);
    }
    let templates = builder
        .templates
        .finish()
        .map_err(|e| vec![Diagnostic::new(format!("template error: {e}"))])?;
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
}

/// Where the builder is: which file, which step.
#[derive(Clone, Copy)]
struct At<'a> {
    source: &'a Source,
    step: Option<&'a str>,
}

impl Builder {
    fn problem(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        at_key: bool,
        message: String,
        help: Option<String>,
    ) {
        let mut diagnostic = Diagnostic::new(message).at_field(at.source, field, at_key);
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
        let inputs = self.inputs(at, recipe, &mut scope);
        let secrets = self.secrets(at, recipe, &mut scope);
        let auth = self.auth(at, recipe, &scope);
        let placeholder = Arc::new(RecipePlan {
            id,
            name: recipe.name.clone(),
            source: source.clone(),
            inputs: IndexMap::new(),
            secrets: IndexMap::new(),
            auth: IndexMap::new(),
            steps: Vec::new(),
            outputs: Vec::new(),
        });
        self.recipes.push(placeholder);
        self.reads.push(StepReads::default());
        let mut ids = HashSet::new();
        let mut steps = self.steps(
            at,
            recipe,
            &recipe.steps,
            &root.key("steps"),
            &mut scope,
            &mut ids,
            &auth,
        );
        let mut outputs = Vec::new();
        for (name, expr) in &recipe.outputs {
            let field = root.key("outputs").key(name);
            if let Some(tpl) = self.expression(at, &field, expr, &scope) {
                outputs.push((name.clone(), tpl));
            }
        }
        let reads = self.reads.pop().unwrap_or_default();
        mark_results_read(&mut steps, &reads);
        let plan = Arc::new(RecipePlan {
            id,
            name: recipe.name.clone(),
            source,
            inputs,
            secrets,
            auth,
            steps,
            outputs,
        });
        self.recipes[id] = plan.clone();
        plan
    }

    fn inputs(
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
                    at,
                    &field.key("default"),
                    false,
                    format!("default of input `{name}`: {message}"),
                    None,
                );
            }
            scope.inputs.insert(name.clone());
            inputs.insert(
                name.clone(),
                InputPlan {
                    kind: input.kind,
                    default: input.default.clone(),
                    env: input.env.clone(),
                },
            );
        }
        inputs
    }

    fn secrets(
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

    fn identifier(&mut self, at: At<'_>, field: &FieldPath, name: &str, what: &str) -> bool {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            self.problem(
                at,
                field,
                true,
                format!("{what} `{name}` is not a valid name"),
                Some("use lowercase letters, digits and `_`, starting with a letter or `_`".into()),
            );
        }
        valid
    }

    /// Compiles a string field and checks the names it reads.
    fn string(&mut self, at: At<'_>, field: &FieldPath, text: &str, scope: &Scope) -> Option<Tpl> {
        let compiled = self.templates.string(text);
        self.finish_template(at, field, compiled, scope)
    }

    fn expression(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        text: &str,
        scope: &Scope,
    ) -> Option<Tpl> {
        let compiled = self.templates.expression(text);
        self.finish_template(at, field, compiled, scope)
    }

    fn value(
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
            self.problem(at, field, false, message, help);
        }
        ok
    }

    fn auth(
        &mut self,
        at: At<'_>,
        recipe: &Recipe,
        scope: &Scope,
    ) -> IndexMap<String, Arc<AuthPlan>> {
        // Auth profiles see inputs and secrets only: they are resolved before any step runs.
        let scope = Scope {
            inputs: scope.inputs.clone(),
            secrets: scope.secrets.clone(),
            globals: scope.globals.clone(),
            ..Scope::default()
        };
        let mut profiles = IndexMap::new();
        for (name, profile) in &recipe.auth {
            let field = FieldPath::root().key("auth").key(name);
            if name == "none" {
                self.problem(
                    at,
                    &field,
                    true,
                    "an auth profile cannot be named `none`".into(),
                    Some("`none` means \"no auth\" in `defaults.auth` and `steps[].auth`".into()),
                );
            }
            if let Some(plan) = self.profile(at, &field, name, profile, &scope) {
                profiles.insert(name.clone(), Arc::new(plan));
            }
        }
        profiles
    }

    fn profile(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        name: &str,
        profile: &recipe::AuthProfile,
        scope: &Scope,
    ) -> Option<AuthPlan> {
        let kinds = [
            profile.oauth2.is_some(),
            profile.bearer.is_some(),
            profile.basic.is_some(),
            profile.header.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            self.problem(at, field, true, format!("auth profile `{name}` needs exactly one of `oauth2`, `bearer`, `basic` or `header`"), None);
            return None;
        }
        let kind = if let Some(oauth2) = &profile.oauth2 {
            AuthKind::OAuth2(Box::new(self.oauth2(
                at,
                &field.key("oauth2"),
                oauth2,
                scope,
            )?))
        } else if let Some(bearer) = &profile.bearer {
            AuthKind::Bearer(self.string(at, &field.key("bearer"), bearer, scope)?)
        } else if let Some(basic) = &profile.basic {
            AuthKind::Basic {
                username: self.string(
                    at,
                    &field.key("basic").key("username"),
                    &basic.username,
                    scope,
                )?,
                password: self.string(
                    at,
                    &field.key("basic").key("password"),
                    &basic.password,
                    scope,
                )?,
            }
        } else {
            let header = profile.header.as_ref()?;
            AuthKind::Header {
                name: header.name.clone(),
                value: self.string(at, &field.key("header").key("value"), &header.value, scope)?,
            }
        };
        let refresh_on = match (&profile.refresh_on, &kind) {
            (Some(_), AuthKind::OAuth2(_)) | (None, _) => profile
                .refresh_on
                .as_ref()
                .map(|conditions| {
                    conditions
                        .iter()
                        .map(|c| RefreshOnPlan {
                            status: c.status.unwrap_or(401),
                            body_contains: c.body_contains.clone(),
                        })
                        .collect()
                })
                .unwrap_or_else(|| {
                    vec![RefreshOnPlan {
                        status: 401,
                        body_contains: None,
                    }]
                }),
            (Some(_), _) => {
                self.problem(
                    at,
                    &field.key("refresh_on"),
                    true,
                    "`refresh_on` applies only to `oauth2` profiles".into(),
                    Some("a fixed credential cannot be refreshed; remove `refresh_on`".into()),
                );
                Vec::new()
            }
        };
        Some(AuthPlan {
            name: name.to_string(),
            kind,
            refresh_on,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn steps(
        &mut self,
        at: At<'_>,
        recipe: &Recipe,
        steps: &[Step],
        field: &FieldPath,
        scope: &mut Scope,
        ids: &mut HashSet<String>,
        auth: &IndexMap<String, Arc<AuthPlan>>,
    ) -> Vec<StepPlan> {
        let mut plans = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let field = field.index(i);
            if let Some(plan) = self.step(at, recipe, step, &field, scope, ids, auth) {
                plans.push(plan);
            }
        }
        plans
    }

    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        at: At<'_>,
        recipe: &Recipe,
        step: &Step,
        field: &FieldPath,
        scope: &mut Scope,
        ids: &mut HashSet<String>,
        auth: &IndexMap<String, Arc<AuthPlan>>,
    ) -> Option<StepPlan> {
        let at = At {
            source: at.source,
            step: Some(&step.id),
        };
        if self.identifier(at, &field.key("id"), &step.id, "step id")
            && !ids.insert(step.id.clone())
        {
            self.problem(
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
        let kinds = [
            step.request.is_some(),
            step.uses.is_some(),
            step.steps.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            self.problem(at, field, false, format!("step `{}` needs exactly one of `request`, `uses` or `steps`", step.id), Some("a step sends a request, runs another recipe, or (with `for_each`) runs a block of steps".into()));
            return None;
        }
        let mut produced: Vec<String> = Vec::new();
        let body = if let Some(request) = &step.request {
            Body::Request(Box::new(
                self.request(at, recipe, step, request, field, &inner, auth)?,
            ))
        } else if let Some(uses) = &step.uses {
            for key in ["expect", "capture", "auth"] {
                let present = match key {
                    "expect" => step.expect.is_some(),
                    "capture" => !step.capture.is_empty(),
                    _ => step.auth.is_some(),
                };
                if present {
                    self.problem(
                        at,
                        &field.key(key),
                        true,
                        format!("`{key}` does not apply to a `uses` step"),
                        Some("the used recipe's `outputs` become this step's captures".into()),
                    );
                }
            }
            let uses = self.uses(at, field, uses, &step.with, &inner)?;
            produced.extend(uses.recipe.outputs.iter().map(|(name, _)| name.clone()));
            Body::Uses(uses)
        } else {
            let block = step.steps.as_deref().unwrap_or_default();
            if each.is_none() {
                self.problem(
                    at,
                    &field.key("steps"),
                    true,
                    "a block of `steps` needs `for_each`".into(),
                    Some("add `for_each: <a list>` to run the block once per item".into()),
                );
            }
            for key in ["expect", "capture"] {
                let present = if key == "expect" {
                    step.expect.is_some()
                } else {
                    !step.capture.is_empty()
                };
                if present {
                    self.problem(
                        at,
                        &field.key(key),
                        true,
                        format!("`{key}` does not apply to a block of steps"),
                        Some("put it on the steps inside the block".into()),
                    );
                }
            }
            let mut block_scope = inner.clone();
            let plans = self.steps(
                at,
                recipe,
                block,
                &field.key("steps"),
                &mut block_scope,
                ids,
                auth,
            );
            produced.extend(block_scope.captures.difference(&inner.captures).cloned());
            inner.captures = block_scope.captures.clone();
            Body::Block(plans)
        };
        let captures = self.captures(at, field, step, &inner);
        produced.extend(captures.iter().map(|c| c.name.clone()));
        let mut check_scope = inner.clone();
        check_scope.captures.extend(produced.iter().cloned());
        let mut checks = Vec::new();
        for (i, check) in step.check.iter().enumerate() {
            let f = field.key("check").index(i);
            let that = self.expression(at, &f.key("that"), &check.that, &check_scope);
            let message = check
                .message
                .as_ref()
                .and_then(|m| self.string(at, &f.key("message"), m, &check_scope));
            if let Some(that) = that {
                checks.push(CheckPlan {
                    that,
                    text: check.that.clone(),
                    message,
                });
            }
        }
        scope.steps.insert(step.id.clone(), each.is_some());
        scope.captures.extend(produced);
        Some(StepPlan {
            id: step.id.clone(),
            name: step.name.clone(),
            when,
            each,
            body,
            captures,
            checks,
            continue_on_error: step.continue_on_error,
            // Known once the whole recipe is built (`StepReads::mark`).
            results_read: true,
        })
    }

    fn each(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        step: &Step,
        list: &str,
        inner: &mut Scope,
    ) -> Option<Each> {
        let list = self.expression(at, &field.key("for_each"), list, inner);
        let var = step.as_.clone().unwrap_or_else(|| "item".to_string());
        if step.as_.is_some() {
            self.identifier(at, &field.key("as"), &var, "loop variable");
        }
        if let Some(why) = shadows(&var, inner) {
            self.problem(
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
                        at,
                        &field.key("concurrency"),
                        false,
                        format!("concurrency `{text}` is not a positive integer"),
                        None,
                    );
                    Concurrency::Fixed(1)
                }
                Ok(n) => Concurrency::Fixed(n),
                Err(_) => Concurrency::Template(self.string(
                    at,
                    &field.key("concurrency"),
                    text,
                    inner,
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

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        at: At<'_>,
        recipe: &Recipe,
        step: &Step,
        request: &recipe::Request,
        field: &FieldPath,
        scope: &Scope,
        auth: &IndexMap<String, Arc<AuthPlan>>,
    ) -> Option<RequestPlan> {
        let rf = field.key("request");
        let method_text = request
            .method
            .as_deref()
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let method = if METHODS.contains(&method_text.as_str()) {
            reqwest::Method::from_bytes(method_text.as_bytes()).ok()
        } else {
            self.problem(
                at,
                &rf.key("method"),
                false,
                format!("unknown method `{method_text}`"),
                Some(format!("use one of {}", METHODS.join(", "))),
            );
            None
        };
        let url = self.string(at, &rf.key("url"), &request.url, scope);
        if let Some(Tpl::Literal(serde_json::Value::String(text))) = &url
            && let Err(message) = check_url(text)
        {
            self.problem(
                at,
                &rf.key("url"),
                false,
                message,
                Some("write an absolute URL such as `https://api.example.com/v1/items`".into()),
            );
        }
        let query = self.pairs(at, &rf.key("query"), &request.query, scope);
        let mut headers = Vec::new();
        let mut names: HashSet<String> = HashSet::new();
        for (source, base) in [
            (&request.headers, rf.key("headers")),
            (
                &recipe.defaults.headers,
                FieldPath::root().key("defaults").key("headers"),
            ),
        ] {
            for (name, value) in source {
                if !names.insert(name.to_ascii_lowercase()) {
                    continue;
                }
                let f = base.key(name);
                if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    self.problem(
                        at,
                        &f,
                        true,
                        format!("`{name}` is not a valid header name"),
                        None,
                    );
                    continue;
                }
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(_) | serde_json::Value::Bool(_) => value.to_string(),
                    _ => {
                        self.problem(
                            at,
                            &f,
                            false,
                            format!("header `{name}` must be a string, number or boolean"),
                            None,
                        );
                        continue;
                    }
                };
                if let Some(tpl) = self.string(at, &f, &text, scope) {
                    headers.push((name.clone(), tpl));
                }
            }
        }
        let bodies = [
            request.json.is_some(),
            request.form.is_some(),
            request.body.is_some(),
        ];
        let body = if bodies.iter().filter(|b| **b).count() > 1 {
            self.problem(
                at,
                &rf,
                false,
                "a request has at most one of `json`, `form` and `body`".into(),
                None,
            );
            BodyPlan::None
        } else if let Some(json) = &request.json {
            BodyPlan::Json(self.value(at, &rf.key("json"), json, scope)?)
        } else if let Some(form) = &request.form {
            BodyPlan::Form(self.pairs(at, &rf.key("form"), form, scope))
        } else if let Some(text) = &request.body {
            BodyPlan::Text(self.string(at, &rf.key("body"), text, scope)?)
        } else {
            BodyPlan::None
        };
        let (auth_name, auth_field) = match &step.auth {
            Some(name) => (Some(name.as_str()), field.key("auth")),
            None => (
                recipe.defaults.auth.as_deref(),
                FieldPath::root().key("defaults").key("auth"),
            ),
        };
        let auth = match auth_name {
            None | Some("none") => None,
            Some(name) => match auth.get(name) {
                Some(plan) => Some(plan.clone()),
                None => {
                    let help = if recipe.auth.contains_key(name) {
                        "the profile itself has errors, listed above".to_string()
                    } else {
                        did_you_mean(name, recipe.auth.keys().map(String::as_str)).unwrap_or_else(
                            || "declare it under `auth:`, or write `none`".to_string(),
                        )
                    };
                    self.problem(
                        at,
                        &auth_field,
                        false,
                        format!("unknown auth profile `{name}`"),
                        Some(help),
                    );
                    None
                }
            },
        };
        let expect = match &step.expect {
            Some(expect) => match StatusSet::parse(&expect.status) {
                Ok(set) => set,
                Err(message) => {
                    self.problem(at, &field.key("expect").key("status"), false, message, None);
                    StatusSet::default()
                }
            },
            None => StatusSet::default(),
        };
        let retry = self.retry(
            at,
            field,
            recipe.defaults.retry.as_ref(),
            step.retry.as_ref(),
        );
        let (hosts, hosts_field) = match step
            .redirects
            .as_ref()
            .and_then(|r| r.forward_auth_to.as_ref())
        {
            Some(hosts) => (hosts.clone(), field.key("redirects").key("forward_auth_to")),
            None => (
                recipe
                    .defaults
                    .redirects
                    .as_ref()
                    .and_then(|r| r.forward_auth_to.clone())
                    .unwrap_or_default(),
                FieldPath::root()
                    .key("defaults")
                    .key("redirects")
                    .key("forward_auth_to"),
            ),
        };
        let forward_auth_to = hosts
            .iter()
            .enumerate()
            .filter_map(|(i, host)| self.string(at, &hosts_field.index(i), host, scope))
            .collect();
        let redirects = RedirectPolicy {
            follow: step
                .redirects
                .as_ref()
                .and_then(|r| r.follow)
                .or_else(|| recipe.defaults.redirects.as_ref().and_then(|r| r.follow))
                .unwrap_or(true),
            forward_auth_to,
            allow_insecure: step
                .redirects
                .as_ref()
                .and_then(|r| r.allow_insecure)
                .or_else(|| {
                    recipe
                        .defaults
                        .redirects
                        .as_ref()
                        .and_then(|r| r.allow_insecure)
                })
                .unwrap_or(false),
        };
        let timeout = step
            .timeout
            .or(recipe.defaults.timeout)
            .map(|d| d.0)
            .unwrap_or(DEFAULT_TIMEOUT);
        let connect_timeout = step
            .connect_timeout
            .or(recipe.defaults.connect_timeout)
            .map(|d| d.0)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        Some(RequestPlan {
            method: method?,
            url: url?,
            query,
            headers,
            body,
            auth,
            expect,
            retry,
            timeout,
            connect_timeout,
            max_body: step.max_body.or(recipe.defaults.max_body).map(|s| s.0),
            rate_limit: step.rate_limit.or(recipe.defaults.rate_limit),
            redirects,
            idempotent: step.idempotent,
        })
    }

    fn pairs(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        map: &IndexMap<String, serde_json::Value>,
        scope: &Scope,
    ) -> Vec<(String, ValueTpl)> {
        let mut pairs = Vec::new();
        for (name, value) in map {
            let f = field.key(name);
            let scalar = |v: &serde_json::Value| !(v.is_object() || v.is_array());
            let ok = match value {
                serde_json::Value::Array(items) => items.iter().all(scalar),
                other => scalar(other),
            };
            if !ok {
                self.problem(
                    at,
                    &f,
                    false,
                    format!("`{name}` must be a scalar or a list of scalars"),
                    None,
                );
                continue;
            }
            if let Some(tpl) = self.value(at, &f, value, scope) {
                pairs.push((name.clone(), tpl));
            }
        }
        pairs
    }

    fn retry(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        defaults: Option<&recipe::Retry>,
        step: Option<&recipe::Retry>,
    ) -> RetryPolicy {
        let pick = |f: fn(&recipe::Retry) -> Option<u32>| {
            step.and_then(f).or_else(|| defaults.and_then(f))
        };
        let attempts = pick(|r| r.attempts).unwrap_or(1);
        if attempts == 0 {
            let f = if step.is_some() {
                field.key("retry").key("attempts")
            } else {
                FieldPath::root()
                    .key("defaults")
                    .key("retry")
                    .key("attempts")
            };
            self.problem(
                at,
                &f,
                false,
                "`retry.attempts` counts every try including the first: it must be at least 1"
                    .into(),
                None,
            );
        }
        let on_status = step
            .and_then(|r| r.on_status.clone())
            .or_else(|| defaults.and_then(|r| r.on_status.clone()))
            .unwrap_or_else(|| vec![429, 502, 503, 504]);
        let backoff = |f: fn(&recipe::Backoff) -> Option<recipe::Duration>| {
            step.and_then(|r| r.backoff.as_ref())
                .and_then(f)
                .or_else(|| defaults.and_then(|r| r.backoff.as_ref()).and_then(f))
        };
        RetryPolicy {
            attempts: attempts.max(1),
            on_status,
            initial: backoff(|b| b.initial)
                .map(|d| d.0)
                .unwrap_or(Duration::from_millis(500)),
            max: backoff(|b| b.max)
                .map(|d| d.0)
                .unwrap_or(Duration::from_secs(30)),
        }
    }

    fn captures(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        step: &Step,
        scope: &Scope,
    ) -> Vec<CapturePlan> {
        let mut captures = Vec::new();
        for (name, capture) in &step.capture {
            let f = field.key("capture").key(name);
            self.identifier(at, &f, name, "capture");
            if let Some(why) = shadows(name, scope) {
                self.problem(
                    at,
                    &f,
                    true,
                    format!("capture `{name}` shadows {why}"),
                    Some("give the capture another name".into()),
                );
            }
            let spec = match capture {
                recipe::Capture::Path(path) => recipe::CaptureSpec {
                    jsonpath: Some(path.clone()),
                    ..Default::default()
                },
                recipe::Capture::Spec(spec) => spec.clone(),
            };
            let kinds = [
                spec.jsonpath.is_some(),
                spec.header.is_some(),
                spec.regex.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                self.problem(
                    at,
                    &f,
                    false,
                    format!(
                        "capture `{name}` needs exactly one of `jsonpath`, `header` or `regex`"
                    ),
                    None,
                );
                continue;
            }
            let kind = if let Some(path) = &spec.jsonpath {
                match jsonpath::compile(path) {
                    Ok(compiled) => CaptureKind::JsonPath {
                        path: compiled,
                        text: path.clone(),
                    },
                    Err(message) => {
                        let target = if matches!(capture, recipe::Capture::Path(_)) {
                            f.clone()
                        } else {
                            f.key("jsonpath")
                        };
                        self.problem(
                            at,
                            &target,
                            false,
                            message,
                            Some("see RFC 9535; e.g. `$.items[*].id` or `$[0].name`".into()),
                        );
                        continue;
                    }
                }
            } else if let Some(header) = &spec.header {
                CaptureKind::Header(header.to_ascii_lowercase())
            } else {
                let pattern = spec.regex.as_deref().unwrap_or_default();
                match regex::Regex::new(pattern) {
                    Ok(regex) => CaptureKind::Regex(regex),
                    Err(error) => {
                        self.problem(
                            at,
                            &f.key("regex"),
                            false,
                            format!("invalid regex: {error}"),
                            None,
                        );
                        continue;
                    }
                }
            };
            if spec.single && !matches!(kind, CaptureKind::JsonPath { .. }) {
                self.problem(
                    at,
                    &f.key("single"),
                    true,
                    "`single` applies only to `jsonpath` captures".into(),
                    Some("a header or regex capture already yields one value".into()),
                );
            }
            captures.push(CapturePlan {
                name: name.clone(),
                kind,
                single: spec.single,
                optional: spec.optional || spec.default.is_some(),
                default: spec.default,
            });
        }
        captures
    }

    fn uses(
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
                at,
                &field.key("uses"),
                false,
                format!("`uses` cycle: {}", chain.join(" → ")),
                Some("a recipe cannot use itself, directly or through others".into()),
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

/// What a new name would hide, if anything.
fn shadows(name: &str, scope: &Scope) -> Option<String> {
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

fn check_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("`{text}` is not a valid URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(format!(
            "URL scheme `{other}` is not supported: use `http` or `https`"
        )),
    }
}

/// A token URL must be HTTPS unless it points at a loopback address.
pub fn check_token_url(text: &str) -> Result<(), String> {
    check_url(text)?;
    let url = reqwest::Url::parse(text).map_err(|e| e.to_string())?;
    if url.scheme() == "https" || is_loopback(&url) {
        Ok(())
    } else {
        Err(format!(
            "token URL `{text}` is not HTTPS: credentials would travel in clear text"
        ))
    }
}

pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain == "localhost",
        None => false,
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
