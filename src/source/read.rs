//! Reading a file the user named, bounded: only regular files (a FIFO would hang the run, a
//! device such as `/dev/zero` never end), and at most a documented size for what the file is.

use std::io::Read;
use std::path::Path;

const MIB: u64 = 1024 * 1024;

/// Recipes, and recipes a `uses:` names.
pub const RECIPE: u64 = 4 * MIB;
/// A secret's `file:` (a key, a certificate chain, a token).
pub const SECRET: u64 = MIB;
/// `--env-file`.
pub const ENV_FILE: u64 = MIB;
/// `--inputs-file`, values or rows.
pub const INPUTS: u64 = 1024 * MIB;
/// `--inputs-file` rows of a CSV or NDJSON file, which are read in place, not loaded.
pub const ROWS: u64 = 64 * 1024 * MIB;
/// `--ca-cert`.
pub const CA_CERT: u64 = 4 * MIB;
/// A JSON report (`--resume`, `whisk report merge`) or a cassette.
pub const REPORT: u64 = 8 * 1024 * MIB;

/// `path` opened, a regular file of at most `cap` bytes (when opened).
pub fn open(path: &Path, cap: u64) -> std::io::Result<std::fs::File> {
    // Looked at before opening: opening a FIFO would wait for a writer.
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    if meta.len() > cap {
        return Err(too_large(cap));
    }
    Ok(file)
}

/// The bytes of `path`, a regular file of at most `cap` bytes.
pub fn bytes(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    let file = open(path, cap)?;
    let meta = file.metadata()?;
    let mut out = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(too_large(cap));
    }
    Ok(out)
}

/// The text of `path` (UTF-8), a regular file of at most `cap` bytes.
pub fn text(path: &Path, cap: u64) -> std::io::Result<String> {
    String::from_utf8(bytes(path, cap)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

fn not_regular() -> std::io::Error {
    std::io::Error::other(
        "it is not a regular file (a directory, a FIFO or a device); whisk reads only files",
    )
}

fn too_large(cap: u64) -> std::io::Error {
    std::io::Error::other(format!(
        "it is larger than {} MiB, the most whisk reads for it",
        cap / MIB
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a");
        std::fs::write(&file, "12345").unwrap();
        assert_eq!(text(&file, 5).unwrap(), "12345");
        assert!(
            text(&file, 4)
                .unwrap_err()
                .to_string()
                .contains("larger than")
        );
        let zero = text(Path::new("/dev/zero"), MIB).unwrap_err().to_string();
        assert!(zero.contains("not a regular file"), "{zero}");
        assert!(
            text(dir.path(), MIB)
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        let fifo = dir.path().join("fifo");
        if std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
        {
            // Refused without opening it (which would wait for a writer).
            assert!(
                text(&fifo, MIB)
                    .unwrap_err()
                    .to_string()
                    .contains("not a regular file")
            );
        }
    }
}
