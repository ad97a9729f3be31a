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
}

impl Resume {
    /// Reads an earlier report of recipe `recipe`.
    pub fn load(path: &std::path::Path, recipe: &str) -> Result<Resume, String> {
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
        let mut resume = Resume {
            path: path.display().to_string(),
            ..Resume::default()
        };
        let mut iterations = HashMap::new();
        for step in report["steps"].as_array().into_iter().flatten() {
            let Some(id) = step["id"].as_str() else {
                continue;
            };
            if let Some(items) = step["iterations"].as_array() {
                let mut done: HashMap<String, Vec<Iteration>> = HashMap::new();
                for item in items {
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
            id: step.id.clone(),
            name: step.name.clone(),
            status: Status::Succeeded,
            duration_ms: 0,
            run: Some(Execution {
                captures: done.captures,
                ..Default::default()
            }),
            iterations: None,
            succeeded: None,
            failed: None,
            error: None,
            warnings: Vec::new(),
            carried_over: true,
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
        let mut done = self.take_iteration(&step.id, item)?;
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
                "recipe": {"name": "r"},
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
        let resume = Resume::load(&path, "r").unwrap();
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
            Resume::load(&path, "other")
                .unwrap_err()
                .contains("not of `other`")
        );
    }
}
