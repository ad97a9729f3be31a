//! The run as a flat list of test cases, for the writers that think in tests (JUnit, the
//! Markdown failures): one case per step, per `for_each` iteration, and per step of a block or
//! used recipe.
//!
//! A step whose work happened in child steps (a block, a used recipe) is represented by its
//! children; it gets a case of its own only when it failed and no child did (its outputs or its
//! `for_each` list could not be evaluated), so that every failure appears exactly once.

use crate::result::{ErrorInfo, Exchange, RunResult, Status, StepResult};

/// One test case.
#[derive(Debug)]
pub struct Case<'a> {
    /// The top-level step the case belongs to, when it is inside one (a loop, block or
    /// `uses`); `None` for a top-level step of its own.
    pub group: Option<&'a str>,
    /// A readable path: `a`, `loop[2]`, `loop[2]/inner`, `used/inner`.
    pub path: String,
    /// The `for_each` item, when the case is an iteration or inside one.
    pub item: Option<&'a serde_json::Value>,
    pub status: Status,
    pub duration_ms: u64,
    pub error: Option<&'a ErrorInfo>,
    pub request: Option<&'a Exchange>,
}

impl Case<'_> {
    /// The path with a short scalar item appended: `loop[2] (104)`.
    pub fn title(&self) -> String {
        match self.item.and_then(short_scalar) {
            Some(item) => format!("{} ({item})", self.path),
            None => self.path.clone(),
        }
    }
}

/// Every case of the run, in order. A failure of the run as a whole becomes a last case named
/// `(run)`.
pub fn cases(result: &RunResult) -> Vec<Case<'_>> {
    let mut out = Vec::new();
    for step in &result.steps {
        step_cases(step, None, "", None, &mut out);
    }
    if let Some(error) = &result.error {
        out.push(Case {
            group: None,
            path: "(run)".into(),
            item: None,
            status: Status::Failed,
            duration_ms: 0,
            error: Some(error),
            request: None,
        });
    }
    out
}

fn step_cases<'a>(
    step: &'a StepResult,
    group: Option<&'a str>,
    prefix: &str,
    item: Option<&'a serde_json::Value>,
    out: &mut Vec<Case<'a>>,
) {
    let path = format!("{prefix}{}", step.id);
    let inner_group = Some(group.unwrap_or(step.id.as_str()));
    let before = out.len();
    if let Some(iterations) = &step.iterations {
        for iteration in iterations {
            let at = format!("{path}[{}]", iteration.index);
            match &iteration.run.steps {
                Some(children) if !children.is_empty() => {
                    let inner = out.len();
                    for child in children {
                        let prefix = format!("{at}/");
                        step_cases(child, inner_group, &prefix, Some(&iteration.item), out);
                    }
                    let child_failed = out[inner..].iter().any(|c| c.status == Status::Failed);
                    if iteration.status == Status::Failed && !child_failed {
                        out.push(Case {
                            group: inner_group,
                            path: at,
                            item: Some(&iteration.item),
                            status: iteration.status,
                            duration_ms: iteration.duration_ms,
                            error: iteration.error.as_ref(),
                            request: None,
                        });
                    }
                }
                _ => out.push(Case {
                    group: inner_group,
                    path: at,
                    item: Some(&iteration.item),
                    status: iteration.status,
                    duration_ms: iteration.duration_ms,
                    error: iteration.error.as_ref(),
                    request: iteration.run.request.as_ref(),
                }),
            }
        }
    } else if let Some(children) = step.run.as_ref().and_then(|r| r.steps.as_ref())
        && !children.is_empty()
    {
        for child in children {
            step_cases(child, inner_group, &format!("{path}/"), item, out);
        }
    } else {
        out.push(Case {
            group,
            path,
            item,
            status: step.status,
            duration_ms: step.duration_ms,
            error: step.error.as_ref(),
            request: step.run.as_ref().and_then(|r| r.request.as_ref()),
        });
        return;
    }
    // A container: its own case only for a failure no child explains.
    let child_failed = out[before..].iter().any(|c| c.status == Status::Failed);
    if step.status == Status::Failed && !child_failed {
        out.push(Case {
            group: inner_group,
            path: format!("{prefix}{}", step.id),
            item,
            status: step.status,
            duration_ms: step.duration_ms,
            error: step.error.as_ref(),
            request: None,
        });
    } else if out.len() == before {
        // A loop over an empty list, or a step skipped before it ran: still one case.
        out.push(Case {
            group,
            path: format!("{prefix}{}", step.id),
            item,
            status: step.status,
            duration_ms: step.duration_ms,
            error: step.error.as_ref(),
            request: None,
        });
    }
}

/// A string, number or boolean item short enough to name a case.
fn short_scalar(item: &serde_json::Value) -> Option<String> {
    let text = match item {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (text.chars().count() <= 40 && !text.contains(['\n', '\r'])).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{ErrorKind, Execution, Iteration};

    fn step(id: &str, status: Status) -> StepResult {
        StepResult {
            id: id.into(),
            name: None,
            status,
            duration_ms: 5,
            run: Some(Execution::default()),
            iterations: None,
            spooled: None,
            succeeded: None,
            failed: None,
            error: (status == Status::Failed).then(|| ErrorInfo::new(ErrorKind::Status, "boom")),
            warnings: Vec::new(),
            carried_over: false,
        }
    }

    fn iteration(
        index: usize,
        item: serde_json::Value,
        steps: Option<Vec<StepResult>>,
    ) -> Iteration {
        let failed = steps
            .as_ref()
            .is_some_and(|s| s.iter().any(|s| s.status == Status::Failed));
        Iteration {
            index,
            item,
            status: if failed {
                Status::Failed
            } else {
                Status::Succeeded
            },
            duration_ms: 3,
            run: Execution {
                steps,
                ..Execution::default()
            },
            error: failed.then(|| ErrorInfo::new(ErrorKind::Iteration, "item failed")),
            warnings: Vec::new(),
            carried_over: false,
        }
    }

    #[test]
    fn steps_iterations_and_blocks_become_cases() {
        let mut looped = step("each", Status::Failed);
        looped.run = None;
        looped.error = Some(ErrorInfo::new(ErrorKind::Iteration, "1 of 2 failed"));
        looped.iterations = Some(vec![
            iteration(
                0,
                serde_json::json!("a"),
                Some(vec![step("inner", Status::Succeeded)]),
            ),
            iteration(
                1,
                serde_json::json!({"x": 1}),
                Some(vec![step("inner", Status::Failed)]),
            ),
        ]);
        let result = RunResult {
            status: Status::Failed,
            steps: vec![step("first", Status::Succeeded), looped],
            outputs: None,
            error: None,
        };
        let cases = cases(&result);
        let titles: Vec<String> = cases.iter().map(Case::title).collect();
        assert_eq!(titles, ["first", "each[0]/inner (a)", "each[1]/inner"]);
        assert_eq!(cases[1].group, Some("each"));
        assert_eq!(cases[2].status, Status::Failed);
    }

    #[test]
    fn a_container_failure_no_child_explains_gets_its_own_case() {
        let mut used = step("used", Status::Failed);
        used.error = Some(ErrorInfo::new(ErrorKind::Uses, "output `x` failed"));
        if let Some(run) = used.run.as_mut() {
            run.steps = Some(vec![step("inner", Status::Succeeded)]);
        }
        let result = RunResult {
            status: Status::Failed,
            steps: vec![used],
            outputs: None,
            error: Some(ErrorInfo::new(ErrorKind::Template, "output `y`")),
        };
        let titles: Vec<String> = cases(&result).iter().map(Case::title).collect();
        assert_eq!(titles, ["used/inner", "used", "(run)"]);
    }
}
