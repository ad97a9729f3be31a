//! Files of the store on disk: the directory (mode 0700), records written atomically (a
//! temporary file in the same directory, fsync, rename, fsync of the directory) with mode
//! 0600, and read whole.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

use super::error::{StoreError, StoreErrorKind};
use super::record::{Record, VERSION};

/// Creates the store directory (and its parents) when missing; the directory itself gets 0700.
pub fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| StoreError::io(dir, "create the directory of", e))
}

/// Opens a file that only its owner may read or write, creating it when `create`.
pub fn private_options(create_new: bool) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
        // A symlink planted at the name is refused, not followed.
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Reads a record; `None` when there is none.
pub fn read(path: &Path) -> Result<Option<Record>, StoreError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(path, "read", e)),
    };
    parse(&text)
        .map(Some)
        .map_err(|kind| StoreError::file(path, kind))
}

/// Replaces `path` with `record` so that readers see the old file or the new one, never a
/// part, and the new one survives a crash once this returns.
pub fn write_atomic(path: &Path, record: &Record) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let mut text = render(record).into_bytes();
    text.push(b'\n');
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut file = private_options(true)
            .open(&temp)
            .map_err(|e| StoreError::io(&temp, "create", e))?;
        file.write_all(&text)
            .map_err(|e| StoreError::io(&temp, "write", e))?;
        file.sync_all()
            .map_err(|e| StoreError::io(&temp, "sync", e))?;
        fs::rename(&temp, path).map_err(|e| StoreError::io(path, "replace", e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// A record from its JSON text, of this whisk's format version.
pub fn parse(text: &str) -> Result<Record, StoreErrorKind> {
    // serde_json's message names a line and column, never the text itself.
    let record: Record =
        serde_json::from_str(text).map_err(|e| StoreErrorKind::Corrupt(e.to_string()))?;
    if record.version != VERSION {
        return Err(StoreErrorKind::Corrupt(format!(
            "format version {} is not {VERSION}",
            record.version
        )));
    }
    Ok(record)
}

/// A record as the JSON text the store keeps.
pub fn render(record: &Record) -> String {
    // A record is strings and numbers: serialising it cannot fail.
    serde_json::to_string_pretty(record).unwrap_or_default()
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let handle =
            File::open(dir).map_err(|e| StoreError::io(dir, "open the directory of", e))?;
        handle
            .sync_all()
            .map_err(|e| StoreError::io(dir, "sync the directory of", e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes a record; `false` when there was none.
pub fn remove(path: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => {
            let dir = path.parent().unwrap_or(Path::new("."));
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io(path, "remove", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(refresh: &str) -> Record {
        Record {
            version: VERSION,
            token_url: "http://127.0.0.1:1/token".into(),
            client_id: "c".into(),
            obtained_by: "refresh_token".into(),
            access_token: Some("a".into()),
            expires_at: Some(100),
            expires_at_ms: None,
            lifetime: Some(60),
            lifetime_ms: None,
            refresh_token: Some(refresh.into()),
            seed_sha256: None,
            updated_at: 40,
        }
    }

    #[test]
    fn writes_atomically_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("deep").join("tokens");
        let path = store.join("k.json");
        assert_eq!(read(&path).unwrap(), None);
        write_atomic(&path, &record("r1")).unwrap();
        write_atomic(&path, &record("r2")).unwrap();
        assert_eq!(read(&path).unwrap(), Some(record("r2")));
        let names: Vec<String> = fs::read_dir(&store)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["k.json"], "no temporary file is left behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&store), 0o700);
        }
        assert!(remove(&path).unwrap());
        assert!(!remove(&path).unwrap());
    }

    #[test]
    fn a_foreign_file_is_reported_not_parsed_into_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        fs::write(&path, "{\"refresh_token\": \"zzz-secret\"").unwrap();
        let error = read(&path).unwrap_err().to_string();
        assert!(error.contains("is not a whisk token record"), "{error}");
        assert!(!error.contains("zzz-secret"));
    }
}
