//! After a run: write the JUnit and Markdown files asked for, and append the Markdown summary
//! to `$GITHUB_STEP_SUMMARY`. A file that cannot be written is an error on stderr and fails
//! the run; the others are still written.

use std::path::{Path, PathBuf};

use crate::redact::Redactor;
use crate::report::{Report, append_markdown, write_junit, write_markdown};

/// Report files besides the JSON report.
#[derive(Clone, Debug, Default)]
pub struct Files {
    /// `--junit FILE.xml`
    pub junit: Option<PathBuf>,
    /// `--summary FILE.md`
    pub summary: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`, appended to.
    pub step_summary: Option<PathBuf>,
}

/// Writes every file in `files`; false when one could not be written.
pub fn write_files(report: &Report, redactor: &Redactor, files: &Files) -> bool {
    let mut ok = true;
    let mut check = |what: &str, path: &Path, result: std::io::Result<()>| {
        if let Err(error) = result {
            eprintln!(
                "error: cannot write the {what} to `{}`: {error}",
                path.display()
            );
            ok = false;
        }
    };
    if let Some(path) = &files.junit {
        check("JUnit report", path, write_junit(report, redactor, path));
    }
    if let Some(path) = &files.summary {
        check("summary", path, write_markdown(report, redactor, path));
    }
    if let Some(path) = &files.step_summary {
        check(
            "GitHub step summary",
            path,
            append_markdown(report, redactor, path),
        );
    }
    ok
}
