//! `--resume REPORT`: what an earlier run of the same recipe already did. Steps and `for_each`
//! iterations that succeeded there are carried over (with their captures) instead of being run
//! again; everything else runs.

use std::collections::HashMap;
use std::sync::Mutex;

use minijinja::Value;

use super::context::Scope;
use super::step_data::StepData;
use crate::event::{Event, EventSink};
use crate::plan::StepPlan;
use crate::result::{Execution, Iteration, Status, StepResult};

/// A top-level step that succeeded in the earlier run.
#[derive(Clone, Debug)]
pub struct DoneStep {
    pub captures: serde_json::Map<String, serde_json::Value>,
    /// The final HTTP status, for `steps.<id>.status`.
    pub status: Option<u16>,
    pub duration_ms: u64,
}

/// What the earlier report holds.
#[derive(Debug, Default)]
pub struct Resume {
    pub path: String,
    steps: HashMap<String, DoneStep>,
    /// Succeeded iterations by step id, then by the item's JSON text (a list: items may repeat).
    iterations: Mutex<HashMap<String, HashMap<String, Vec<Iteration>>>>,
    /// Requests the earlier run abandoned in flight that are not safe to send twice, by step
    /// id and item JSON text (`""` for a step without `for_each`).
    unknown: std::collections::HashSet<(String, String)>,
    /// `--resend-unknown`: send those again anyway.
    pub resend_unknown: bool,
}

/// Whether a step's or item's JSON says its request was abandoned with an unknown outcome.
fn abandoned(value: &serde_json::Value) -> bool {
    value["status"] == "interrupted"
        && value["request"]["attempts"]
            .as_array()
            .and_then(|a| a.last())
            .is_some_and(|a| a["outcome"] == crate::exec::request::UNKNOWN_OUTCOME)
}

impl Resume {
    /// Reads an earlier report of recipe `recipe`, whose text has SHA-256 `digest`, run with
    /// `inputs` (masked as reports mask them): a report of another text or other inputs is
    /// refused, since its items were sent elsewhere or differently.
    pub fn load(
        path: &std::path::Path,
        recipe: &str,
        digest: &str,
        inputs: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Resume, String> {
        let text = crate::source::read::text(path, crate::source::read::REPORT)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let report: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("`{}` is not a whisk report: {e}", path.display()))?;
        let name = report["recipe"]["name"].as_str().unwrap_or_default();
        if name != recipe {
            return Err(format!(
                "`{}` is a report of recipe `{name}`, not of `{recipe}`",
                path.display()
            ));
        }
        if let Some(theirs) = report["recipe"]["sha256"].as_str()
            && theirs != digest
        {
            return Err(format!(
                "`{}` is a report of another text of recipe `{recipe}` (SHA-256 {}…, this one {}…); resume with the recipe that ran, or start afresh without `--resume`",
                path.display(),
                &theirs[..theirs.len().min(12)],
                &digest[..digest.len().min(12)]
            ));
        }
        let theirs = report["inputs"].as_object().cloned().unwrap_or_default();
        let names: std::collections::BTreeSet<&String> =
            theirs.keys().chain(inputs.keys()).collect();
        for name in names {
            let (a, b) = (theirs.get(name), inputs.get(name));
            if a != b {
                let show = |v: Option<&serde_json::Value>| {
                    v.map_or("(none)".to_string(), |v| {
                        crate::event::shorten(&v.to_string(), 60)
                    })
                };
                return Err(format!(
                    "`{}` is a report of a run with input `{name}` = {}, and this run has {}: its items were sent with other inputs; resume with the same inputs, or start afresh without `--resume`",
                    path.display(),
                    show(a),
                    show(b)
                ));
            }
        }
        let mut resume = Resume {
            path: path.display().to_string(),
            ..Resume::default()
        };
        let mut iterations = HashMap::new();
        for step in report["steps"].as_array().into_iter().flatten() {
            let Some(id) = step["id"].as_str() else {
                continue;
            };
            if abandoned(step) {
                resume.unknown.insert((id.to_string(), String::new()));
            }
            if let Some(items) = step["iterations"].as_array() {
                let mut done: HashMap<String, Vec<Iteration>> = HashMap::new();
                for item in items {
                    if abandoned(item) {
                        resume
                            .unknown
                            .insert((id.to_string(), item["item"].to_string()));
                    }
                    if item["status"] == "succeeded"
                        && let Ok(mut iteration) =
                            serde_json::from_value::<IterationRecord>(item.clone())
                    {
                        iteration.0.carried_over = true;
                        done.entry(item["item"].to_string())
                            .or_default()
                            .push(iteration.0);
                    }
                }
                iterations.insert(id.to_string(), done);
            } else if step["status"] == "succeeded" {
                resume.steps.insert(
                    id.to_string(),
                    DoneStep {
                        captures: step["captures"].as_object().cloned().unwrap_or_default(),
                        status: step["request"]["status"].as_u64().map(|s| s as u16),
                        duration_ms: step["duration_ms"].as_u64().unwrap_or(0),
                    },
                );
            }
        }
        resume.iterations = Mutex::new(iterations);
        Ok(resume)
    }

    /// The earlier run of top-level step `id`, when it succeeded.
    pub fn step(&self, id: &str) -> Option<&DoneStep> {
        self.steps.get(id)
    }

    /// Takes the earlier succeeded iteration of step `id` for `item`, if there is one left.
    pub fn take_iteration(&self, id: &str, item: &serde_json::Value) -> Option<Iteration> {
        let mut iterations = self.iterations.lock().unwrap_or_else(|e| e.into_inner());
        let list = iterations.get_mut(id)?.get_mut(&item.to_string())?;
        if list.is_empty() {
            None
        } else {
            Some(list.remove(0))
        }
    }
}

/// An iteration as a report stores it.
struct IterationRecord(Iteration);

impl<'de> serde::Deserialize<'de> for IterationRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let captures = value["captures"].as_object().cloned().unwrap_or_default();
        Ok(IterationRecord(Iteration {
            index: value["index"].as_u64().unwrap_or(0) as usize,
            item: value["item"].clone(),
            status: Status::Succeeded,
            duration_ms: value["duration_ms"].as_u64().unwrap_or(0),
            run: crate::result::Execution {
                captures,
                ..Default::default()
            },
            error: None,
            warnings: Vec::new(),
            carried_over: true,
        }))
    }
}

impl Resume {
    /// Step `step` of the root recipe, restored instead of run when it succeeded in the earlier
    /// report: its captures and `steps.<id>` go into `scope`.
    pub fn carry_step(
        &self,
        step: &StepPlan,
        scope: &mut Scope,
        sink: &dyn EventSink,
    ) -> Option<StepResult> {
        if step.each.is_some() {
            return None;
        }
        if !self.resend_unknown && self.unknown.contains(&(step.id.clone(), String::new())) {
            let mut result = crate::exec::run::blank_result(step, Status::Failed);
            result.error = Some(unknown_error(&step.id));
            return Some(result);
        }
        let done = self.step(&step.id)?.clone();
        for (name, value) in &done.captures {
            scope.set_json(name, value);
        }
        let mut data = StepData::default();
        data.set("status", done.status.map(Value::from).unwrap_or_default());
        data.set_headers(&Default::default());
        data.set("body", Value::from(()));
        data.set("duration_ms", Value::from(done.duration_ms));
        scope.set_step(&step.id, data.into_value());
        sink.emit(&Event::StepSkipped {
            step: step.id.clone(),
        });
        Some(StepResult {
            name: step.name.clone(),
            run: Some(Execution {
                captures: done.captures,
                ..Default::default()
            }),
            carried_over: true,
            ..StepResult::new(step.id.clone(), Status::Succeeded)
        })
    }

    /// Item `index` of a loop of the root recipe, restored instead of run when it succeeded
    /// in the earlier report.
    pub fn carry_iteration(
        &self,
        step: &StepPlan,
        index: usize,
        item: &serde_json::Value,
        sink: &dyn EventSink,
    ) -> Option<(Iteration, StepData)> {
        let Some(mut done) = self.take_iteration(&step.id, item) else {
            return self.unknown_iteration(step, index, item, sink);
        };
        done.index = index;
        let mut data = StepData::default();
        data.set_json("item", item);
        data.set("status", Value::from(()));
        sink.emit(&Event::IterationFinished {
            step: step.id.clone(),
            index,
            succeeded: true,
        });
        Some((done, data))
    }
}

impl Resume {
    /// An item whose request the earlier run abandoned in flight, not safe to send twice:
    /// failed, unsent, unless `--resend-unknown`.
    fn unknown_iteration(
        &self,
        step: &StepPlan,
        index: usize,
        item: &serde_json::Value,
        sink: &dyn EventSink,
    ) -> Option<(Iteration, StepData)> {
        if self.resend_unknown || !self.unknown.contains(&(step.id.clone(), item.to_string())) {
            return None;
        }
        let mut data = StepData::default();
        data.set_json("item", item);
        sink.emit(&Event::IterationFinished {
            step: step.id.clone(),
            index,
            succeeded: false,
        });
        Some((
            Iteration {
                index,
                item: item.clone(),
                status: Status::Failed,
                duration_ms: 0,
                run: Execution::default(),
                error: Some(unknown_error(&step.id)),
                warnings: Vec::new(),
                carried_over: true,
            },
            data,
        ))
    }
}

fn unknown_error(step: &str) -> crate::result::ErrorInfo {
    crate::result::ErrorInfo::new(
        crate::result::ErrorKind::Interrupted,
        format!(
            "step `{step}`: the earlier run abandoned this request in flight, and whether the server acted on it is unknown; whisk does not send it again: check on the server, then resume with `--resend-unknown` to send it anyway"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_succeeded_steps_and_items() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(
            &path,
            serde_json::json!({
                "recipe": {"name": "r", "sha256": "abc"},
                "inputs": {"base": "http://a"},
                "steps": [
                    {"id": "a", "status": "succeeded", "duration_ms": 3, "request": {"status": 204}, "captures": {"x": 1}},
                    {"id": "b", "status": "failed"},
                    {"id": "c", "status": "interrupted", "iterations": [
                        {"index": 0, "item": "101", "status": "succeeded", "duration_ms": 1, "captures": {"y": 2}},
                        {"index": 1, "item": "102", "status": "interrupted", "duration_ms": 0}
                    ]}
                ]
            })
            .to_string(),
        )
        .unwrap();
        let inputs = |base: &str| {
            serde_json::Map::from_iter([("base".to_string(), serde_json::json!(base))])
        };
        let resume = Resume::load(&path, "r", "abc", &inputs("http://a")).unwrap();
        assert_eq!(resume.step("a").unwrap().status, Some(204));
        assert!(resume.step("b").is_none());
        let item = resume
            .take_iteration("c", &serde_json::json!("101"))
            .unwrap();
        assert_eq!(item.run.captures["y"], 2);
        assert!(
            resume
                .take_iteration("c", &serde_json::json!("101"))
                .is_none()
        );
        assert!(
            resume
                .take_iteration("c", &serde_json::json!("102"))
                .is_none()
        );
        assert!(
            Resume::load(&path, "other", "abc", &inputs("http://a"))
                .unwrap_err()
                .contains("not of `other`")
        );
        let edited = Resume::load(&path, "r", "abd", &inputs("http://a")).unwrap_err();
        assert!(edited.contains("another text of recipe `r`"), "{edited}");
        let moved = Resume::load(&path, "r", "abc", &inputs("http://b")).unwrap_err();
        assert!(
            moved.contains("input `base` = \"http://a\", and this run has \"http://b\""),
            "{moved}"
        );
    }
}
