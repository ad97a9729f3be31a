//! The JSON report writer: masked, pretty, written atomically.

use std::path::Path;

use super::Report;
use super::atomic::write_atomically;
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
