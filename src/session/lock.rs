//! `--lock FILE`: a run refuses to start while another holds the lock (cron overlaps).

use std::path::Path;

use crate::diagnostic::{CommandKind, Diagnostic, Kind};

/// Takes an exclusive lock on `path` (created if needed) without waiting; the lock holds
/// as long as the file stays open.
pub fn take_lock(path: &Path) -> Result<std::fs::File, Diagnostic> {
    let problem = |message: String| Diagnostic::new(Kind::Command(CommandKind::Lock), message);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| problem(format!("cannot open lock file `{}`: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(problem(format!(
            "another run holds the lock `{}`; nothing was sent",
            path.display()
        ))
        .help("wait for it to end; `--lock` keeps scheduled runs from overlapping")),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(problem(format!("cannot lock `{}`: {e}", path.display())))
        }
    }
}
