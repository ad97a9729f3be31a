//! Token store errors: which file, and what went wrong with it.

use std::fmt;
use std::path::PathBuf;

/// A token store operation that failed.
#[derive(Debug)]
pub struct StoreError {
    pub path: PathBuf,
    pub kind: StoreErrorKind,
}

#[derive(Debug)]
pub enum StoreErrorKind {
    /// Reading, writing, renaming or syncing failed.
    Io {
        action: &'static str,
        error: std::io::Error,
    },
    /// The file is not a token record this whisk understands.
    Corrupt(String),
    /// Another process held the lock for longer than the wait allows.
    LockTimeout(std::time::Duration),
}

impl StoreError {
    pub fn io(path: impl Into<PathBuf>, action: &'static str, error: std::io::Error) -> StoreError {
        StoreError {
            path: path.into(),
            kind: StoreErrorKind::Io { action, error },
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.kind {
            StoreErrorKind::Io { action, error } => {
                write!(f, "cannot {action} the token store file `{path}`: {error}")
            }
            StoreErrorKind::Corrupt(detail) => write!(
                f,
                "the token store file `{path}` is not a whisk token record ({detail}); remove it with `whisk auth logout` or by hand"
            ),
            StoreErrorKind::LockTimeout(waited) => write!(
                f,
                "another whisk process has held the lock `{path}` for more than {} s",
                waited.as_secs()
            ),
        }
    }
}

impl std::error::Error for StoreError {}
