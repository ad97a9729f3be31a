//! The inter-process lock of one key: an exclusive `flock` on `<key>.lock`, held while tokens
//! are read, refreshed and written, so that two processes never spend one rotating refresh
//! token. The lock file is never removed (removing it would let two holders race).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::{StoreError, StoreErrorKind};
use super::file::{ensure_dir, private_options};

/// How often a waiting process tries the lock again.
const POLL: Duration = Duration::from_millis(20);

/// A held lock; dropping it (or the process ending, however it ends) releases it.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    pub path: PathBuf,
}

/// Waits for the lock at `path` for at most `wait`.
pub async fn acquire(path: &Path, wait: Duration) -> Result<FileLock, StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let file = private_options(false)
        .open(path)
        .map_err(|e| StoreError::io(path, "open the lock", e))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => {
                return Ok(FileLock {
                    _file: file,
                    path: path.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                tokio::time::sleep(POLL).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::file(path, StoreErrorKind::LockTimeout(wait)));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::io(path, "lock", e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.lock");
        let first = acquire(&path, Duration::from_secs(1)).await.unwrap();
        let error = acquire(&path, Duration::from_millis(60)).await.unwrap_err();
        assert!(matches!(error.kind, StoreErrorKind::LockTimeout(_)));
        drop(first);
        assert!(acquire(&path, Duration::from_millis(60)).await.is_ok());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_planted_symlink_is_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me").unwrap();
        let path = dir.path().join("k.lock");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(acquire(&path, Duration::from_millis(60)).await.is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    }
}
