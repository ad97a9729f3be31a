//! A list input as templates see it: read an item at a time, never converted whole — a long
//! list of the bound inputs, or the rows of a large CSV or NDJSON file read from the file.

use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

use super::template::to_value;
use crate::source::rows::FileRows;

/// Lists at least this long are read in place (`InputList`) rather than converted.
pub const LONG_LIST: usize = 1024;

/// A list input as templates see it, read when an item is asked for.
#[derive(Debug)]
pub struct InputList {
    items: Items,
    len: usize,
}

#[derive(Debug)]
enum Items {
    /// The bound input of this name.
    Bound(Arc<serde_json::Map<String, serde_json::Value>>, String),
    /// The rows of a file.
    File(Arc<FileRows>),
}

impl Object for InputList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let index = key.as_usize()?;
        match &self.items {
            Items::Bound(inputs, name) => Some(to_value(inputs.get(name)?.as_array()?.get(index)?)),
            Items::File(rows) => Some(to_value(&rows.get(index)?)),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.len)
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len)
    }
}

impl InputList {
    pub fn of_file(rows: Arc<FileRows>) -> Value {
        Value::from_object(InputList {
            len: rows.len(),
            items: Items::File(rows),
        })
    }

    pub fn of_bound(
        inputs: Arc<serde_json::Map<String, serde_json::Value>>,
        name: String,
        len: usize,
    ) -> Value {
        Value::from_object(InputList {
            len,
            items: Items::Bound(inputs, name),
        })
    }
}
