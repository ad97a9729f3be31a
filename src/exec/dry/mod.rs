//! `whisk run --dry-run`: the requests a run would send, token requests included, as `curl`
//! commands, in order. Nothing is sent and no secret is read: secrets appear as references to
//! the environment variables (or files) they come from, tokens as variables filled by the token
//! request's command. Loops over inputs are expanded; a loop over values only a run can know
//! (captures) is shown once, its item a shell variable.

mod shell;
mod unknown;

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::Value;

use super::auth::{Config, Resolver, token_form};
use super::context::{Scope, loop_value};
use super::request::{self, describe};
use super::runner::{given_inputs, produced};
use crate::plan::bind::{self, Bound, Env, secret_placeholder};
use crate::plan::{AuthKind, AuthPlan, Body, Plan, RecipePlan, RequestPlan, SecretPlan, StepPlan};
use crate::recipe::Grant;
use crate::redact::Redactor;
use shell::{Reference, command, word};
use unknown::{Unknowns, shell_name};

/// The script of a dry run, and what could not be shown.
pub struct DryRun {
    pub script: String,
    pub warnings: Vec<String>,
}

/// Renders every request of `plan` with `bound` values (secrets bound to their placeholders).
pub fn dry_run(plan: &Plan, bound: &Bound, env: &Env, recipe_path: &str) -> DryRun {
    let mut walker = Walker {
        plan,
        bound,
        env,
        unknowns: Arc::new(Unknowns::default()),
        secrets: secret_references(plan),
        tokens: HashMap::new(),
        form_encode: false,
        body: String::new(),
        warnings: Vec::new(),
    };
    walker.recipe(&plan.root, (*bound.inputs).clone());
    let mut script = String::from("#!/bin/sh\n");
    script.push_str(&format!(
        "# whisk dry run of recipe `{}` ({recipe_path}): the requests a run would send, in order.\n# Nothing was sent.\n",
        plan.root.name
    ));
    let sources: Vec<String> = walker.secrets.iter().map(|r| r.shell.clone()).collect();
    if !sources.is_empty() {
        script.push_str(&format!(
            "# Secrets are read where whisk reads them: {}.\n",
            sources.join(", ")
        ));
    }
    if walker.body.contains("| jq -er .access_token)") {
        script.push_str("# Token answers are read with jq.\n");
    }
    script.push_str("set -eu\n");
    if walker.form_encode {
        script.push_str("form_encode() { printf %s \"$1\" | jq -sRr @uri; }\n");
    }
    script.push_str(&walker.body);
    let shown: Vec<_> = walker
        .unknowns
        .all()
        .into_iter()
        .filter(|(_, entry)| walker.body.contains(&format!("\"${}\"", entry.var)))
        .collect();
    if !shown.is_empty() {
        script.push_str("\n# Known only when the run gets there, shown as variables:\n");
        for (_, entry) in shown {
            script.push_str(&format!("#   ${}: {}\n", entry.var, entry.what));
        }
    }
    DryRun {
        script,
        warnings: walker.warnings,
    }
}

/// Each secret's placeholder and where its value comes from.
fn secret_references(plan: &Plan) -> Vec<Reference> {
    let mut references = Vec::new();
    for (index, recipe) in plan.recipes.iter().enumerate() {
        for (name, source) in &recipe.secrets {
            let shell = match source {
                SecretPlan::Env(var) => format!("${var}"),
                SecretPlan::File(path) => {
                    let path = bind::secret_file(recipe, path);
                    format!(
                        "$(cat '{}')",
                        path.display().to_string().replace('\'', r"'\''")
                    )
                }
            };
            references.push(Reference {
                sentinel: secret_placeholder(index, name),
                shell,
            });
        }
    }
    references
}

struct Walker<'a> {
    plan: &'a Plan,
    bound: &'a Bound,
    env: &'a Env,
    unknowns: Arc<Unknowns>,
    secrets: Vec<Reference>,
    /// Token variables by profile settings, for profiles whose token request was shown.
    tokens: HashMap<String, String>,
    /// Whether the script uses its `form_encode` function.
    form_encode: bool,
    body: String,
    warnings: Vec<String>,
}

impl Walker<'_> {
    fn recipe(&mut self, recipe: &RecipePlan, inputs: serde_json::Map<String, serde_json::Value>) {
        let secrets = &self.bound.secrets[recipe.id];
        let mut scope = Scope::new(&inputs, secrets);
        let auth_ctx = scope.value();
        self.steps(&recipe.steps, &mut scope, &auth_ctx);
        for (name, _) in &recipe.outputs {
            let _ = self.unknowns.value(
                name,
                &format!("output `{name}` of recipe `{}`", recipe.name),
            );
        }
    }

    fn steps(&mut self, steps: &[StepPlan], scope: &mut Scope, auth_ctx: &Value) {
        for step in steps {
            self.step(step, scope, auth_ctx);
        }
    }

    fn step(&mut self, step: &StepPlan, scope: &mut Scope, auth_ctx: &Value) {
        let title = match &step.name {
            Some(name) => format!("step `{}`: {name}", step.id),
            None => format!("step `{}`", step.id),
        };
        if let Some(when) = &step.when {
            match self.plan.templates.truthy(when, &scope.value()) {
                Ok(true) => {}
                Ok(false) => {
                    self.comment(&format!("{title}: skipped (`when` is false)"));
                    return;
                }
                Err(_) => self.comment(&format!(
                    "{title}: runs only if its `when` holds, which is known only during the run"
                )),
            }
        }
        match &step.each {
            None => {
                self.comment(&title);
                self.body(step, scope, auth_ctx);
            }
            Some(each) => {
                let ctx = scope.value();
                match self.plan.templates.json(&each.list, &ctx) {
                    Ok(serde_json::Value::Array(items)) => {
                        let length = items.len();
                        if length == 0 {
                            self.comment(&format!("{title}: no items"));
                        }
                        for (index, item) in items.into_iter().enumerate() {
                            let mut item_scope = scope.clone();
                            item_scope.set_json(&each.var, &item);
                            item_scope.set("loop", loop_value(index, length));
                            self.comment(&format!(
                                "{title}: item {} of {length} ({} = {})",
                                index + 1,
                                each.var,
                                preview(&item)
                            ));
                            self.body(step, &mut item_scope, auth_ctx);
                        }
                    }
                    _ => {
                        let mut item_scope = scope.clone();
                        let what = format!("each item of the list of step `{}`", step.id);
                        item_scope.set(&each.var, self.unknowns.value(&each.var, &what));
                        item_scope.set(
                            "loop",
                            self.unknowns
                                .value("loop", &format!("`loop` of step `{}`", step.id)),
                        );
                        self.comment(&format!(
                            "{title}: for each item of a list known only during the run; shown once, the item as ${}",
                            shell_name(&each.var)
                        ));
                        self.body(step, &mut item_scope, auth_ctx);
                    }
                }
            }
        }
        for capture in &step.captures {
            let value = self
                .unknowns
                .value(&capture.name, &format!("capture `{}`", capture.name));
            scope.set(&capture.name, value);
        }
        let value = self
            .unknowns
            .value(&format!("step_{}", step.id), &format!("steps.{}", step.id));
        scope.set_step(&step.id, value);
    }

    fn body(&mut self, step: &StepPlan, scope: &mut Scope, auth_ctx: &Value) {
        match &step.body {
            Body::Request(plan) => self.request(step, plan, scope, auth_ctx),
            Body::Uses(uses) => {
                let given = match given_inputs(self.plan, uses, &scope.value()) {
                    Ok(given) => given,
                    Err(message) => {
                        self.cannot(step, &message);
                        return;
                    }
                };
                match bind::bind_inputs(&uses.recipe, &given, self.env) {
                    Ok(inputs) => {
                        self.comment(&format!("recipe `{}`", uses.recipe.name));
                        self.recipe(&uses.recipe, inputs);
                    }
                    Err(problems) => {
                        let messages: Vec<String> =
                            problems.into_iter().map(|d| d.message).collect();
                        self.cannot(
                            step,
                            &format!("inputs of `{}`: {}", uses.recipe.name, messages.join("; ")),
                        );
                    }
                }
                for (name, _) in &uses.recipe.outputs {
                    let value = self.unknowns.value(
                        name,
                        &format!("output `{name}` of recipe `{}`", uses.recipe.name),
                    );
                    scope.set(name, value);
                }
            }
            Body::Block(block) => {
                let mut inner = scope.clone();
                self.steps(block, &mut inner, auth_ctx);
                for name in produced(block) {
                    let value = self.unknowns.value(&name, &format!("capture `{name}`"));
                    scope.set(&name, value);
                }
            }
        }
    }

    fn request(&mut self, step: &StepPlan, plan: &RequestPlan, scope: &Scope, auth_ctx: &Value) {
        let ctx = scope.value();
        let out = match request::render(self.plan, &step.id, plan, &ctx) {
            Ok(out) => out,
            Err(error) => {
                self.cannot_render(&error.message);
                return;
            }
        };
        let credential = match &plan.auth {
            Some(profile) => match self.credential(profile, auth_ctx) {
                Some(lines) => lines,
                None => return,
            },
            None => Vec::new(),
        };
        let references = self.references();
        let mut lines = vec![format!(
            "curl -sS -X {} {}",
            out.method,
            word(out.url.as_str(), &references)
        )];
        for (name, value) in &out.headers {
            let text = format!("{name}: {}", String::from_utf8_lossy(value.as_bytes()));
            lines.push(format!("-H {}", word(&text, &references)));
        }
        lines.extend(credential);
        if let Some(body) = &out.body {
            lines.push(format!(
                "--data-binary {}",
                word(&String::from_utf8_lossy(body), &references)
            ));
        }
        if plan.redirects.follow {
            lines.push(if plan.redirects.forward_auth_to.is_empty() {
                "-L".to_string()
            } else {
                // whisk forwards the credential only to the hosts listed; curl to any host.
                "--location-trusted".to_string()
            });
        }
        self.emit(&command(&lines));
    }

    /// The curl options carrying a profile's credential; the first use of an OAuth2 profile
    /// prints its token request.
    fn credential(&mut self, profile: &AuthPlan, auth_ctx: &Value) -> Option<Vec<String>> {
        let resolver = Resolver {
            templates: &self.plan.templates,
            ctx: auth_ctx,
            cache: None,
        };
        let references = self.references();
        let text = |field: &str, tpl| {
            self.plan.templates.text(tpl, auth_ctx).map_err(|e| {
                format!(
                    "auth profile `{}`, field `{field}`: {}",
                    profile.name,
                    describe(&e)
                )
            })
        };
        let result = match &profile.kind {
            AuthKind::OAuth2(oauth2) => {
                match Config::render(profile, oauth2, &resolver, &Redactor::new()) {
                    Ok(config) => Ok(self.token(profile, &config)),
                    Err(error) => Err(error.message),
                }
            }
            AuthKind::Bearer(token) => text("bearer", token).map(|token| {
                vec![format!(
                    "-H {}",
                    word(&format!("Authorization: Bearer {token}"), &references)
                )]
            }),
            AuthKind::Basic { username, password } => text("basic.username", username)
                .and_then(|user| Ok((user, text("basic.password", password)?)))
                .map(|(user, password)| {
                    vec![format!(
                        "-u {}",
                        word(&format!("{user}:{password}"), &references)
                    )]
                }),
            AuthKind::Header { name, value } => text("header.value", value).map(|value| {
                vec![format!(
                    "-H {}",
                    word(&format!("{name}: {value}"), &references)
                )]
            }),
        };
        match result {
            Ok(lines) => Some(lines),
            Err(message) => {
                self.cannot_render(&message);
                None
            }
        }
    }

    /// Prints the token request of `config` the first time, and returns the header option.
    fn token(&mut self, profile: &AuthPlan, config: &Config) -> Vec<String> {
        let key = config.key();
        if let Some(var) = self.tokens.get(&key) {
            return vec![format!("-H \"Authorization: Bearer ${var}\"")];
        }
        let base = format!("WHISK_TOKEN_{}", shell_name(&profile.name));
        let mut var = base.clone();
        let mut n = 2;
        while self.tokens.values().any(|v| *v == var) {
            var = format!("{base}_{n}");
            n += 1;
        }
        self.tokens.insert(key, var.clone());
        let fields = match (&config.refresh_token, config.grant) {
            (Some(refresh), _) => vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", refresh.clone()),
            ],
            (None, Grant::ClientCredentials) => {
                vec![("grant_type", "client_credentials".to_string())]
            }
            (None, _) => {
                self.comment(&format!(
                    "auth profile `{}`: a person signs in once with `whisk auth login`; set {var} to the access token it stored",
                    profile.name
                ));
                return vec![format!("-H \"Authorization: Bearer ${var}\"")];
            }
        };
        let form = token_form(config, fields);
        let references = self.references();
        let mut note = format!(
            "auth profile `{}`: token request ({} grant)",
            profile.name, form.grant
        );
        if let Some(key) = &config.store {
            note.push_str(&format!(
                "; with `store: {key}` a run first uses a fresh token from the token store"
            ));
        }
        self.comment(&note);
        let mut lines = vec![format!(
            "{var}=$(curl -sS -X POST {}",
            word(config.token_url.as_str(), &references)
        )];
        lines.push("-H 'Accept: application/json'".into());
        if let Some((id, secret)) = &form.basic {
            // whisk form-encodes both halves of a Basic client credential (RFC 6749 §2.3.1):
            // literal text already is; values known only to the shell are encoded there.
            let encoded: Vec<Reference> = references
                .iter()
                .map(|r| Reference {
                    sentinel: r.sentinel.clone(),
                    shell: format!("$(form_encode \"{}\")", r.shell),
                })
                .collect();
            lines.push(format!("-u {}", word(&format!("{id}:{secret}"), &encoded)));
            self.form_encode = true;
        }
        for (name, value) in &form.form {
            lines.push(format!(
                "--data-urlencode {}",
                word(&format!("{name}={value}"), &references)
            ));
        }
        if let Some(last) = lines.last_mut() {
            last.push_str(" | jq -er .access_token)");
        }
        self.emit(&command(&lines));
        vec![format!("-H \"Authorization: Bearer ${var}\"")]
    }

    fn references(&self) -> Vec<Reference> {
        let mut references: Vec<Reference> = self
            .secrets
            .iter()
            .map(|r| Reference {
                sentinel: r.sentinel.clone(),
                shell: r.shell.clone(),
            })
            .collect();
        references.extend(
            self.unknowns
                .all()
                .into_iter()
                .map(|(sentinel, entry)| Reference {
                    sentinel,
                    shell: format!("${}", entry.var),
                }),
        );
        references
    }

    fn comment(&mut self, text: &str) {
        self.body.push_str(&format!("\n# {text}\n"));
    }

    fn emit(&mut self, text: &str) {
        self.body.push_str(text);
        self.body.push('\n');
    }

    fn cannot(&mut self, step: &StepPlan, message: &str) {
        self.cannot_render(&format!("step `{}`, {message}", step.id));
    }

    fn cannot_render(&mut self, message: &str) {
        let shown = self.shown(message);
        self.comment(&format!("cannot render: {shown}"));
        self.warnings.push(shown);
    }

    /// `message` with stand-ins shown as the variables they stand for.
    fn shown(&self, message: &str) -> String {
        let mut text = message.to_string();
        for reference in self.references() {
            text = text.replace(&reference.sentinel, &reference.shell);
        }
        text
    }
}

fn preview(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}
