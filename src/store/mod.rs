//! The token store, so that tokens outlive a run and processes that share a key take turns
//! refreshing them. Two backends: a directory with one JSON file per key (`<key>.json`, mode
//! 0600, written atomically) and one lock file per key (`<key>.lock`), for one machine; and a
//! PostgreSQL table with an advisory lock per key (`postgres.rs`), for several.

mod dir;
mod error;
mod file;
mod key;
mod lock;
mod postgres;
mod record;

pub use dir::{location_from_env, resolve as resolve_dir};
pub use error::{StoreError, StoreErrorKind};
pub use key::check_key;
pub use record::{Record, VERSION, seed_digest, unix_now, unix_now_ms};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a process waits for another one's refresh before it gives up.
pub const LOCK_WAIT: Duration = Duration::from_secs(60);

/// The token store: a directory, or a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct TokenStore {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Dir(PathBuf),
    Postgres(Arc<postgres::Database>),
}

/// A held lock of one key; dropping it (or the process ending, however it ends) releases it.
#[derive(Debug)]
pub enum Lock {
    File(lock::FileLock),
    Database(postgres::DbLock),
}

impl TokenStore {
    /// The store in directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> TokenStore {
        TokenStore {
            backend: Backend::Dir(dir.into()),
        }
    }

    /// The store `location` names: a directory, or a `postgres://` URL (its password, when it
    /// has none, from `PGPASSWORD`).
    pub fn open(location: &Path) -> Result<TokenStore, String> {
        match location.to_str().filter(|text| postgres::is_url(text)) {
            Some(url) => {
                let password = std::env::var("PGPASSWORD").ok();
                let database = postgres::Database::parse(url, password)?;
                Ok(TokenStore {
                    backend: Backend::Postgres(Arc::new(database)),
                })
            }
            None => Ok(TokenStore::new(location)),
        }
    }

    /// Where the store is, for messages: the directory, or the URL without its password.
    pub fn place(&self) -> String {
        match &self.backend {
            Backend::Dir(dir) => dir.display().to_string(),
            Backend::Postgres(db) => db.shown().to_string(),
        }
    }

    /// Where `key`'s tokens are, for messages.
    pub fn place_of(&self, key: &str) -> String {
        match &self.backend {
            Backend::Dir(_) => format!("`{}`", self.path(key).display()),
            Backend::Postgres(db) => format!("table `whisk_tokens` of {}", db.shown()),
        }
    }

    /// The file of `key` in a directory store, which the caller has checked with `check_key`.
    pub fn file_of(&self, key: &str) -> Option<PathBuf> {
        match &self.backend {
            Backend::Dir(dir) => Some(dir.join(format!("{key}.json"))),
            Backend::Postgres(_) => None,
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.file_of(key).unwrap_or_default()
    }

    pub async fn read(&self, key: &str) -> Result<Option<Record>, StoreError> {
        match &self.backend {
            Backend::Dir(_) => file::read(&self.path(key)),
            Backend::Postgres(db) => db.read(key).await,
        }
    }

    /// Replaces the record of `key`; hold its lock while deciding what to write.
    pub async fn write(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Dir(_) => file::write_atomic(&self.path(key), record),
            Backend::Postgres(db) => db.write(key, record).await,
        }
    }

    /// Removes the record of `key`; `false` when there was none.
    pub async fn remove(&self, key: &str) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Dir(_) => file::remove(&self.path(key)),
            Backend::Postgres(db) => db.remove(key).await,
        }
    }

    /// Waits (at most `LOCK_WAIT`) until no other process holds `key`, and holds it.
    pub async fn lock(&self, key: &str) -> Result<Lock, StoreError> {
        match &self.backend {
            Backend::Dir(dir) => lock::acquire(&dir.join(format!("{key}.lock")), LOCK_WAIT)
                .await
                .map(Lock::File),
            Backend::Postgres(db) => db.lock(key, LOCK_WAIT).await.map(Lock::Database),
        }
    }

    /// The keys that have a record, sorted.
    pub async fn keys(&self) -> Result<Vec<String>, StoreError> {
        let dir = match &self.backend {
            Backend::Dir(dir) => dir,
            Backend::Postgres(db) => return db.keys().await,
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io(dir, "list", e)),
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
