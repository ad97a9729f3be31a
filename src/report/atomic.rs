//! Writing a whole file atomically: a temporary file in the same folder, fsync, rename. Every
//! report writer goes through it, so that a crash never leaves a truncated file.

use std::io::Write;
use std::path::Path;

use super::synced::Synced;

/// Writes `bytes` to `path` atomically (temporary file in the same folder, fsync, rename).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |file| file.write_all(bytes))
}

/// Writes what `write` produces to `path` atomically, streamed through a buffer (a large file
/// is synced as it is written: `Synced`). The temporary
/// file has a random name and is created exclusively (`O_EXCL`), so that a file or symlink
/// planted in the folder is never written through; it is renamed over `path` (a symlink at
/// `path` is replaced, not followed). The file is readable by others (0644), as reports and
/// metrics files are read by CI tools and collectors; their secrets are masked.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<Synced>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    let (file, temp_path) = temp.into_parts();
    let mut file = std::io::BufWriter::with_capacity(64 * 1024, Synced::new(file));
    write(&mut file)?;
    file.into_inner().map_err(|e| e.into_error())?.sync()?;
    // Dropping `temp_path` on an error removes the temporary file.
    temp_path.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_planted_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me").unwrap();
        let report = dir.path().join("report.json");
        std::os::unix::fs::symlink(&target, &report).unwrap();
        // The old predictable temporary name, planted too.
        let planted = dir
            .path()
            .join(format!(".report.json.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        write_atomically(&report, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "{}");
        assert!(!std::fs::symlink_metadata(&report).unwrap().is_symlink());
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(leftovers, 1, "only the planted name");
    }
}
