//! The token store in PostgreSQL (`--token-store postgres://USER@HOST:PORT/DB`), for runs on
//! several machines — the shards of a Kubernetes Job — that share one rotating refresh token.
//! One row per key in the table `whisk_tokens` (created when missing); the lock of a key is a
//! session advisory lock held on a connection of its own while tokens are read, refreshed and
//! written, so that it goes when that connection closes, however the process ends. The
//! password comes from the URL or, better, from `PGPASSWORD`; it is never shown. Each
//! operation opens its own connection on the runtime it runs on (refreshes are rare; a shared
//! connection would tie every worker thread to one runtime).

use std::str::FromStr;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, Config, NoTls};

use super::error::{StoreError, StoreErrorKind};
use super::file::{parse, render};
use super::record::Record;

/// How often a waiting process tries the lock again.
const POLL: Duration = Duration::from_millis(50);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Creates the table once, whatever number of processes try at once (CREATE TABLE IF NOT
/// EXISTS alone may fail when two race).
const SCHEMA: &str = "BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('whisk-token-store/schema', 0));
CREATE TABLE IF NOT EXISTS whisk_tokens (
    key text PRIMARY KEY,
    record text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMIT;";

/// A PostgreSQL database that holds a token store.
#[derive(Debug)]
pub struct Database {
    config: Config,
    /// The URL without its password, for messages.
    shown: String,
    table_ready: tokio::sync::OnceCell<()>,
}

/// A held lock: its connection. Dropping it closes the connection, which ends the lock.
pub struct DbLock {
    _client: Client,
}

impl std::fmt::Debug for DbLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbLock")
    }
}

/// Whether `text` names a PostgreSQL database rather than a directory.
pub fn is_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

impl Database {
    /// The database of `url`; `password` (from `PGPASSWORD`) when the URL has none.
    pub fn parse(url: &str, password: Option<String>) -> Result<Database, String> {
        let mut config = Config::from_str(url).map_err(|e| {
            format!(
                "`--token-store` is not a PostgreSQL URL ({e}): write postgres://USER@HOST:PORT/DATABASE, with the password in PGPASSWORD"
            )
        })?;
        if config.get_password().is_none()
            && let Some(password) = password.filter(|p| !p.is_empty())
        {
            config.password(password);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("whisk");
        }
        let shown = shown(&config);
        Ok(Database {
            config,
            shown,
            table_ready: tokio::sync::OnceCell::new(),
        })
    }

    /// `postgres://USER@HOST:PORT/DB`, without a password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn place(&self, key: &str) -> String {
        format!("key `{key}` in the token store {}", self.shown)
    }

    fn failed(
        &self,
        key: Option<&str>,
        action: &'static str,
        error: &tokio_postgres::Error,
    ) -> StoreError {
        StoreError {
            place: key.map_or_else(
                || format!("the token store {}", self.shown),
                |k| self.place(k),
            ),
            kind: StoreErrorKind::Database {
                action,
                error: describe(error),
            },
        }
    }

    /// A new connection, its driver spawned on this runtime, with the table in place.
    async fn connect(&self, key: Option<&str>) -> Result<Client, StoreError> {
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(|e| self.failed(key, "connect to", &e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.table_ready
            .get_or_try_init(|| async {
                client
                    .batch_execute(SCHEMA)
                    .await
                    .map_err(|e| self.failed(key, "create the table `whisk_tokens` of", &e))
            })
            .await?;
        Ok(client)
    }

    pub async fn read(&self, key: &str) -> Result<Option<Record>, StoreError> {
        let client = self.connect(Some(key)).await?;
        let row = client
            .query_opt("SELECT record FROM whisk_tokens WHERE key = $1", &[&key])
            .await
            .map_err(|e| self.failed(Some(key), "read", &e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let text: String = row
            .try_get(0)
            .map_err(|e| self.failed(Some(key), "read", &e))?;
        parse(&text).map(Some).map_err(|kind| StoreError {
            place: self.place(key),
            kind,
        })
    }

    pub async fn write(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        let client = self.connect(Some(key)).await?;
        let text = render(record);
        client
            .execute(
                "INSERT INTO whisk_tokens (key, record, updated_at) VALUES ($1, $2, now())
                 ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record, updated_at = now()",
                &[&key, &text],
            )
            .await
            .map_err(|e| self.failed(Some(key), "write", &e))?;
        Ok(())
    }

    pub async fn remove(&self, key: &str) -> Result<bool, StoreError> {
        let client = self.connect(Some(key)).await?;
        let removed = client
            .execute("DELETE FROM whisk_tokens WHERE key = $1", &[&key])
            .await
            .map_err(|e| self.failed(Some(key), "remove", &e))?;
        Ok(removed > 0)
    }

    pub async fn keys(&self) -> Result<Vec<String>, StoreError> {
        let client = self.connect(None).await?;
        let rows = client
            .query("SELECT key FROM whisk_tokens ORDER BY key", &[])
            .await
            .map_err(|e| self.failed(None, "list the keys of", &e))?;
        rows.iter()
            .map(|row| {
                row.try_get(0)
                    .map_err(|e| self.failed(None, "list the keys of", &e))
            })
            .collect()
    }

    /// Waits (at most `wait`) until no other process holds `key`, and holds it.
    pub async fn lock(&self, key: &str, wait: Duration) -> Result<DbLock, StoreError> {
        let client = self.connect(Some(key)).await?;
        let name = format!("whisk-token-store/{key}");
        let deadline = Instant::now() + wait;
        loop {
            let row = client
                .query_one(
                    "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                    &[&name],
                )
                .await
                .map_err(|e| self.failed(Some(key), "lock", &e))?;
            let held: bool = row
                .try_get(0)
                .map_err(|e| self.failed(Some(key), "lock", &e))?;
            if held {
                return Ok(DbLock { _client: client });
            }
            if Instant::now() >= deadline {
                return Err(StoreError {
                    place: self.place(key),
                    kind: StoreErrorKind::LockTimeout(wait),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The URL of `config` without its password.
fn shown(config: &Config) -> String {
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config
        .get_ports()
        .first()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{host}{port}/{db}")
}

/// A database error with the server's message (and detail), without the source chain's
/// repetition.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(inner) = source {
                let more = inner.to_string();
                if !text.contains(&more) {
                    text.push_str(": ");
                    text.push_str(&more);
                }
                source = inner.source();
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let db = Database::parse("postgres://whisk:hunter2@db.internal:5433/tokens", None).unwrap();
        assert_eq!(db.shown(), "postgres://whisk@db.internal:5433/tokens");
        let from_env =
            Database::parse("postgresql://whisk@127.0.0.1/whisk", Some("pw".into())).unwrap();
        assert_eq!(from_env.config.get_password(), Some(&b"pw"[..]));
        assert_eq!(from_env.shown(), "postgres://whisk@127.0.0.1:5432/whisk");
        let error = Database::parse("postgres://whisk:hunter2@db:notaport/x", None).unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(is_url("postgres://x") && is_url("postgresql://x") && !is_url("/var/tokens"));
    }
}
