//! Token store errors: which file or database row, and what went wrong with it.

use std::fmt;
use std::path::Path;

/// A token store operation that failed.
#[derive(Debug)]
pub struct StoreError {
    /// What it failed on: "the token store file `…`", "key `k` in the token store postgres://…".
    pub place: String,
    pub kind: StoreErrorKind,
}

#[derive(Debug)]
pub enum StoreErrorKind {
    /// Reading, writing, renaming or syncing failed.
    Io {
        action: &'static str,
        error: std::io::Error,
    },
    /// Connecting to the database, or a statement, failed.
    Database { action: &'static str, error: String },
    /// The file or row is not a token record this whisk understands.
    Corrupt(String),
    /// Another process held the lock for longer than the wait allows.
    LockTimeout(std::time::Duration),
}

impl StoreError {
    pub fn io(path: impl AsRef<Path>, action: &'static str, error: std::io::Error) -> StoreError {
        StoreError::file(path, StoreErrorKind::Io { action, error })
    }

    /// A problem with a file of the directory store.
    pub fn file(path: impl AsRef<Path>, kind: StoreErrorKind) -> StoreError {
        StoreError {
            place: format!("the token store file `{}`", path.as_ref().display()),
            kind,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = &self.place;
        match &self.kind {
            StoreErrorKind::Io { action, error } => write!(f, "cannot {action} {place}: {error}"),
            StoreErrorKind::Database { action, error } => {
                write!(f, "cannot {action} {place}: {error}")
            }
            StoreErrorKind::Corrupt(detail) => write!(
                f,
                "{place} is not a whisk token record ({detail}); remove it with `whisk auth logout` or by hand"
            ),
            StoreErrorKind::LockTimeout(waited) => write!(
                f,
                "another whisk process has held the lock on {place} for more than {} s",
                waited.as_secs()
            ),
        }
    }
}

impl std::error::Error for StoreError {}
