//! The JSON report writer: masked, pretty, written atomically.

use std::io::Write;
use std::path::Path;

use super::Report;
use crate::redact::Redactor;

/// The report as JSON with every secret masked.
pub fn to_masked_json(report: &Report, redactor: &Redactor) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
    redactor.mask_value(&mut value);
    value
}

/// Writes the report to `path` through a temporary file and a rename, so that a crash never
/// leaves a truncated report.
pub fn write_json(report: &Report, redactor: &Redactor, path: &Path) -> std::io::Result<()> {
    let value = to_masked_json(report, redactor);
    let mut text = serde_json::to_string_pretty(&value).map_err(std::io::Error::other)?;
    text.push('\n');
    write_atomically(path, text.as_bytes())
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, fsync, rename).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
