//! `until` and `paginate`: on request steps only, one of them at most; their expressions see
//! the step's captures (and, for `until`, `poll`), their JSONPaths compiled.

use super::{At, Builder};
use crate::diagnostic::PlanKind;
use crate::plan::flow::{
    DEFAULT_MAX_PAGES, DEFAULT_POLL_INTERVAL, DEFAULT_POLL_TIMEOUT, PageKind, PagePlan, Repeat,
    UntilPlan, Wait,
};
use crate::plan::jsonpath;
use crate::plan::names::Scope;
use crate::recipe::{self, OnMax, Step};
use crate::source::FieldPath;

impl Builder {
    /// How the step repeats; `scope` is the one its checks see (its captures included).
    pub(super) fn repeat(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        step: &Step,
        scope: &Scope,
    ) -> Option<Repeat> {
        match (&step.until, &step.paginate) {
            (None, None) => None,
            (Some(_), Some(_)) => {
                let message =
                    "a step either polls (`until`) or follows pages (`paginate`), not both";
                let help = Some("poll in one step, and list the pages in the next".into());
                self.problem(
                    PlanKind::Structure,
                    at,
                    &field.key("paginate"),
                    true,
                    message.into(),
                    help,
                );
                None
            }
            _ if step.request.is_none() => {
                let key = if step.until.is_some() {
                    "until"
                } else {
                    "paginate"
                };
                let message = format!("`{key}` applies only to a step with a `request`");
                self.problem(
                    PlanKind::Structure,
                    at,
                    &field.key(key),
                    true,
                    message,
                    None,
                );
                None
            }
            (Some(until), None) => self
                .until(at, &field.key("until"), until, scope)
                .map(Repeat::Until),
            (None, Some(pages)) => self
                .paginate(at, &field.key("paginate"), pages)
                .map(Repeat::Pages),
        }
    }

    fn until(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        until: &recipe::Until,
        scope: &Scope,
    ) -> Option<UntilPlan> {
        let mut scope = scope.clone();
        scope.locals.insert("poll".into());
        let that = self.expression(at, &field.key("that"), &until.that, &scope);
        let fail_if = until.fail_if.as_ref().map(|text| {
            self.expression(at, &field.key("fail_if"), text, &scope)
                .map(|tpl| (tpl, text.clone()))
        });
        let wait = match (&until.interval, &until.backoff) {
            (Some(_), Some(_)) => {
                let message = "`interval` and `backoff` both set: the wait is one or the other";
                self.problem(
                    PlanKind::Structure,
                    at,
                    &field.key("backoff"),
                    true,
                    message.into(),
                    None,
                );
                Wait::Fixed(DEFAULT_POLL_INTERVAL)
            }
            (Some(interval), None) => Wait::Fixed(interval.0),
            (None, Some(backoff)) => {
                let initial = backoff.initial.map_or(DEFAULT_POLL_INTERVAL, |d| d.0);
                let max = backoff.max.map_or(initial * 30, |d| d.0);
                if max < initial {
                    let message = "`backoff.max` is shorter than `backoff.initial`";
                    self.problem(
                        PlanKind::Limit,
                        at,
                        &field.key("backoff").key("max"),
                        false,
                        message.into(),
                        None,
                    );
                }
                Wait::Backoff { initial, max }
            }
            (None, None) => Wait::Fixed(DEFAULT_POLL_INTERVAL),
        };
        if wait.after(1).is_zero() {
            let message = "a poll interval of zero would send as fast as the server answers";
            let help = Some(
                "wait at least a few milliseconds between polls, e.g. `interval: 500ms`".into(),
            );
            self.problem(PlanKind::Limit, at, field, false, message.into(), help);
        }
        let timeout = until.timeout.map_or(DEFAULT_POLL_TIMEOUT, |d| d.0);
        if timeout.is_zero() {
            let message = "`timeout: 0` leaves no time to poll";
            self.problem(
                PlanKind::Limit,
                at,
                &field.key("timeout"),
                false,
                message.into(),
                None,
            );
        }
        if until.max_polls == Some(0) {
            let message = "`max_polls` must be at least 1";
            self.problem(
                PlanKind::Limit,
                at,
                &field.key("max_polls"),
                false,
                message.into(),
                None,
            );
        }
        Some(UntilPlan {
            that: that?,
            that_text: until.that.clone(),
            fail_if: fail_if.map(|f| f.ok_or(())).transpose().ok()?,
            wait,
            timeout,
            max_polls: until.max_polls,
        })
    }

    fn paginate(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        pages: &recipe::Paginate,
    ) -> Option<PagePlan> {
        let forms = [
            pages.link.is_some(),
            pages.next_url.is_some(),
            pages.offset.is_some(),
            pages.cursor.is_some(),
        ];
        if forms.iter().filter(|f| **f).count() != 1 {
            let message =
                "`paginate` needs exactly one of `link`, `next_url`, `offset` or `cursor`";
            let help = Some("e.g. `paginate: { link: next }` to follow the `Link` header".into());
            self.problem(PlanKind::Structure, at, field, false, message.into(), help);
            return None;
        }
        let path = |builder: &mut Builder, f: FieldPath, text: &str| match jsonpath::compile(text) {
            Ok(path) => Some(path),
            Err(message) => {
                let help =
                    Some("see RFC 9535; e.g. `$.next` or `$.links[?@.rel == 'next'].href`".into());
                builder.problem(PlanKind::JsonPath, at, &f, false, message, help);
                None
            }
        };
        let kind = if let Some(rel) = &pages.link {
            if rel.trim().is_empty() || rel.contains(char::is_whitespace) {
                let message = format!("`{rel}` is not a link relation");
                let help = Some("name one relation, such as `next`".into());
                self.problem(
                    PlanKind::Structure,
                    at,
                    &field.key("link"),
                    false,
                    message,
                    help,
                );
            }
            PageKind::Link(rel.trim().to_ascii_lowercase())
        } else if let Some(next) = &pages.next_url {
            PageKind::NextUrl(path(self, field.key("next_url"), next)?, next.clone())
        } else if let Some(offset) = &pages.offset {
            let f = field.key("offset");
            let items = path(self, f.key("items"), &offset.items);
            let has_more = offset
                .has_more
                .as_ref()
                .map(|p| path(self, f.key("has_more"), p).ok_or(()))
                .transpose();
            let total = offset
                .total
                .as_ref()
                .map(|p| path(self, f.key("total"), p).ok_or(()))
                .transpose();
            if offset.limit == Some(0) {
                let message = "`limit: 0` asks for empty pages";
                self.problem(
                    PlanKind::Limit,
                    at,
                    &f.key("limit"),
                    false,
                    message.into(),
                    None,
                );
            }
            PageKind::Offset {
                param: offset.param.clone().unwrap_or_else(|| "offset".into()),
                limit_param: offset.limit_param.clone().unwrap_or_else(|| "limit".into()),
                limit: offset.limit,
                items: items?,
                has_more: has_more.ok()?,
                total: total.ok()?,
            }
        } else {
            let cursor = pages.cursor.as_ref()?;
            let f = field.key("cursor");
            PageKind::Cursor {
                from: path(self, f.key("from"), &cursor.from)?,
                param: cursor.param.clone().unwrap_or_else(|| "cursor".into()),
            }
        };
        let max_pages = pages.max_pages.unwrap_or(DEFAULT_MAX_PAGES);
        if max_pages == 0 {
            let message = "`max_pages` must be at least 1";
            self.problem(
                PlanKind::Limit,
                at,
                &field.key("max_pages"),
                false,
                message.into(),
                None,
            );
        }
        Some(PagePlan {
            kind,
            max_pages: max_pages.max(1),
            stop_at_max: pages.on_max == Some(OnMax::Stop),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::PlanKind;
    use crate::plan::build::testing::{has, plan, problems, recipe};
    use crate::plan::flow::{PageKind, Repeat, Wait};

    #[test]
    fn until_sees_captures_and_poll_and_defaults_its_wait() {
        let plan = plan(&recipe(
            "steps:\n  - id: wait\n    request: { url: '{{ inputs.base }}/job' }\n    capture: { state: { jsonpath: $.state, single: true } }\n    until:\n      that: state == 'done' or poll.n > 3\n      fail_if: state == 'failed'\n      backoff: { initial: 100ms, max: 1s }\n",
        ));
        let Some(Repeat::Until(until)) = &plan.root.steps[0].repeat else {
            panic!("no until")
        };
        assert_eq!(
            until.wait,
            Wait::Backoff {
                initial: std::time::Duration::from_millis(100),
                max: std::time::Duration::from_secs(1)
            }
        );
        assert!(until.fail_if.is_some());
    }

    #[test]
    fn until_and_paginate_problems() {
        let found = problems(&recipe(
            "steps:\n  - id: a\n    request: { url: '{{ inputs.base }}' }\n    until: { that: nope, interval: 1s, backoff: { initial: 1s } }\n  - id: b\n    request: { url: '{{ inputs.base }}' }\n    until: { that: 'true' }\n    paginate: { link: next }\n  - id: c\n    request: { url: '{{ inputs.base }}' }\n    paginate: { link: next, cursor: { from: $.c } }\n  - id: d\n    request: { url: '{{ inputs.base }}' }\n    paginate: { next_url: 'next' }\n  - id: e\n    request: { url: '{{ inputs.base }}' }\n    until: { that: 'true', interval: 0s }\n  - id: f\n    request: { url: '{{ inputs.base }}' }\n    paginate: { link: next, max_pages: 0 }\n",
        ));
        assert!(
            has(&found, PlanKind::UndefinedName, "steps[0].until.that"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Structure, "steps[0].until.backoff"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Structure, "steps[1].paginate"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Structure, "steps[2].paginate"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::JsonPath, "steps[3].paginate.next_url"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Limit, "steps[5].paginate.max_pages"),
            "{found:?}"
        );
        assert!(has(&found, PlanKind::Limit, "steps[4].until"), "{found:?}");
    }

    #[test]
    fn paginate_forms() {
        let plan = plan(&recipe(
            "steps:\n  - id: a\n    request: { url: '{{ inputs.base }}' }\n    paginate: { offset: { items: $.items, has_more: $.hasMore, limit: 50 } }\n  - id: b\n    request: { url: '{{ inputs.base }}' }\n    paginate: { cursor: { from: $.next }, max_pages: 3, on_max: stop }\n",
        ));
        let steps = &plan.root.steps;
        assert!(matches!(
            &steps[0].repeat,
            Some(Repeat::Pages(p)) if matches!(&p.kind, PageKind::Offset { param, limit: Some(50), .. } if param == "offset")
        ));
        assert!(matches!(
            &steps[1].repeat,
            Some(Repeat::Pages(p)) if p.stop_at_max && p.max_pages == 3
        ));
    }
}
