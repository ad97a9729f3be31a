//! The token store: a directory with one JSON file per key (`<key>.json`, mode 0600, written
//! atomically) and one lock file per key (`<key>.lock`), so that tokens outlive a run and
//! processes that share a key take turns refreshing them.

mod dir;
mod error;
mod file;
mod key;
mod lock;
mod record;

pub use dir::{from_env as dir_from_env, resolve as resolve_dir};
pub use error::{StoreError, StoreErrorKind};
pub use key::check_key;
pub use lock::Lock;
pub use record::{Record, VERSION, seed_digest, unix_now, unix_now_ms};

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a process waits for another one's refresh before it gives up.
pub const LOCK_WAIT: Duration = Duration::from_secs(60);

/// The store in one directory.
#[derive(Clone, Debug)]
pub struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    pub fn new(dir: impl Into<PathBuf>) -> TokenStore {
        TokenStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `key`, which the caller has checked with `check_key`.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    fn lock_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.lock"))
    }

    pub fn read(&self, key: &str) -> Result<Option<Record>, StoreError> {
        file::read(&self.path(key))
    }

    /// Replaces the record of `key`; hold its lock while deciding what to write.
    pub fn write(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        file::write_atomic(&self.path(key), record)
    }

    /// Removes the record of `key`; `false` when there was none.
    pub fn remove(&self, key: &str) -> Result<bool, StoreError> {
        file::remove(&self.path(key))
    }

    /// Waits (at most `LOCK_WAIT`) until no other process holds `key`, and holds it.
    pub async fn lock(&self, key: &str) -> Result<Lock, StoreError> {
        lock::acquire(&self.lock_path(key), LOCK_WAIT).await
    }

    /// The keys that have a record, sorted.
    pub fn keys(&self) -> Result<Vec<String>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io(&self.dir, "list", e)),
        };
        let mut keys: Vec<String> = entries
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let key = name.strip_suffix(".json")?;
                check_key(key).ok().map(|()| key.to_string())
            })
            .collect();
        keys.sort();
        Ok(keys)
    }
}
