//! After a run: the JUnit and Markdown files asked for, and the Markdown summary appended to
//! `$GITHUB_STEP_SUMMARY`. A file that cannot be written fails the run; the others are still
//! written.

use std::path::{Path, PathBuf};

use crate::diagnostic::{CommandKind, Diagnostic, Kind};
use crate::redact::Masked;
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

impl Files {
    /// Every file, with what it holds.
    pub fn each(&self) -> impl Iterator<Item = (&'static str, &Path)> {
        [
            ("the JUnit report", &self.junit),
            ("the summary", &self.summary),
            ("the GitHub step summary", &self.step_summary),
        ]
        .into_iter()
        .filter_map(|(what, path)| path.as_deref().map(|p| (what, p)))
    }
}

/// Problems with the files a run is asked to write, found before it starts: each flag's file
/// must be in a folder that exists (a run that ends with "cannot write the report" has
/// already sent everything).
pub fn check_folders<'a>(
    files: impl IntoIterator<Item = (&'static str, &'a Path)>,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for (flag, path) in files {
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => continue,
        };
        if !folder.is_dir() {
            let what = if folder.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            problems.push(
                Diagnostic::new(
                    Kind::Command(CommandKind::File),
                    format!(
                        "`{flag} {}`: the folder `{}` {what}",
                        path.display(),
                        folder.display()
                    ),
                )
                .help(format!(
                    "create it first (`mkdir -p {}`), or give another path",
                    folder.display()
                )),
            );
        }
    }
    problems
}

/// Writes every file in `files`; returns the ones that could not be written.
pub fn write_files(
    report: &Masked<Report>,
    files: &Files,
) -> Vec<(&'static str, PathBuf, std::io::Error)> {
    let mut failed = Vec::new();
    let mut check = |what, path: &Path, result: std::io::Result<()>| {
        if let Err(error) = result {
            failed.push((what, path.to_path_buf(), error));
        }
    };
    if let Some(path) = &files.junit {
        check("the JUnit report", path, write_junit(report, path));
    }
    if let Some(path) = &files.summary {
        check("the summary", path, write_markdown(report, path));
    }
    if let Some(path) = &files.step_summary {
        check(
            "the GitHub step summary",
            path,
            append_markdown(report, path),
        );
    }
    failed
}

/// A report file that could not be written.
pub fn cannot_write(what: &str, path: &Path, error: &std::io::Error) -> Diagnostic {
    Diagnostic::new(
        Kind::Command(CommandKind::File),
        format!("cannot write {what} to `{}`: {error}", path.display()),
    )
    .help("check that its folder exists and can be written to")
}
