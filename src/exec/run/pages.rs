//! `paginate`: the pages of a list, one request after another. Each page is a whole request
//! (retries, token refreshes, `expect`); list captures gather every page's matches in order,
//! other captures keep the last page's. The next page is the `Link` header's target, a URL or
//! a cursor from the body, or the next offset; a page that points back to one already read,
//! or `max_pages`, stops the step. A next page on another host gets the credential only if a
//! redirect there would (`redirects.forward_auth_to`); HTTPS never leads to plain HTTP.

use std::collections::HashSet;

use reqwest::Url;
use serde_json::Value as Json;

use super::{BodyOutcome, Runner};
use crate::exec::auth::AuthContext;
use crate::exec::capture;
use crate::exec::context::Scope;
use crate::exec::http::{Incoming, downgrades};
use crate::exec::request::Target;
use crate::plan::flow::{PageKind, PagePlan};
use crate::plan::{CaptureKind, RequestPlan, StepPlan};
use crate::result::{ErrorInfo, ErrorKind};
use crate::source::FieldPath;

/// Where the list goes on after a page.
enum Next {
    Target(Target),
    End,
    Error(String),
}

impl Runner<'_> {
    pub(super) async fn pages(
        &self,
        step: &StepPlan,
        plan: &RequestPlan,
        pages: &PagePlan,
        scope: &mut Scope,
        auth: &AuthContext,
        keep: bool,
    ) -> BodyOutcome {
        let mut all = BodyOutcome::default();
        let mut gathered: Vec<Json> = vec![Json::Array(Vec::new()); step.captures.len()];
        let mut seen: HashSet<String> = HashSet::new();
        let mut target = match &pages.kind {
            PageKind::Offset {
                limit: Some(limit),
                limit_param,
                ..
            } => Target::Params(vec![(limit_param.clone(), limit.to_string())]),
            _ => Target::Rendered,
        };
        let mut offset: u64 = 0;
        let mut count = 0u32;
        loop {
            count += 1;
            let mut next = Next::End;
            let mut from: Option<Url> = None;
            let mut repeated = false;
            let mut outcome = self
                .exchange(step, plan, scope, auth, keep, &target, &mut |answer| {
                    repeated = !seen.insert(answer.url.to_string());
                    if !repeated {
                        next = next_page(pages, answer, &mut offset);
                    }
                    from = Some(answer.url.clone());
                })
                .await;
            if repeated && outcome.error.is_none() {
                let url = from.as_ref().map(Url::to_string).unwrap_or_default();
                let message = format!(
                    "page {count} ({url}) is a page already read: the server's paging goes round in a circle"
                );
                all.error = Some(pages_error(step, message));
                if let Some(exchange) = outcome.run.request.take() {
                    all.run.pages.push(exchange);
                }
                break;
            }
            // This page's exchange: the first is `request`, the others `pages`.
            if let Some(exchange) = outcome.run.request.take() {
                if all.run.request.is_none() {
                    all.run.request = Some(exchange);
                } else {
                    all.run.pages.push(exchange);
                }
            }
            for (i, capture) in step.captures.iter().enumerate() {
                if let Some(value) = outcome.run.captures.remove(&capture.name) {
                    match (list_capture(capture), &mut gathered[i], value) {
                        (true, Json::Array(all), Json::Array(more)) => all.extend(more),
                        // A capture of one value keeps the first page's, as the step without paging would.
                        (_, slot, value) if count == 1 => *slot = value,
                        _ => {}
                    }
                }
            }
            all.data = std::mem::take(&mut outcome.data);
            if let Some(error) = outcome.error.take() {
                all.error = Some(error);
                break;
            }
            match next {
                Next::End => break,
                Next::Error(message) => {
                    all.error = Some(pages_error(step, message));
                    break;
                }
                Next::Target(next) => {
                    if let Target::Url(url) = &next
                        && from.as_ref().is_some_and(|b| downgrades(b, url, false))
                    {
                        let message = format!(
                            "page {count} links to {url} over plain HTTP; whisk does not follow HTTPS to HTTP"
                        );
                        all.error = Some(pages_error(step, message));
                        break;
                    }
                    if count >= pages.max_pages {
                        if pages.stop_at_max {
                            all.warnings.push(format!(
                                "stopped after `max_pages: {}`; the server has more pages",
                                pages.max_pages
                            ));
                        } else {
                            let message = format!(
                                "the list has more than `max_pages: {}` pages; raise it, or add `on_max: stop` to keep the first ones",
                                pages.max_pages
                            );
                            all.error = Some(pages_error(step, message));
                        }
                        break;
                    }
                    target = next;
                }
            }
        }
        for (capture, value) in step.captures.iter().zip(gathered) {
            if all.error.is_none() {
                if let Some(min) = capture.min
                    && value.as_array().is_some_and(|v| v.len() < min)
                {
                    let error = ErrorInfo::new(
                        ErrorKind::Capture,
                        format!(
                            "step `{}`: capture `{}` matched {} over {}, but `min: {min}` needs at least {min}",
                            step.id,
                            capture.name,
                            crate::plural::count(value.as_array().map_or(0, Vec::len), "value", "values"),
                            crate::plural::count(count as usize, "page", "pages"),
                        ),
                    )
                    .in_field(FieldPath::root().key("capture").key(&capture.name));
                    all.error = Some(error);
                }
                all.warnings.extend(capture::warning(capture, &value));
            }
            scope.set_json(&capture.name, &value);
            all.run.captures.insert(capture.name.clone(), value);
        }
        all.data.set("pages", minijinja::Value::from(count));
        all
    }
}

/// The next page after `answer`, a page that came back (whether the step accepts it is
/// checked apart: on a failed page the list stops anyway).
fn next_page(pages: &PagePlan, answer: &Incoming, offset: &mut u64) -> Next {
    let json = || serde_json::from_slice::<Json>(&answer.body).ok();
    match &pages.kind {
        PageKind::Link(rel) => {
            let values = answer
                .headers
                .get_all(reqwest::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok());
            match crate::exec::link::target(values, &answer.url, rel) {
                Some(url) => Next::Target(Target::Url(url)),
                None => Next::End,
            }
        }
        PageKind::NextUrl(path, text) => {
            let Some(json) = json() else {
                return Next::Error(format!(
                    "`next_url: {text}` needs a JSON body, and the page is not JSON"
                ));
            };
            match first_text(path, &json) {
                None => Next::End,
                Some(next) => match answer.url.join(&next) {
                    Ok(url) => Next::Target(Target::Url(url)),
                    Err(e) => Next::Error(format!("`{next}` (from `{text}`) is not a URL: {e}")),
                },
            }
        }
        PageKind::Offset {
            param,
            limit_param,
            limit,
            items,
            has_more,
            total,
        } => {
            let Some(json) = json() else {
                return Next::Error(
                    "offset paging needs a JSON body, and the page is not JSON".into(),
                );
            };
            let got = items.query(&json).all().first().map_or(0, |v| match v {
                Json::Array(list) => list.len(),
                _ => 1,
            }) as u64;
            *offset += got;
            let more = has_more
                .as_ref()
                .and_then(|p| p.query(&json).all().first().and_then(|v| v.as_bool()));
            let total = total
                .as_ref()
                .and_then(|p| p.query(&json).all().first().and_then(|v| v.as_u64()));
            let done = got == 0
                || more == Some(false)
                || total.is_some_and(|t| *offset >= t)
                || (more.is_none() && total.is_none() && limit.is_some_and(|l| got < u64::from(l)));
            if done {
                return Next::End;
            }
            let mut params = vec![(param.clone(), offset.to_string())];
            if let Some(limit) = limit {
                params.push((limit_param.clone(), limit.to_string()));
            }
            Next::Target(Target::Params(params))
        }
        PageKind::Cursor { from, param } => {
            let Some(json) = json() else {
                return Next::Error(
                    "cursor paging needs a JSON body, and the page is not JSON".into(),
                );
            };
            match first_text(from, &json) {
                None => Next::End,
                Some(cursor) => Next::Target(Target::Params(vec![(param.clone(), cursor)])),
            }
        }
    }
}

/// A list capture: a JSONPath that yields all its matches.
fn list_capture(capture: &crate::plan::CapturePlan) -> bool {
    matches!(capture.kind, CaptureKind::JsonPath { .. }) && !capture.single
}

/// The first match of `path` as text; none for no match, `null` or `""`.
fn first_text(path: &serde_json_path::JsonPath, json: &Json) -> Option<String> {
    match path.query(json).all().first()? {
        Json::String(text) if !text.is_empty() => Some(text.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn pages_error(step: &StepPlan, message: String) -> ErrorInfo {
    ErrorInfo::new(ErrorKind::Pages, format!("step `{}`: {message}", step.id))
        .in_field(FieldPath::root().key("paginate"))
}
