//! The names templates read during a run: inputs, secrets, captures, loop variables and
//! `steps.<id>`.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

use crate::plan::input_list::{InputList, LONG_LIST};
use crate::plan::template::to_value;

/// The template context at one point of a run. Cheap to clone: the maps are shared until one
/// of the clones changes.
#[derive(Clone, Default)]
pub struct Scope {
    vars: Arc<BTreeMap<Arc<str>, Value>>,
    steps: Arc<BTreeMap<Arc<str>, Value>>,
    /// Names over `vars` that only this scope has: a loop item's variable and `loop`, so that
    /// each item's scope shares the loop's maps instead of copying them.
    local: Arc<[(Arc<str>, Value)]>,
    /// Inside a loop item: its index and the loop variable's name, for messages.
    item: Option<(usize, Arc<str>)>,
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

    /// The starting scope of a run's recipe. A long list input is not converted into
    /// template values: templates read it in place, an item at a time — from the bound
    /// inputs, or for the rows of a large CSV or NDJSON file (`rows`), from the file.
    pub fn of_inputs(
        inputs: &Arc<serde_json::Map<String, serde_json::Value>>,
        rows: &crate::plan::bind::RowInputs,
        secrets: &indexmap::IndexMap<String, String>,
    ) -> Scope {
        let values = inputs.iter().map(|(name, value)| {
            let value = match (rows.get(name), value.as_array()) {
                (Some(rows), _) => InputList::of_file(rows.clone()),
                (None, Some(items)) if items.len() >= LONG_LIST => {
                    InputList::of_bound(inputs.clone(), name.clone(), items.len())
                }
                _ => to_value(value),
            };
            (name.clone(), value)
        });
        let mut scope = Scope::default();
        scope.set("inputs", Value::from_pairs(values));
        scope.set("secrets", to_value(secrets));
        scope
    }

    pub fn set(&mut self, name: &str, value: Value) {
        self.set_named(Arc::from(name), value);
    }

    /// Sets a name made once for many scopes.
    pub fn set_named(&mut self, name: Arc<str>, value: Value) {
        if self.local.iter().any(|(n, _)| *n == name) {
            self.local = self
                .local
                .iter()
                .filter(|(n, _)| *n != name)
                .cloned()
                .collect();
        }
        Arc::make_mut(&mut self.vars).insert(name, value);
    }

    /// This scope with `names` over it (a loop item's variable and `loop`).
    pub fn with_local<const N: usize>(&self, names: [(Arc<str>, Value); N]) -> Scope {
        Scope {
            vars: self.vars.clone(),
            steps: self.steps.clone(),
            local: self.local.iter().cloned().chain(names).collect(),
            item: self.item.clone(),
        }
    }

    /// The same scope, as the one of item `index` whose loop variable is `var`.
    pub fn for_item(mut self, index: usize, var: &Arc<str>) -> Scope {
        self.item = Some((index, var.clone()));
        self
    }

    /// The loop item this scope is in, for a terminal line: the item's value when it is
    /// short (`104`), else its index (`#3`). Made only when asked for.
    pub fn item_label(&self) -> Option<String> {
        let (index, var) = self.item.as_ref()?;
        let value = self.local.iter().find(|(n, _)| n == var).map(|(_, v)| v);
        let text = match value {
            Some(v) if v.as_str().is_some() => v.as_str().map(str::to_owned),
            Some(v) if v.is_number() => Some(v.to_string()),
            _ => None,
        };
        Some(match text {
            Some(text) if text.chars().count() <= 40 && !text.contains(char::is_whitespace) => text,
            _ => format!("#{index}"),
        })
    }

    pub fn set_json(&mut self, name: &str, value: &serde_json::Value) {
        self.set(name, to_value(value));
    }

    pub fn set_step(&mut self, id: &str, value: Value) {
        Arc::make_mut(&mut self.steps).insert(Arc::from(id), value);
    }

    /// The context value templates are rendered with: a view of this scope as it is now,
    /// looked up by name (nothing is copied).
    pub fn value(&self) -> Value {
        Value::from_object(self.clone())
    }
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.vars.keys().map(|k| (k, "")))
            .finish()
    }
}

impl Object for Scope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        if let Some((_, value)) = self.local.iter().rev().find(|(n, _)| n.as_ref() == name) {
            return Some(value.clone());
        }
        if name == "steps" {
            return Some(Value::from_object(Steps(self.steps.clone())));
        }
        self.vars.get(name).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = self
            .vars
            .keys()
            .filter(|k| !self.local.iter().any(|(n, _)| n == *k))
            .map(|k| Value::from(k.as_ref()))
            .collect();
        keys.extend(self.local.iter().map(|(n, _)| Value::from(n.as_ref())));
        keys.push(Value::from("steps"));
        Enumerator::Values(keys)
    }
}

/// `steps`: each step's `steps.<id>` value by id.
#[derive(Debug)]
struct Steps(Arc<BTreeMap<Arc<str>, Value>>);

impl Object for Steps {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.get(key.as_str()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.keys().map(|k| Value::from(k.as_ref())).collect())
    }
}

/// `loop.index`, `loop.index0`, `loop.length`, `loop.first`, `loop.last` for item `index`.
pub fn loop_value(index: usize, length: usize) -> Value {
    Value::from_object(Loop { index, length })
}

#[derive(Debug)]
struct Loop {
    index: usize,
    length: usize,
}

impl Object for Loop {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (index, length) = (self.index, self.length);
        Some(match key.as_str()? {
            "index" => Value::from(index + 1),
            "index0" => Value::from(index),
            "length" => Value::from(length),
            "first" => Value::from(index == 0),
            "last" => Value::from(index + 1 == length),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["index", "index0", "length", "first", "last"])
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

    #[test]
    fn a_long_list_input_reads_like_the_list() {
        let rows: Vec<serde_json::Value> = (0..LONG_LIST + 5)
            .map(|i| serde_json::json!({"id": i, "name": format!("n{i}")}))
            .collect();
        let inputs = serde_json::json!({"base": "b", "rows": rows, "short": [1, 2]});
        let inputs = Arc::new(inputs.as_object().unwrap().clone());
        let scope = Scope::of_inputs(&inputs, &Default::default(), &Default::default());
        let env = minijinja::Environment::new();
        let out = env
            .render_str(
                "{{ inputs.base }} {{ inputs.rows | length }} {{ inputs.rows[3].name }} \
                 {{ inputs.rows | map(attribute='id') | sum }} {{ inputs.rows[-1].id }} \
                 {{ (inputs.rows | first).name }} {{ inputs.short }} {{ inputs | list }}",
                scope.value(),
            )
            .unwrap();
        let n = LONG_LIST + 5;
        assert_eq!(
            out,
            format!(
                "b {n} n3 {} {} n0 [1, 2] ['base', 'rows', 'short']",
                n * (n - 1) / 2,
                n - 1
            )
        );
        let json = serde_json::to_value(scope.value().get_attr("inputs").unwrap()).unwrap();
        assert_eq!(json["rows"], serde_json::Value::Array(rows));
    }

    #[test]
    fn a_clone_changes_alone_and_loop_reads_like_a_map() {
        let mut base = Scope::new(&serde_json::Map::new(), &Default::default());
        base.set_json("shared", &serde_json::json!("s"));
        let mut item = base.with_local([
            (Arc::from("item"), to_value(&3)),
            (Arc::from("loop"), loop_value(2, 3)),
        ]);
        let env = minijinja::Environment::new();
        let render = |scope: &Scope, text: &str| env.render_str(text, scope.value()).unwrap();
        assert_eq!(
            render(
                &item,
                "{{ shared }} {{ item }} {{ loop.index }}/{{ loop.length }} {{ loop.last }} {{ loop | tojson }}"
            ),
            r#"s 3 3/3 True {"index": 3, "index0": 2, "length": 3, "first": false, "last": true}"#
        );
        assert_eq!(
            render(&base, "{{ item is defined }} {{ steps | length }}"),
            "False 0"
        );
        item.set_json("item", &serde_json::json!("set later"));
        item.set_json("shared", &serde_json::json!("mine"));
        assert_eq!(
            render(&item, "{{ item }} {{ shared }} {{ loop.index }}"),
            "set later mine 3"
        );
        assert_eq!(render(&base, "{{ shared }}"), "s");
    }
}
