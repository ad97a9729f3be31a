//! The names templates read during a run: inputs, secrets, captures, loop variables and
//! `steps.<id>`.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value;

use crate::plan::template::to_value;

/// The template context at one point of a run. Cheap to clone: values are shared.
#[derive(Clone, Default)]
pub struct Scope {
    vars: BTreeMap<Arc<str>, Value>,
    steps: BTreeMap<Arc<str>, Value>,
}

impl Scope {
    /// A recipe's starting scope: its inputs and secrets.
    pub fn new(
        inputs: &serde_json::Map<String, serde_json::Value>,
        secrets: &indexmap::IndexMap<String, String>,
    ) -> Scope {
        let mut scope = Scope::default();
        scope.set("inputs", to_value(inputs));
        scope.set("secrets", to_value(secrets));
        scope
    }

    pub fn set(&mut self, name: &str, value: Value) {
        self.vars.insert(Arc::from(name), value);
    }

    pub fn set_json(&mut self, name: &str, value: &serde_json::Value) {
        self.set(name, to_value(value));
    }

    pub fn set_step(&mut self, id: &str, value: Value) {
        self.steps.insert(Arc::from(id), value);
    }

    /// The context value templates are rendered with.
    pub fn value(&self) -> Value {
        let steps = Value::from_pairs(
            self.steps
                .iter()
                .map(|(k, v)| (Value::from(k.as_ref()), v.clone())),
        );
        Value::from_pairs(
            self.vars
                .iter()
                .map(|(k, v)| (Value::from(k.as_ref()), v.clone()))
                .chain(std::iter::once((Value::from("steps"), steps))),
        )
    }
}

/// `loop.index`, `loop.index0`, `loop.length`, `loop.first`, `loop.last` for item `index`.
pub fn loop_value(index: usize, length: usize) -> Value {
    minijinja::context! {
        index => index + 1,
        index0 => index,
        length => length,
        first => index == 0,
        last => index + 1 == length,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_inputs_captures_and_steps() {
        let inputs = serde_json::json!({"base": "http://h"});
        let mut scope = Scope::new(inputs.as_object().unwrap(), &Default::default());
        scope.set_json("ids", &serde_json::json!([1, 2]));
        scope.set_step("first", to_value(&serde_json::json!({"status": 200})));
        let env = minijinja::Environment::new();
        let out = env
            .render_str(
                "{{ inputs.base }} {{ ids | length }} {{ steps.first.status }}",
                scope.value(),
            )
            .unwrap();
        assert_eq!(out, "http://h 2 200");
    }
}
