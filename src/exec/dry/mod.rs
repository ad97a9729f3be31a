//! `whisk run --dry-run`: the requests a run would send, token requests included, as `curl`
//! commands, in order. Nothing is sent and no secret is read: secrets appear as references to
//! the environment variables (or files) they come from, tokens as variables filled by the token
//! request's command. Loops over inputs are expanded; a loop over values only a run can know
//! (captures) is shown once, its item a shell variable.

pub(crate) mod shell;
mod unknown;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use minijinja::Value;

use super::auth::{AuthContext, Config, Resolver, Sign, own_grant, token_form};
use super::context::Scope;
use super::request::{self, describe};
use super::walk::{Next, UsesFailed, Visitor, Walker, WhenUnknown, item_scope, produced};
use crate::plan::bind::{self, Bound, Env, secret_placeholder};
use crate::plan::flow::{PageKind, Repeat, Wait};
use crate::plan::{
    AuthKind, AuthPlan, Plan, RecipePlan, RequestPlan, SecretPlan, StepPlan, UsesPlan,
};
use crate::redact::Redactor;
use shell::{Reference, command, word};
use unknown::{Unknowns, shell_name};

/// The script of a dry run, and what could not be shown.
pub struct DryRun {
    pub script: String,
    pub warnings: Vec<String>,
}

/// Renders every request of `plan` with `bound` values (secrets bound to their placeholders).
/// Where a JWT assertion goes in a dry run's token request (a shell variable there).
const ASSERTION: &str = "\u{1}whisk-assertion\u{1}";

pub async fn dry_run(plan: &Plan, bound: &Bound, env: &Env, recipe_path: &str) -> DryRun {
    let dry = Dry {
        plan,
        bound,
        env,
        unknowns: Arc::new(Unknowns::default()),
        secrets: secret_references(plan),
        script: Mutex::new(Script::default()),
    };
    Walker::new(&dry).recipe(&plan.root, &bound.inputs).await;
    let references: Vec<String> = dry.secrets.iter().map(|r| r.shell.clone()).collect();
    let Script {
        form_encode,
        body,
        warnings,
        ..
    } = dry.script.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut script = String::from("#!/bin/sh\n");
    script.push_str(&format!(
        "# whisk dry run of recipe `{}` ({recipe_path}): the requests a run would send, in order.\n# Nothing was sent.\n",
        plan.root.name
    ));
    if !references.is_empty() {
        script.push_str(&format!(
            "# Secrets are read where whisk reads them: {}.\n",
            references.join(", ")
        ));
    }
    if body.contains("| jq -er .access_token)") {
        script.push_str("# Token answers are read with jq.\n");
    }
    script.push_str("set -eu\n");
    if form_encode {
        script.push_str("form_encode() { printf %s \"$1\" | jq -sRr @uri; }\n");
    }
    // minijinja's `urlencode`: letters, digits and `-._/` kept, every other byte as `%XX`
    // (jq's `@uri` keeps more, so ASCII is encoded by hand).
    if body.contains("$(whisk_urlencode ") {
        script.push_str(concat!(
            "whisk_urlencode() { printf %s \"$1\" | jq -sRr 'def h: \"0123456789ABCDEF\"[.:.+1];",
            " explode | map(if (. >= 48 and . <= 57) or (. >= 65 and . <= 90) or (. >= 97 and . <= 122)",
            " or . == 45 or . == 46 or . == 47 or . == 95 then [.] | implode",
            " elif . < 128 then \"%\" + ((./16|floor)|h) + ((.%16)|h) else [.] | implode | @uri end)",
            " | join(\"\")'; }\n"
        ));
    }
    // A URL holding values known only to the shell, percent-encoded as whisk's URL parser
    // (the URL standard) does: the path set before the first `?` (where `\` is `/`, as in
    // http and https URLs), the special-query set after it; a fragment is never sent.
    if body.contains("$(whisk_url ") {
        script.push_str(concat!(
            r#"whisk_url() { printf %s "$1" | jq -sRr 'def h: "0123456789ABCDEF"[.:.+1]; def enc($set): map(if . > 127 then [.] | implode | @uri elif . < 33 or . > 126 or (. as $c | $set | any(. == $c)) then "%" + ((./16|floor)|h) + ((.%16)|h) else [.] | implode end) | join(""); explode as $a | ([$a | to_entries[] | select(.value == 35) | .key] | first // ($a | length)) as $f | $a[:$f] as $u | ([$u | to_entries[] | select(.value == 63) | .key] | first) as $q | def path: map(if . == 92 then 47 else . end) | enc([34,60,62,96,123,125]); if $q == null then $u | path else ($u[:$q] | path) + "?" + ($u[$q+1:] | enc([34,60,62,39])) end'; }"#,
            "\n"
        ));
    }
    // The content of a JSON string, escaped as serde_json escapes it.
    if body.contains("$(whisk_json ") {
        script.push_str("whisk_json() { printf %s \"$1\" | jq -sR . | sed 's/^\"//; s/\"$//'; }\n");
    }
    script.push_str(&body);
    let shown: Vec<_> = dry
        .unknowns
        .all()
        .into_iter()
        .filter(|(_, entry)| body.contains(&format!("\"${}\"", entry.var)))
        .collect();
    if !shown.is_empty() {
        script.push_str("\n# Known only when the run gets there, shown as variables:\n");
        for (_, entry) in shown {
            script.push_str(&format!("#   ${}: {}\n", entry.var, entry.what));
        }
    }
    DryRun { script, warnings }
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

/// A dry run: the visitor that prints each request as `curl` instead of sending it, and puts
/// stand-ins for what only a run can know into scope.
struct Dry<'a> {
    plan: &'a Plan,
    bound: &'a Bound,
    env: &'a Env,
    unknowns: Arc<Unknowns>,
    secrets: Vec<Reference>,
    script: Mutex<Script>,
}

/// What the dry run has written so far.
#[derive(Default)]
struct Script {
    /// Token variables by profile settings, for profiles whose token request was shown.
    tokens: HashMap<String, String>,
    /// Whether the script uses its `form_encode` function.
    form_encode: bool,
    body: String,
    warnings: Vec<String>,
}

impl Visitor for Dry<'_> {
    type Recipe = ();
    type Steps = ();
    type Step = ();
    type Body = ();

    fn plan(&self) -> &Plan {
        self.plan
    }

    fn bound(&self) -> &Bound {
        self.bound
    }

    fn env(&self) -> &Env {
        self.env
    }

    fn recipe_done(&self, recipe: &RecipePlan, _: Scope, _: ()) {
        for (name, _) in &recipe.outputs {
            let _ = self.unknowns.value(
                name,
                &format!("output `{name}` of recipe `{}`", recipe.name),
            );
        }
    }

    fn before(&self, _: &mut (), _: &StepPlan, _: &mut Scope, _: bool) -> Next<()> {
        Next::Run
    }

    fn after(&self, _: &mut (), _: &StepPlan, _: (), _: bool) -> bool {
        true
    }

    fn skipped(&self, step: &StepPlan) {
        self.comment(&format!("{}: skipped (`when` is false)", title(step)));
    }

    fn when_unknown(&self, step: &StepPlan, _: &minijinja::Error, _: Instant) -> WhenUnknown<()> {
        self.comment(&format!(
            "{}: runs only if its `when` holds, which is known only during the run",
            title(step)
        ));
        WhenUnknown::Walk
    }

    fn started(&self, step: &StepPlan) {
        self.comment(&title(step));
    }

    fn ran(&self, step: &StepPlan, scope: &mut Scope, _: (), _: Instant) {
        self.unknown_results(step, scope);
    }

    async fn each(
        &self,
        walker: Walker<'_, Self>,
        step: &StepPlan,
        list: Result<crate::exec::schedule::Items, String>,
        scope: &mut Scope,
        auth: &AuthContext,
        _: bool,
        _: Instant,
    ) {
        {
            let Some(each) = &step.each else { return };
            let title = title(step);
            let var: Arc<str> = Arc::from(each.var.as_str());
            let loop_name: Arc<str> = Arc::from("loop");
            match list {
                Ok(items) => {
                    let items = items.into_vec();
                    let length = items.len();
                    if length == 0 {
                        self.comment(&format!("{title}: no items"));
                    }
                    for (index, item) in items.into_iter().enumerate() {
                        let value = crate::plan::template::to_value(&item);
                        let mut item_scope =
                            item_scope(scope, &var, &loop_name, value, index, length);
                        self.comment(&format!(
                            "{title}: item {} of {length} ({} = {})",
                            index + 1,
                            each.var,
                            crate::event::shorten(&item.to_string(), 60)
                        ));
                        walker.body(step, &mut item_scope, auth, true).await;
                    }
                }
                Err(_) => {
                    let what = format!("each item of the list of step `{}`", step.id);
                    let item = self.unknowns.value(&each.var, &what);
                    let mut item_scope = scope.with_local([
                        (var.clone(), item),
                        (
                            loop_name.clone(),
                            self.unknowns
                                .value("loop", &format!("`loop` of step `{}`", step.id)),
                        ),
                    ]);
                    self.comment(&format!(
                        "{title}: for each item of a list known only during the run; shown once, the item as ${}",
                        shell_name(&each.var)
                    ));
                    walker.body(step, &mut item_scope, auth, true).await;
                }
            }
            self.unknown_results(step, scope);
        }
    }

    async fn request(
        &self,
        step: &StepPlan,
        plan: &RequestPlan,
        scope: &mut Scope,
        auth: &AuthContext,
        _: bool,
    ) {
        self.request(step, plan, scope, &auth.ctx)
    }

    fn using(&self, _: &StepPlan, uses: &UsesPlan) {
        self.comment(&format!("recipe `{}`", uses.recipe.name));
    }

    fn uses_failed(&self, step: &StepPlan, uses: &UsesPlan, why: UsesFailed, scope: &mut Scope) {
        match why {
            // Nothing of the used recipe can be shown.
            UsesFailed::With(message) => self.cannot(step, &message),
            UsesFailed::Inputs(messages) => {
                self.cannot(
                    step,
                    &format!("inputs of `{}`: {}", uses.recipe.name, messages.join("; ")),
                );
                self.unknown_outputs(uses, scope);
            }
        }
    }

    fn used(&self, _: &StepPlan, uses: &UsesPlan, _: (), scope: &mut Scope, _: Instant) {
        self.unknown_outputs(uses, scope);
    }

    fn block(
        &self,
        _: &StepPlan,
        block: &[StepPlan],
        _: Scope,
        _: (),
        scope: &mut Scope,
        _: Instant,
    ) {
        for name in produced(block) {
            let value = self.unknowns.value(&name, &format!("capture `{name}`"));
            scope.set(&name, value);
        }
    }

    fn checked(&self, _: &StepPlan, _: &Scope, _: &mut (), _: bool) {}
}

/// How a step is named in comments.
fn title(step: &StepPlan) -> String {
    match &step.name {
        Some(name) => format!("step `{}`: {name}", step.id),
        None => format!("step `{}`", step.id),
    }
}

impl Dry<'_> {
    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A step's captures and `steps.<id>`, known only to a run.
    fn unknown_results(&self, step: &StepPlan, scope: &mut Scope) {
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

    fn unknown_outputs(&self, uses: &UsesPlan, scope: &mut Scope) {
        for (name, _) in &uses.recipe.outputs {
            let value = self.unknowns.value(
                name,
                &format!("output `{name}` of recipe `{}`", uses.recipe.name),
            );
            scope.set(name, value);
        }
    }

    fn request(&self, step: &StepPlan, plan: &RequestPlan, scope: &Scope, auth_ctx: &Value) {
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
            url_word(out.url.as_str(), &references)
        )];
        for (name, value) in &out.headers {
            // curl writes a multipart body's own type (its boundary) and length.
            if out.multipart.is_some()
                && (name == reqwest::header::CONTENT_TYPE
                    || name == reqwest::header::CONTENT_LENGTH)
            {
                continue;
            }
            let text = format!("{name}: {}", String::from_utf8_lossy(value.as_bytes()));
            lines.push(format!("-H {}", word(&text, &references)));
        }
        if let Some(multipart) = &out.multipart {
            for part in multipart.parts() {
                lines.push(form_option(part, &references));
            }
        }
        lines.extend(credential);
        if let Some(body) = &out.body {
            let text = String::from_utf8_lossy(body);
            let json = out
                .headers
                .get(reqwest::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            // Inside a JSON body a secret is a JSON string's content: escaped as whisk escapes it.
            let in_json: Vec<Reference>;
            let references = if json {
                in_json = self.json_references(&references);
                &in_json
            } else {
                &references
            };
            lines.push(format!("--data-binary {}", word(&text, references)));
        }
        if plan.redirects.follow {
            lines.push(if plan.redirects.forward_auth_to.is_empty() {
                "-L".to_string()
            } else {
                // whisk forwards the credential only to the hosts listed; curl to any host.
                "--location-trusted".to_string()
            });
        }
        let profile_cert = plan
            .auth
            .as_ref()
            .filter(|p| p.client_cert.is_some())
            .map(|p| format!("auth profile `{}`'s `client_cert`", p.name));
        let recipe_cert = self
            .plan
            .recipes
            .iter()
            .any(|r| r.client_cert.is_some())
            .then(|| "`defaults.client_cert`".to_string());
        if let Some(cert) = profile_cert.or(recipe_cert) {
            self.comment(&format!(
                "presents the TLS client certificate of {cert}: give curl `--cert CERT.pem --key KEY.pem`"
            ));
        }
        match &step.repeat {
            Some(Repeat::Until(until)) => self.comment(&format!(
                "sent again every {} until `{}`, for at most {}",
                describe_wait(until.wait),
                until.that_text,
                crate::recipe::Duration(until.timeout)
            )),
            Some(Repeat::Pages(pages)) => self.comment(&format!(
                "then {}, at most {} pages",
                match &pages.kind {
                    PageKind::Link(rel) => format!("follows the `Link` header's rel=\"{rel}\""),
                    PageKind::NextUrl(_, text) => format!("follows the URL at `{text}`"),
                    PageKind::Offset { param, .. } =>
                        format!("raises `{param}` by each page's items"),
                    PageKind::Cursor { param, .. } =>
                        format!("sends each page's cursor as `{param}`"),
                },
                pages.max_pages
            )),
            None => {}
        }
        let command = command(&lines);
        // A value derived from a secret other than by `urlencode` (`upper`, a slice, a hash):
        // the script cannot compute it, and sending it masked would be another request.
        if self.plan.redactor.masker().masked(&command).is_some() {
            let message = format!(
                "step `{}` sends a value computed from a secret (a filter other than `urlencode`, or a slice) that this script cannot compute",
                step.id
            );
            self.comment(&format!("cannot reproduce: {message}"));
            self.emit(&format!(
                "echo {} >&2; exit 1",
                shell::literal(&format!("whisk dry run: {message}"))
            ));
            self.script().warnings.push(message);
            return;
        }
        self.emit(&command);
    }

    /// The curl options carrying a profile's credential; the first use of an OAuth2 profile
    /// prints its token request.
    fn credential(&self, profile: &AuthPlan, auth_ctx: &Value) -> Option<Vec<String>> {
        let resolver = Resolver {
            templates: &self.plan.templates,
            ctx: auth_ctx,
            cache: None,
            identity: None,
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
    fn token(&self, profile: &AuthPlan, config: &Config) -> Vec<String> {
        let key = config.key();
        let var = {
            let mut script = self.script();
            if let Some(var) = script.tokens.get(&key) {
                return vec![format!("-H \"Authorization: Bearer ${var}\"")];
            }
            let base = format!("WHISK_TOKEN_{}", shell_name(&profile.name));
            let mut var = base.clone();
            let mut n = 2;
            while script.tokens.values().any(|v| *v == var) {
                var = format!("{base}_{n}");
                n += 1;
            }
            script.tokens.insert(key, var.clone());
            var
        };
        let fields = match (&config.refresh_token, config.grant) {
            (Some(refresh), _) => vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", refresh.clone()),
            ],
            (None, grant) if grant.self_issued() => {
                own_grant(config, Sign::Shown(ASSERTION)).unwrap_or_default()
            }
            (None, _) => {
                self.comment(&format!(
                    "auth profile `{}`: a person signs in once with `whisk auth login`; set {var} to the access token it stored",
                    profile.name
                ));
                return vec![format!("-H \"Authorization: Bearer ${var}\"")];
            }
        };
        let Ok(form) = token_form(config, fields, Sign::Shown(ASSERTION)) else {
            return vec![format!("-H \"Authorization: Bearer ${var}\"")];
        };
        let mut references = self.references();
        let jwt = config
            .client_assertion
            .as_ref()
            .or(config.assertion.as_ref());
        if let Some(jwt) = jwt {
            let assertion_var = format!("{var}_ASSERTION");
            self.comment(&format!(
                "auth profile `{}`: whisk signs a new JWT assertion ({}) for each token request (iss `{}`, sub `{}`, aud `{}`); set {assertion_var} to one",
                profile.name,
                jwt.alg_name(),
                jwt.issuer,
                jwt.subject,
                jwt.audience
            ));
            references.push(Reference {
                sentinel: ASSERTION.into(),
                shell: format!("${assertion_var}"),
            });
        }
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
            self.script().form_encode = true;
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
            .flat_map(|r| {
                // `urlencode` of a secret: the script encodes it as minijinja does.
                let encoded = Reference {
                    sentinel: format!("{}{}", crate::plan::filters::URLENCODED, r.sentinel),
                    shell: format!("$(whisk_urlencode \"{}\")", r.shell),
                };
                [
                    encoded,
                    Reference {
                        sentinel: r.sentinel.clone(),
                        shell: r.shell.clone(),
                    },
                ]
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

    /// `references` for text inside a JSON body: secrets JSON-escaped by the script.
    fn json_references(&self, references: &[Reference]) -> Vec<Reference> {
        references
            .iter()
            .map(|r| {
                let secret = self.secrets.iter().any(|s| s.sentinel == r.sentinel);
                Reference {
                    sentinel: r.sentinel.clone(),
                    shell: if secret {
                        format!("$(whisk_json \"{}\")", r.shell)
                    } else {
                        r.shell.clone()
                    },
                }
            })
            .collect()
    }

    fn comment(&self, text: &str) {
        self.script().body.push_str(&format!("\n# {text}\n"));
    }

    fn emit(&self, text: &str) {
        let mut script = self.script();
        script.body.push_str(text);
        script.body.push('\n');
    }

    fn cannot(&self, step: &StepPlan, message: &str) {
        self.cannot_render(&format!("step `{}`, {message}", step.id));
    }

    fn cannot_render(&self, message: &str) {
        let shown = self.shown(message);
        self.comment(&format!("cannot render: {shown}"));
        self.script().warnings.push(shown);
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

/// A request's URL as one shell word: with values known only to the shell inside it, passed
/// through `whisk_url` so that curl gets the URL whisk would send.
fn url_word(url: &str, references: &[Reference]) -> String {
    let plain = word(url, references);
    if references.iter().any(|r| url.contains(&r.sentinel)) {
        format!("\"$(whisk_url {plain})\"")
    } else {
        plain
    }
}

/// A poll's wait, for a comment: `2s`, or `1s doubling to 30s`.
fn describe_wait(wait: Wait) -> String {
    match wait {
        Wait::Fixed(wait) => crate::recipe::Duration(wait).to_string(),
        Wait::Backoff { initial, max } => format!(
            "{} doubling to {}",
            crate::recipe::Duration(initial),
            crate::recipe::Duration(max)
        ),
    }
}

/// A multipart part as curl's option: `--form-string` for text (which `-F` would read `@` and
/// `<` in), `-F name=@path;type=...;filename=...` for a file.
fn form_option(part: &crate::exec::multipart::Part, references: &[shell::Reference]) -> String {
    use crate::exec::multipart::Part;
    match part {
        Part::Text { name, value, .. } => {
            format!(
                "--form-string {}",
                word(&format!("{name}={value}"), references)
            )
        }
        Part::File {
            name,
            path,
            filename,
            content_type,
        } => {
            let path = path.display().to_string();
            let quoted = |text: &str| {
                if text.contains([';', ',', '"']) {
                    format!("\"{}\"", text.replace('"', "\\\""))
                } else {
                    text.to_owned()
                }
            };
            let spec = format!(
                "{name}=@{};type={content_type};filename={}",
                quoted(&path),
                quoted(filename)
            );
            format!("-F {}", word(&spec, references))
        }
    }
}
