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
}
