//! Source files: a recipe's text and path, and lookups from field paths to line and column.

mod field_path;
mod index;
pub mod read;
pub mod rows;

pub use field_path::FieldPath;
pub use index::PositionIndex;

use std::path::{Path, PathBuf};

/// A position in a source file, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// Where an error points in a file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// The text of the line, for the snippet.
    #[serde(skip)]
    pub source_line: Option<String>,
}

/// The text of one file, kept so that errors can quote the offending line and, for a
/// format whose reader indexes it (`with_index`), point at a field.
#[derive(Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    /// Builds the index of positions from the text, the first time one is asked for.
    indexer: fn(&str) -> PositionIndex,
    index: std::sync::OnceLock<PositionIndex>,
}

impl Source {
    /// A file whose fields have no known positions (errors name its lines only).
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Source {
        Source {
            path: path.into(),
            text: text.into(),
            indexer: |_| PositionIndex::default(),
            index: std::sync::OnceLock::new(),
        }
    }

    /// The same file, its field positions found by `indexer` (the YAML reader's, for
    /// recipes) when first needed.
    pub fn with_index(mut self, indexer: fn(&str) -> PositionIndex) -> Source {
        self.indexer = indexer;
        self
    }

    pub fn read(path: &Path) -> std::io::Result<Source> {
        Ok(Source::new(path, read::text(path, read::RECIPE)?))
    }

    /// The display name of the file, as the user gave it.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The position of the value at `path`, falling back to its closest known ancestor.
    pub fn value_position(&self, path: &FieldPath) -> Option<Position> {
        self.index().lookup(path, false)
    }

    /// The position of the key that introduces `path` (for unknown or duplicate keys).
    pub fn key_position(&self, path: &FieldPath) -> Option<Position> {
        self.index().lookup(path, true)
    }

    fn index(&self) -> &PositionIndex {
        self.index.get_or_init(|| (self.indexer)(&self.text))
    }

    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: u32) -> Option<&str> {
        self.text.lines().nth(line.checked_sub(1)? as usize)
    }
}
