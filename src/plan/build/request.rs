//! A step's request: method, URL, query, headers, at most one body, the auth profile, the
//! accepted statuses, and the settings layered from `defaults` (see `policy`).

use indexmap::IndexMap;

use super::policy::{Layered, layer};
use super::{At, Builder, Cx};
use crate::diagnostic::{PlanKind, did_you_mean};
use crate::plan::names::Scope;
use crate::plan::precheck::Rule;
use crate::plan::{BodyPlan, PartContent, PartPlan, RequestPlan, StatusSet, Tpl, ValueTpl};
use crate::recipe::{self, Step};
use crate::source::FieldPath;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Builder {
    pub(super) fn request(
        &mut self,
        cx: Cx<'_>,
        step: &Step,
        request: &recipe::Request,
        field: &FieldPath,
        scope: &Scope,
    ) -> Option<RequestPlan> {
        let at = cx.at;
        let rf = field.key("request");
        let method = self.method(at, &rf, request);
        let url = self.checked(at, &rf.key("url"), &request.url, scope, Rule::Url);
        let query = self.pairs(at, &rf.key("query"), &request.query, scope);
        let layered = layer(step, request, &cx.recipe.defaults, field);
        let headers = self.headers(at, &layered, scope);
        let body = self.body(at, &rf, request, scope)?;
        let auth = self.auth_of(cx, &layered);
        let expect = match &step.expect {
            Some(expect) => match StatusSet::parse(&expect.status) {
                Ok(set) => set,
                Err(message) => {
                    let f = field.key("expect").key("status");
                    self.problem(PlanKind::Status, at, &f, false, message, None);
                    StatusSet::default()
                }
            },
            None => StatusSet::default(),
        };
        if let Some(f) = &layered.zero_attempts {
            let message =
                "`retry.attempts` counts every try including the first: it must be at least 1";
            self.problem(PlanKind::Limit, at, f, false, message.into(), None);
        }
        let (hosts, hosts_field) = &layered.forward_hosts;
        let forward_auth_to = hosts
            .iter()
            .enumerate()
            .filter_map(|(i, host)| self.string(at, &hosts_field.index(i), host, scope))
            .collect();
        let mut redirects = layered.redirects;
        redirects.forward_auth_to = forward_auth_to;
        Some(RequestPlan {
            method: method?,
            url: url?,
            query,
            headers,
            body,
            auth,
            expect,
            retry: layered.retry,
            timeout: layered.timeout,
            connect_timeout: layered.connect_timeout,
            max_body: layered.max_body,
            rate_limit: layered.rate_limit,
            redirects,
            idempotent: step.idempotent,
        })
    }

    fn method(
        &mut self,
        at: At<'_>,
        rf: &FieldPath,
        request: &recipe::Request,
    ) -> Option<reqwest::Method> {
        let text = request
            .method
            .as_deref()
            .unwrap_or("GET")
            .to_ascii_uppercase();
        if METHODS.contains(&text.as_str()) {
            return reqwest::Method::from_bytes(text.as_bytes()).ok();
        }
        self.problem(
            PlanKind::Request,
            at,
            &rf.key("method"),
            false,
            format!("unknown method `{text}`"),
            Some(format!("use one of {}", METHODS.join(", "))),
        );
        None
    }

    /// The layered headers, compiled; names checked, values scalars.
    fn headers(&mut self, at: At<'_>, layered: &Layered<'_>, scope: &Scope) -> Vec<(String, Tpl)> {
        let mut headers = Vec::new();
        for (name, value, f) in &layered.headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                let message = format!("`{name}` is not a valid header name");
                self.problem(PlanKind::Request, at, f, true, message, None);
                continue;
            }
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => value.to_string(),
                _ => {
                    let message = format!("header `{name}` must be a string, number or boolean");
                    self.problem(PlanKind::Request, at, f, false, message, None);
                    continue;
                }
            };
            if let Some(tpl) = self.string(at, f, &text, scope) {
                headers.push((name.to_string(), tpl));
            }
        }
        headers
    }

    /// At most one of `json`, `form` and `body`; `None` when the one given does not compile.
    fn body(
        &mut self,
        at: At<'_>,
        rf: &FieldPath,
        request: &recipe::Request,
        scope: &Scope,
    ) -> Option<BodyPlan> {
        let bodies = [
            request.json.is_some(),
            request.form.is_some(),
            request.body.is_some(),
            request.multipart.is_some(),
        ];
        Some(if bodies.iter().filter(|b| **b).count() > 1 {
            let message = "a request has at most one of `json`, `form`, `body` and `multipart`";
            self.problem(PlanKind::Request, at, rf, false, message.into(), None);
            BodyPlan::None
        } else if let Some(parts) = &request.multipart {
            self.multipart(at, &rf.key("multipart"), parts, scope)?
        } else if let Some(json) = &request.json {
            BodyPlan::Json(self.value(at, &rf.key("json"), json, scope)?)
        } else if let Some(form) = &request.form {
            BodyPlan::Form(self.pairs(at, &rf.key("form"), form, scope))
        } else if let Some(text) = &request.body {
            BodyPlan::Text(self.string(at, &rf.key("body"), text, scope)?)
        } else {
            BodyPlan::None
        })
    }

    /// A multipart body: each part a `value` or a `file` (one that exists, when its path is
    /// written out).
    fn multipart(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        parts: &[recipe::FormPart],
        scope: &Scope,
    ) -> Option<BodyPlan> {
        let dir = at
            .source
            .path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let mut plans = Vec::new();
        let mut ok = true;
        for (i, part) in parts.iter().enumerate() {
            let f = field.index(i);
            if part.name.is_empty() {
                let message = "a part needs a `name`".to_string();
                self.problem(PlanKind::Request, at, &f.key("name"), false, message, None);
                ok = false;
            }
            let content = match (&part.value, &part.file) {
                (Some(value), None) => self
                    .value(at, &f.key("value"), value, scope)
                    .map(PartContent::Value),
                (None, Some(file)) => {
                    let tpl = self.string(at, &f.key("file"), file, scope);
                    if let Some(Tpl::Literal(serde_json::Value::String(path))) = &tpl
                        && !dir.join(path).is_file()
                    {
                        let message = format!(
                            "file `{path}` does not exist (paths are relative to the recipe's folder, `{}`)",
                            dir.display()
                        );
                        self.problem(PlanKind::Request, at, &f.key("file"), false, message, None);
                    }
                    tpl.map(PartContent::File)
                }
                _ => {
                    let message = "a part has exactly one of `value` and `file`".to_string();
                    self.problem(PlanKind::Request, at, &f, false, message, None);
                    None
                }
            };
            let filename = match &part.filename {
                Some(name) if part.file.is_none() => {
                    let message = "`filename` applies to a `file` part".to_string();
                    self.problem(
                        PlanKind::Request,
                        at,
                        &f.key("filename"),
                        true,
                        message,
                        None,
                    );
                    None
                }
                Some(name) => self.string(at, &f.key("filename"), name, scope),
                None => None,
            };
            match content {
                Some(content) => plans.push(PartPlan {
                    name: part.name.clone(),
                    content,
                    filename,
                    content_type: part.content_type.clone(),
                }),
                None => ok = false,
            }
        }
        ok.then_some(BodyPlan::Multipart(plans, dir))
    }

    /// The auth profile the layered settings name (`none`: no auth), which must exist.
    fn auth_of(
        &mut self,
        cx: Cx<'_>,
        layered: &Layered<'_>,
    ) -> Option<std::sync::Arc<crate::plan::AuthPlan>> {
        let (name, field) = layered.auth.as_ref()?;
        if *name == "none" {
            return None;
        }
        if let Some(plan) = cx.auth.get(*name) {
            return Some(plan.clone());
        }
        let declared = &cx.recipe.auth;
        let help = if declared.contains_key(*name) {
            "the profile itself has errors, listed above".to_string()
        } else {
            did_you_mean(name, declared.keys().map(String::as_str))
                .unwrap_or_else(|| "declare it under `auth:`, or write `none`".to_string())
        };
        let message = format!("unknown auth profile `{name}`");
        self.problem(PlanKind::Auth, cx.at, field, false, message, Some(help));
        None
    }

    /// Query or form pairs: each a scalar or a list of scalars.
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
                let message = format!("`{name}` must be a scalar or a list of scalars");
                self.problem(PlanKind::Request, at, &f, false, message, None);
                continue;
            }
            if let Some(tpl) = self.value(at, &f, value, scope) {
                pairs.push((name.clone(), tpl));
            }
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::diagnostic::PlanKind;
    use crate::plan::{Body, BodyPlan};

    #[test]
    fn requests_have_a_known_method_valid_headers_and_one_body() {
        let found = problems(&recipe(
            "auth:\n  api: { bearer: t }\nsteps:\n  - id: a\n    request: { method: FETCH, url: 'https://x/', headers: { 'bad header': v, X: [1] }, json: {}, body: b, query: { q: { a: 1 } } }\n    auth: apj\n    expect: { status: 999 }\n",
        ));
        assert!(
            has(&found, PlanKind::Request, "steps[0].request.method"),
            "{found:?}"
        );
        assert!(
            has(
                &found,
                PlanKind::Request,
                "steps[0].request.headers.bad header"
            ),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Request, "steps[0].request.headers.X"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Request, "steps[0].request"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Request, "steps[0].request.query.q"),
            "{found:?}"
        );
        assert!(has(&found, PlanKind::Auth, "steps[0].auth"), "{found:?}");
        assert!(
            has(&found, PlanKind::Status, "steps[0].expect.status"),
            "{found:?}"
        );
    }

    #[test]
    fn a_request_takes_its_defaults() {
        let plan = plan(&recipe(
            "auth:\n  api: { bearer: t }\ndefaults:\n  auth: api\n  headers: { Accept: application/json }\nsteps:\n  - id: a\n    request: { method: post, url: 'https://x/', form: { a: 1, b: [2, 3] } }\n",
        ));
        let Body::Request(request) = &plan.root.steps[0].body else {
            panic!("a request")
        };
        assert_eq!(request.method, reqwest::Method::POST);
        assert_eq!(request.auth.as_ref().map(|a| a.name.as_str()), Some("api"));
        assert_eq!(request.headers.len(), 1);
        assert!(matches!(&request.body, BodyPlan::Form(pairs) if pairs.len() == 2));
    }
}
