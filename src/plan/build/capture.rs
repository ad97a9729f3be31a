//! Captures: exactly one of `jsonpath`, `header` or `regex` each, compiled, and names that
//! hide nothing.

use super::declare::shadows;
use super::{At, Builder};
use crate::diagnostic::PlanKind;
use crate::plan::names::Scope;
use crate::plan::{CaptureKind, CapturePlan, jsonpath};
use crate::recipe::{self, Step};
use crate::source::FieldPath;

impl Builder {
    pub(super) fn captures(
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
                    PlanKind::Shadows,
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
                    PlanKind::Structure,
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
                            PlanKind::JsonPath,
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
                            PlanKind::Regex,
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
                    PlanKind::Structure,
                    at,
                    &f.key("single"),
                    true,
                    "`single` applies only to `jsonpath` captures".into(),
                    Some("a header or regex capture already yields one value".into()),
                );
            }
            if let Some(min) = spec.min {
                let why = if !matches!(kind, CaptureKind::JsonPath { .. }) {
                    Some("`min` applies only to `jsonpath` captures")
                } else if spec.single {
                    Some(
                        "`min` counts the matches of a list capture; `single: true` needs exactly one",
                    )
                } else if spec.optional || spec.default.is_some() {
                    Some("`min` and `optional`/`default` contradict each other")
                } else {
                    None
                };
                if let Some(why) = why {
                    let help = Some("keep one of them".into());
                    self.problem(
                        PlanKind::Structure,
                        at,
                        &f.key("min"),
                        true,
                        why.into(),
                        help,
                    );
                } else if min == 0 {
                    let help = Some("`min: 1` fails the step when nothing matches".into());
                    let message = "`min: 0` accepts anything: remove it, or give at least 1";
                    self.problem(
                        PlanKind::Limit,
                        at,
                        &f.key("min"),
                        false,
                        message.into(),
                        help,
                    );
                }
            }
            captures.push(CapturePlan {
                name: name.clone(),
                kind,
                single: spec.single,
                optional: spec.optional || spec.default.is_some(),
                default: spec.default,
                min: spec.min.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            });
        }
        captures
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::diagnostic::PlanKind;
    use crate::plan::CaptureKind;

    #[test]
    fn captures_have_one_kind_that_compiles() {
        let found = problems(&recipe(
            "steps:\n  - id: a\n    request: { url: 'https://x/' }\n    capture:\n      p: '$[?'\n      r: { regex: '(' }\n      two: { jsonpath: $.a, header: X }\n      h: { header: ETag, single: true }\n      base: $.b\n",
        ));
        assert!(
            has(&found, PlanKind::JsonPath, "steps[0].capture.p"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Regex, "steps[0].capture.r.regex"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Structure, "steps[0].capture.two"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Structure, "steps[0].capture.h.single"),
            "{found:?}"
        );
        assert!(
            has(&found, PlanKind::Shadows, "steps[0].capture.base"),
            "{found:?}"
        );
    }

    #[test]
    fn a_default_makes_a_capture_optional() {
        let plan = plan(&recipe(
            "steps:\n  - id: a\n    request: { url: 'https://x/' }\n    capture:\n      id: { jsonpath: $.id, single: true, default: 0 }\n      etag: { header: ETag }\n",
        ));
        let captures = &plan.root.steps[0].captures;
        assert!(captures[0].single && captures[0].optional);
        assert!(matches!(&captures[1].kind, CaptureKind::Header(name) if name == "etag"));
    }
}
