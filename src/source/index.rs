//! A map from every field path of a document to the line and column of its key and value, so
//! that errors found after deserialisation can still point into the file. The YAML reader
//! (`recipe/positions.rs`) builds it.

use std::collections::HashMap;

use super::{FieldPath, Position};

#[derive(Debug, Default)]
pub struct PositionIndex {
    values: HashMap<FieldPath, Position>,
    keys: HashMap<FieldPath, Position>,
}

impl PositionIndex {
    /// Records where the value at `path` is.
    pub fn value(&mut self, path: FieldPath, position: Position) {
        self.values.insert(path, position);
    }

    /// Records where the key that introduces `path` is.
    pub fn key(&mut self, path: FieldPath, position: Position) {
        self.keys.insert(path, position);
    }

    /// The position of `path` (its key when `key` is set and it has one), or of the closest
    /// ancestor that is known.
    pub fn lookup(&self, path: &FieldPath, key: bool) -> Option<Position> {
        let mut current = Some(path.clone());
        while let Some(path) = current {
            let found = if key {
                self.keys.get(&path).or_else(|| self.values.get(&path))
            } else {
                self.values.get(&path)
            };
            if let Some(position) = found {
                return Some(*position);
            }
            current = path.parent();
        }
        None
    }
}
