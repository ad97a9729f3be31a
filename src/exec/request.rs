//! One request of a step: rendered from its templates, sent with its credential, retried per
//! the policy, and resent once with a refreshed token when the answer asks for it.

use std::time::{Instant, SystemTime};

use minijinja::Value;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use super::auth::{AuthContext, AuthError};
use super::decision::{Decision, Failure, Outcome, Policy, Progress, decide};
use super::http::{self, Incoming, Outgoing, SendError};
use super::retry;
use super::run::Runner;
use crate::event::{Event, Headers, preview};
use crate::plan::{AuthKind, BodyPlan, RequestPlan};
use crate::result::{Attempt, ErrorInfo, ErrorKind, Exchange};
use crate::source::FieldPath;

/// The outcome of an attempt abandoned in flight that is not safe to send twice.
pub const UNKNOWN_OUTCOME: &str = "unknown";

/// Where a request goes: the URL its template renders to, a later page's URL (a `Link` or a
/// URL from the body), or the rendered URL with some query parameters set (offset, cursor).
#[derive(Clone, Debug)]
pub enum Target {
    Rendered,
    Url(reqwest::Url),
    Params(Vec<(String, String)>),
}

/// Whose request it is: a step's, and in a loop one item's (named in retry and failure lines).
pub struct Who<'a> {
    pub step: &'a str,
    pub scope: &'a crate::exec::context::Scope,
}

/// Renders and sends the request of step `who.step`: before every try it takes the
/// profile's current credential, and after every try `decision::decide` says what comes next.
pub async fn perform(
    runner: &Runner<'_>,
    who: &Who<'_>,
    plan: &RequestPlan,
    ctx: &Value,
    auth_ctx: &AuthContext,
    target: &Target,
) -> (Option<Exchange>, Result<Incoming, ErrorInfo>) {
    let step_id = who.step;
    let mut out = match render(runner.plan, step_id, plan, ctx) {
        Ok(out) => out,
        Err(error) => return (None, Err(error)),
    };
    // A later page on another host gets the credential only where a redirect would.
    let mut other_host = None;
    match target {
        Target::Rendered => {}
        Target::Url(url) => {
            if http::authority(url) != http::authority(&out.url) {
                other_host = Some(url.clone());
            }
            out.url = url.clone();
        }
        Target::Params(params) => out.url = with_params(&out.url, params),
    }
    let mut exchange = Exchange {
        method: method_name(&plan.method),
        url: out.url.to_string(),
        status: None,
        // Most requests take one attempt; a fan-out keeps thousands of these.
        attempts: Vec::with_capacity(1),
    };
    let resolver = auth_ctx.resolver(&runner.plan.templates);
    let mut redirects = http::Redirects {
        follow: plan.redirects.follow,
        forward_auth_to: Vec::new(),
        allow_insecure: plan.redirects.allow_insecure,
    };
    for host in &plan.redirects.forward_auth_to {
        match runner.plan.templates.text(host, ctx) {
            Ok(host) => redirects.forward_auth_to.push(host),
            Err(e) => {
                return (
                    Some(exchange),
                    Err(template_error(
                        step_id,
                        FieldPath::root().key("redirects").key("forward_auth_to"),
                        &e,
                    )),
                );
            }
        }
    }
    let send_auth = other_host
        .as_ref()
        .is_none_or(|url| http::forwarded(url, &redirects.forward_auth_to));
    let policy_of_send = http::SendPolicy {
        redirects,
        connect_timeout: plan.connect_timeout,
        timeout: plan.timeout,
        max_body: plan
            .max_body
            .map(|b| b as usize)
            .unwrap_or(runner.options.max_body),
    };
    let crate::event::Interest {
        exchanges, detail, ..
    } = runner.events.interest;
    // Headers for the exchange events, when a sink shows them.
    let shown = |map: &HeaderMap, extra: Option<&(HeaderName, HeaderValue)>| {
        if detail {
            Headers::of(map, extra)
        } else {
            Headers::default()
        }
    };
    let oauth2 = plan
        .auth
        .as_ref()
        .filter(|p| matches!(p.kind, AuthKind::OAuth2(_)));
    let policy = Policy {
        retry: &plan.retry,
        resend_after_error: retry::may_resend_after_error(&plan.method, plan.idempotent),
    };
    let mut progress = Progress::first();
    loop {
        if runner.options.stop.stopping() {
            let error = ErrorInfo::new(
                ErrorKind::Interrupted,
                format!(
                    "step `{step_id}`: interrupted before {} {} was sent",
                    exchange.method, exchange.url
                ),
            );
            return (Some(exchange), Err(error));
        }
        // The newest credential for every try: another iteration may have refreshed it, and a
        // token that runs out during a wait is refreshed before it is sent.
        let mut credential = None;
        // The recipe's client certificate, unless the profile has its own.
        out.identity = match &auth_ctx.identity {
            Ok(identity) => identity.clone(),
            Err(message) => {
                let error = crate::exec::auth::AuthError::new(message.clone());
                return (Some(exchange), Err(auth_error(step_id, error)));
            }
        };
        if let Some(profile) = plan.auth.as_ref().filter(|_| send_auth) {
            match runner
                .auth
                .credential(profile, &resolver, runner.events.sink)
                .await
            {
                Ok(found) => {
                    out.auth = Some(found.header.clone());
                    out.identity = found.identity.clone();
                    credential = Some(found);
                }
                Err(error) => return (Some(exchange), Err(auth_error(step_id, error))),
            }
        }
        if let Some(rate) = plan.rate_limit
            && !runner.client.replaying()
        {
            let host = out.url.host_str().unwrap_or_default();
            // A stop ends the wait: the request is not sent (below).
            tokio::select! {
                () = runner.limits.rates.wait(host, rate) => {}
                () = runner.options.stop.soft_stopped() => {}
            }
            if runner.options.stop.stopping() {
                let error = ErrorInfo::new(
                    ErrorKind::Interrupted,
                    format!(
                        "step `{step_id}`: interrupted while waiting for `rate_limit` before {} {}",
                        exchange.method, exchange.url
                    ),
                );
                return (Some(exchange), Err(error));
            }
        }
        let pass = runner.limits.gate.enter().await;
        if exchanges {
            runner.events.sink.emit(&Event::RequestSent {
                step: step_id.to_string(),
                method: exchange.method.to_string(),
                url: exchange.url.clone(),
                attempt: progress.attempt,
                headers: shown(&out.headers, out.auth.as_ref()),
                body_preview: if detail {
                    out.body
                        .as_deref()
                        .map(|body| preview(body, &runner.plan.redactor.masker()))
                } else {
                    None
                },
            });
        }
        let started = Instant::now();
        let (result, hops) = tokio::select! {
            sent = http::send(&runner.client, &out, &policy_of_send) => sent,
            _ = runner.options.stop.hard_stopped() => {
                // Whether the server acted on a request abandoned in flight is unknown: one
                // that is not safe to send twice is marked so, and `--resume` does not resend it.
                let unknown = !policy.resend_after_error;
                exchange.attempts.push(Attempt {
                    status: None,
                    duration_ms: started.elapsed().as_millis() as u64,
                    redirects: Vec::new(),
                    outcome: unknown.then(|| UNKNOWN_OUTCOME.to_string()),
                    wait_ms: None,
                    error: Some("abandoned in flight".into()),
                });
                let error = ErrorInfo::new(
                    ErrorKind::Interrupted,
                    format!(
                        "step `{step_id}`: {} {} was abandoned when the run was interrupted{}",
                        exchange.method,
                        exchange.url,
                        if unknown { "; whether the server acted on it is unknown" } else { "" }
                    ),
                );
                return (Some(exchange), Err(error));
            }
        };
        drop(pass);
        if exchanges {
            let mut from = exchange.url.as_str();
            for hop in &hops {
                runner.events.sink.emit(&Event::Redirected {
                    step: step_id.to_string(),
                    method: exchange.method.to_string(),
                    url: from.to_owned(),
                    status: hop.status,
                    location: hop.location.clone(),
                    auth_forwarded: hop.auth_forwarded,
                });
                from = &hop.location;
            }
        }
        let mut tried = Attempt {
            status: None,
            duration_ms: started.elapsed().as_millis() as u64,
            redirects: hops,
            outcome: None,
            wait_ms: None,
            error: None,
        };
        // The answer, or why there is none, and whether the profile's `refresh_on` matches.
        let (answer, refused) = match result {
            Ok(response) => {
                tried.status = Some(response.status);
                exchange.status = Some(response.status);
                if exchanges {
                    runner.events.sink.emit(&Event::ResponseReceived {
                        step: step_id.to_string(),
                        method: exchange.method.to_string(),
                        url: exchange.url.clone(),
                        attempt: progress.attempt,
                        status: response.status,
                        duration_ms: tried.duration_ms,
                        headers: shown(&response.headers, None),
                        body_preview: if detail {
                            preview(&response.body, &runner.plan.redactor.masker())
                        } else {
                            String::new()
                        },
                        body_bytes: response.body.len(),
                    });
                }
                let refused = credential.is_some()
                    && oauth2.is_some_and(|p| {
                        p.refresh_on
                            .iter()
                            .any(|c| c.matches(response.status, &response.body))
                    });
                (Ok(response), refused)
            }
            Err(error) => {
                let (kind, message) = match error {
                    SendError::Timeout(m) => (Failure::Timeout, m),
                    SendError::Network(m) => (Failure::Network, m),
                    SendError::Redirect(m) => (Failure::Redirect, m),
                    SendError::Body(m) => (Failure::Body, m),
                    SendError::Missing(m) => (Failure::Missing, m),
                };
                tried.error = Some(message.clone());
                runner.events.sink.emit(&Event::RequestFailed {
                    step: step_id.to_string(),
                    item: who.scope.item_label(),
                    method: exchange.method.to_string(),
                    url: exchange.url.clone(),
                    attempt: progress.attempt,
                    error: message.clone(),
                });
                (Err((kind, message)), false)
            }
        };
        let outcome = match &answer {
            Ok(response) => Outcome::Answer {
                status: response.status,
                refused,
                lapsed: credential
                    .as_ref()
                    .and_then(|c| c.stale_at)
                    .is_some_and(|stale| Instant::now() >= stale),
                retry_after: response
                    .headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
            },
            Err((kind, _)) => Outcome::Failed(*kind),
        };
        let decision = decide(
            outcome,
            progress,
            policy,
            SystemTime::now(),
            fastrand::f64(),
        );
        match (decision, answer) {
            (Decision::Refresh, _) => {
                tried.outcome = Some("token_refresh".into());
                exchange.attempts.push(tried);
                // `refused` implies both; without them, a second refusal fails.
                let mut granted = true;
                if let (Some(profile), Some(seen)) = (oauth2, &credential) {
                    match runner
                        .auth
                        .refresh(profile, &resolver, seen, runner.events.sink)
                        .await
                    {
                        Ok(refreshed) => granted = refreshed.granted,
                        Err(error) => return (Some(exchange), Err(auth_error(step_id, error))),
                    }
                }
                progress = progress.refreshed(granted);
            }
            (Decision::Retry { wait }, answer) => {
                let reason = match answer {
                    Ok(response) => format!("status {}", response.status),
                    Err((_, message)) => message,
                };
                pause(runner, who, &mut exchange, tried, wait, reason).await;
                progress = progress.next();
            }
            (Decision::RefusedAgain, Ok(response)) => {
                exchange.attempts.push(tried);
                let code = provider_code(&response.headers, &response.body);
                let message = format!(
                    "{} {} was refused again after refreshing the token: {} {}",
                    exchange.method,
                    exchange.url,
                    response.status,
                    code.map(|c| format!("`{c}`"))
                        .unwrap_or_else(|| "(no error code)".into())
                );
                return (
                    Some(exchange),
                    Err(
                        ErrorInfo::new(ErrorKind::Auth, format!("step `{step_id}`: {message}"))
                            .in_field(FieldPath::root().key("auth")),
                    ),
                );
            }
            // Done, or given up: the answer stands, or the failure is the step's.
            (_, Ok(response)) => {
                exchange.attempts.push(tried);
                return (Some(exchange), Ok(response));
            }
            (_, Err((kind, message))) => {
                exchange.attempts.push(tried);
                let kind = match kind {
                    Failure::Timeout => ErrorKind::Timeout,
                    Failure::Network => ErrorKind::Network,
                    Failure::Redirect => ErrorKind::Redirect,
                    Failure::Body => ErrorKind::Body,
                    Failure::Missing => ErrorKind::Cassette,
                };
                return (
                    Some(exchange),
                    Err(ErrorInfo::new(kind, format!("step `{step_id}`: {message}"))
                        .in_field(request_field("url"))),
                );
            }
        }
    }
}

/// The name of `method`, borrowed for the standard ones.
fn method_name(method: &reqwest::Method) -> std::borrow::Cow<'static, str> {
    use reqwest::Method;
    let name = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => return method.as_str().to_string().into(),
    };
    name.into()
}

/// Records `attempt` as retried and waits `wait` before the next one (less if the run is
/// interrupted meanwhile).
async fn pause(
    runner: &Runner<'_>,
    who: &Who<'_>,
    exchange: &mut Exchange,
    mut attempt: Attempt,
    wait: std::time::Duration,
    reason: String,
) {
    attempt.outcome = Some("retry".into());
    attempt.wait_ms = Some(wait.as_millis() as u64);
    exchange.attempts.push(attempt);
    runner.events.sink.emit(&Event::Retry {
        step: who.step.to_string(),
        item: who.scope.item_label(),
        attempt: exchange.attempts.len() as u32,
        wait_ms: wait.as_millis() as u64,
        reason,
    });
    if runner.client.replaying() {
        // A replay answers from the cassette: waiting would change nothing.
        return;
    }
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = runner.options.stop.soft_stopped() => {}
    }
}

fn auth_error(step_id: &str, error: AuthError) -> ErrorInfo {
    ErrorInfo::new(
        ErrorKind::Auth,
        format!("step `{step_id}`: {}", error.message),
    )
}

fn template_error(step_id: &str, field: FieldPath, error: &minijinja::Error) -> ErrorInfo {
    ErrorInfo::new(
        ErrorKind::Template,
        format!("step `{step_id}`, field `{field}`: {}", describe(error)),
    )
    .in_field(field)
}

/// A field of a step's request: `request.<key>`.
fn request_field(key: &str) -> FieldPath {
    FieldPath::root().key("request").key(key)
}

/// A template error in one line, with the missing name when there is one.
pub fn describe(error: &minijinja::Error) -> String {
    let detail = error
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| error.kind().to_string());
    match error.kind() {
        minijinja::ErrorKind::UndefinedError => format!("undefined value: {detail}"),
        minijinja::ErrorKind::OutOfFuel => format!(
            "the template ran more than {} million instructions and was stopped (a runaway loop?); templates build values, `for_each` is for long lists",
            crate::plan::TEMPLATE_FUEL / 1_000_000
        ),
        _ => detail,
    }
}

/// The request of step `step_id`, rendered (without its credential).
/// `url` with each of `params` set: replacing the parameter where the URL has it, added where
/// it does not.
pub fn with_params(url: &reqwest::Url, params: &[(String, String)]) -> reqwest::Url {
    let mut url = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !params.iter().any(|(p, _)| p == name))
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    if !kept.is_empty() || !params.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(kept)
            .extend_pairs(params);
    }
    url
}

pub fn render(
    whole: &crate::plan::Plan,
    step_id: &str,
    plan: &RequestPlan,
    ctx: &Value,
) -> Result<Outgoing, ErrorInfo> {
    let templates = &whole.templates;
    let url_text = templates
        .text(&plan.url, ctx)
        .map_err(|e| template_error(step_id, request_field("url"), &e))?;
    let mut url = super::url_cache::parse(&url_text).map_err(|e| {
        ErrorInfo::new(
            ErrorKind::Template,
            format!("step `{step_id}`, field `request.url`: `{url_text}` is not a valid URL: {e}"),
        )
        .in_field(request_field("url"))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ErrorInfo::new(
            ErrorKind::Template,
            format!(
                "step `{step_id}`, field `request.url`: scheme `{}` is not supported",
                url.scheme()
            ),
        ));
    }
    if !plan.query.is_empty() {
        let mut pairs = Vec::new();
        for (name, tpl) in &plan.query {
            let value = templates
                .value(tpl, ctx)
                .map_err(|e| template_error(step_id, request_field("query").key(name), &e))?;
            for item in scalars(&value) {
                pairs.push((name.clone(), item));
            }
        }
        url.query_pairs_mut().extend_pairs(pairs);
    }
    // Room for the credential and the defaults the client adds (Host, User-Agent, Accept).
    let mut headers = HeaderMap::with_capacity(plan.headers.len() + 4);
    for (name, tpl) in &plan.headers {
        let value: std::borrow::Cow<str> = match tpl {
            crate::plan::template::Tpl::Literal(serde_json::Value::String(text)) => text.into(),
            _ => templates
                .text(tpl, ctx)
                .map_err(|e| template_error(step_id, request_field("headers").key(name), &e))?
                .into(),
        };
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            ErrorInfo::new(
                ErrorKind::Template,
                format!("step `{step_id}`: `{name}` is not a valid header name"),
            )
        })?;
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            ErrorInfo::new(ErrorKind::Template, format!("step `{step_id}`, field `request.headers.{name}`: the value is not a valid header value"))
        })?;
        if whole.redactor.touches(value.to_str().unwrap_or_default()) {
            value.set_sensitive(true);
        }
        headers.insert(header, value);
    }
    let body = match &plan.body {
        BodyPlan::None => None,
        BodyPlan::Json(tpl) => {
            let value = templates
                .value(tpl, ctx)
                .map_err(|e| template_error(step_id, request_field("json"), &e))?;
            default_type(&mut headers, "application/json");
            Some(serde_json::to_vec(&value).unwrap_or_default())
        }
        BodyPlan::Form(pairs) => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (name, tpl) in pairs {
                let value = templates
                    .value(tpl, ctx)
                    .map_err(|e| template_error(step_id, request_field("form").key(name), &e))?;
                for item in scalars(&value) {
                    form.append_pair(name, &item);
                }
            }
            default_type(&mut headers, "application/x-www-form-urlencoded");
            Some(form.finish().into_bytes())
        }
        BodyPlan::Text(tpl) => {
            let text = templates
                .text(tpl, ctx)
                .map_err(|e| template_error(step_id, request_field("body"), &e))?;
            default_type(&mut headers, "text/plain; charset=utf-8");
            Some(text.into_bytes())
        }
        BodyPlan::Multipart(..) => None,
    };
    let multipart = match &plan.body {
        BodyPlan::Multipart(parts, dir) => {
            let multipart = multipart(templates, step_id, parts, dir, ctx)?;
            // The boundary is whisk's: a `Content-Type` of the recipe's would not match it.
            let content_type = HeaderValue::from_str(&multipart.content_type())
                .unwrap_or(HeaderValue::from_static("multipart/form-data"));
            headers.insert(CONTENT_TYPE, content_type);
            headers.insert(
                reqwest::header::CONTENT_LENGTH,
                HeaderValue::from(multipart.len()),
            );
            Some(std::sync::Arc::new(multipart))
        }
        _ => None,
    };
    Ok(Outgoing {
        method: plan.method.clone(),
        url,
        headers,
        body,
        multipart,
        auth: None,
        identity: None,
    })
}

/// A multipart body's parts rendered, its files found (relative to `dir`) and measured.
fn multipart(
    templates: &crate::plan::Templates,
    step_id: &str,
    parts: &[crate::plan::PartPlan],
    dir: &std::path::Path,
    ctx: &Value,
) -> Result<crate::exec::multipart::Multipart, ErrorInfo> {
    use crate::exec::multipart::{Multipart, Part};
    use crate::plan::PartContent;
    let mut rendered = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let field = request_field("multipart").index(i);
        let text = |tpl: &crate::plan::Tpl, key: &str| {
            templates
                .text(tpl, ctx)
                .map_err(|e| template_error(step_id, field.key(key), &e))
        };
        rendered.push(match &part.content {
            PartContent::Value(tpl) => {
                let value = templates
                    .value(tpl, ctx)
                    .map_err(|e| template_error(step_id, field.key("value"), &e))?;
                Part::Text {
                    name: part.name.clone(),
                    value: match value {
                        serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    },
                    content_type: part.content_type.clone(),
                }
            }
            PartContent::File(tpl) => {
                let path = dir.join(text(tpl, "file")?);
                let filename = match &part.filename {
                    Some(tpl) => text(tpl, "filename")?,
                    None => path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                };
                Part::File {
                    name: part.name.clone(),
                    path,
                    filename,
                    content_type: part
                        .content_type
                        .clone()
                        .unwrap_or_else(|| "application/octet-stream".into()),
                }
            }
        });
    }
    Multipart::new(rendered).map_err(|message| {
        ErrorInfo::new(
            ErrorKind::Template,
            format!("step `{step_id}`, field `request.multipart`: {message}"),
        )
        .in_field(request_field("multipart"))
    })
}

fn default_type(headers: &mut HeaderMap, value: &'static str) {
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
    }
}

/// A query or form value as text items: a list repeats the parameter; null is omitted.
fn scalars(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(scalars).collect(),
        other => vec![other.to_string()],
    }
}

/// The provider's error code in a refusal: a JSON `error`/`errorCode`/`code` field, an
/// `oauth_*` code in the text, or the `error` of a `WWW-Authenticate` header.
pub fn provider_code(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["error", "errorCode", "error_code", "code"] {
            if let Some(code) = json.get(key).and_then(|v| v.as_str()) {
                return Some(code.to_string());
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    if let Some(start) = text.find("oauth_") {
        let code: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        return Some(code);
    }
    let challenge = headers
        .get(reqwest::header::WWW_AUTHENTICATE)?
        .to_str()
        .ok()?;
    let start = challenge.find("error=\"")? + 7;
    let end = challenge[start..].find('"')? + start;
    Some(challenge[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_provider_codes() {
        let headers = HeaderMap::new();
        assert_eq!(
            provider_code(&headers, br#"{"error":"invalid_token"}"#).as_deref(),
            Some("invalid_token")
        );
        assert_eq!(
            provider_code(&headers, b"UNAUTHORIZED (401): oauth_invalid_accesstoken").as_deref(),
            Some("oauth_invalid_accesstoken")
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            "www-authenticate",
            "Bearer error=\"invalid_token\"".parse().unwrap(),
        );
        assert_eq!(
            provider_code(&headers, b"").as_deref(),
            Some("invalid_token")
        );
        assert_eq!(provider_code(&HeaderMap::new(), b"nope"), None);
    }

    #[test]
    fn query_values_become_items() {
        assert_eq!(
            scalars(&serde_json::json!(["a", 1, null, true])),
            ["a", "1", "true"]
        );
        assert!(scalars(&serde_json::Value::Null).is_empty());
    }
}
