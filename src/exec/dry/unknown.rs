//! Values a dry run cannot know (captures, `steps.<id>`, loop items over captures): template
//! objects that render as a sentinel, which the script shows as a shell variable. Reading an
//! attribute of one gives another (`item.name` → `$ITEM_NAME`).

use std::fmt;
use std::sync::{Arc, Mutex};

use minijinja::Value;
use minijinja::value::{Object, ObjectRepr};

/// The unknown values met so far, by index.
#[derive(Debug, Default)]
pub struct Unknowns {
    entries: Mutex<Vec<Entry>>,
}

#[derive(Clone, Debug)]
pub struct Entry {
    /// The shell variable shown for it.
    pub var: String,
    /// What it stands for (`steps.list.captures.ids` style).
    pub what: String,
}

impl Unknowns {
    /// A value standing for `what`, shown as `$VAR` (VAR from `name`).
    pub fn value(self: &Arc<Self>, name: &str, what: &str) -> Value {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(index) = entries.iter().position(|e| e.what == what) {
            return Value::from_object(Unknown {
                index,
                registry: self.clone(),
            });
        }
        let base = shell_name(name);
        let mut var = base.clone();
        let mut n = 2;
        while entries.iter().any(|e| e.var == var) {
            var = format!("{base}_{n}");
            n += 1;
        }
        entries.push(Entry {
            var,
            what: what.to_string(),
        });
        Value::from_object(Unknown {
            index: entries.len() - 1,
            registry: self.clone(),
        })
    }

    /// `(sentinel, entry)` for every unknown.
    pub fn all(&self) -> Vec<(String, Entry)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| (sentinel(i), e.clone()))
            .collect()
    }

    fn entry(&self, index: usize) -> Entry {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries[index].clone()
    }
}

/// Letters and digits only, upper case, so that it survives URL, form and JSON encoding and
/// the `upper` filter.
fn sentinel(index: usize) -> String {
    format!("WHISKUNKNOWN{index}X")
}

/// `name` as an upper-case shell variable name.
pub fn shell_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[derive(Debug)]
struct Unknown {
    index: usize,
    registry: Arc<Unknowns>,
}

impl Object for Unknown {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let parent = self.registry.entry(self.index);
        let key = key.to_string();
        Some(self.registry.value(
            &format!("{}_{key}", parent.var),
            &format!("{}.{key}", parent.what),
        ))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sentinel(self.index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknowns_render_as_sentinels_and_grow_attributes() {
        let unknowns = Arc::new(Unknowns::default());
        let item = unknowns.value("app", "each item of steps.list.captures.apps");
        let env = minijinja::Environment::new();
        let text = env
            .render_str(
                "/apps/{{ app.id }}?n={{ app }}",
                minijinja::context! { app => item },
            )
            .unwrap();
        assert_eq!(text, "/apps/WHISKUNKNOWN1X?n=WHISKUNKNOWN0X");
        let all = unknowns.all();
        assert_eq!(all[1].1.var, "APP_ID");
        assert_eq!(all[1].1.what, "each item of steps.list.captures.apps.id");
        assert_eq!(shell_name("first-app"), "FIRST_APP");
        assert_eq!(shell_name("1x"), "_1X");
    }
}
