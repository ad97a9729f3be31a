//! The JUnit XML writer (`--junit FILE`), for the test reporters of GitHub Actions, GitLab and
//! Jenkins: one test suite per run, one test case per step, `for_each` iteration and step of a
//! block or used recipe (see `cases`). From a masked report; written atomically.
//!
//! Names follow what those reporters show: `classname` is the recipe name, followed by the
//! top-level step for cases inside a loop, block or used recipe (Jenkins reads the last dotted
//! part as the class); `name` is the case's path (`loop[2]/inner (104)`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use super::atomic::write_atomically;
use super::cases::{Case, cases};
use crate::redact::Masked;
use crate::result::{Exchange, Status};

/// The report as JUnit XML.
pub fn to_junit(report: &Masked<Report>) -> Result<String, String> {
    let recipe = report.recipe.name.clone();
    let mut suite = TestSuite::new(recipe.as_str());
    if let Ok(started) = chrono::DateTime::parse_from_rfc3339(&report.started_at) {
        suite.set_timestamp(started);
    }
    suite.set_time(Duration::from_millis(report.duration_ms));
    suite.add_property(Property::new("recipe", report.recipe.path.as_str()));
    suite.add_property(Property::new(
        "whisk_version",
        report.whisk_version.as_str(),
    ));
    // JUnit lists every item: a spooled loop's are read back from its spool.
    let result = report.result.unspooled(true).map_err(|e| e.to_string())?;
    for case in cases(&result) {
        suite.add_test_case(test_case(&case, &recipe));
    }
    let mut junit = quick_junit::Report::new("whisk");
    junit.set_time(Duration::from_millis(report.duration_ms));
    if let Ok(started) = chrono::DateTime::parse_from_rfc3339(&report.started_at) {
        junit.set_timestamp(started);
    }
    junit.add_test_suite(suite);
    junit.to_string().map_err(|e| e.to_string())
}

/// Writes the JUnit XML to `path` atomically.
pub fn write_junit(report: &Masked<Report>, path: &Path) -> std::io::Result<()> {
    let text = to_junit(report).map_err(std::io::Error::other)?;
    write_atomically(path, text.as_bytes())
}

fn test_case(case: &Case<'_>, recipe: &str) -> TestCase {
    let status = match case.status {
        Status::Succeeded => TestCaseStatus::success(),
        Status::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message("skipped: `when` was false");
            status
        }
        Status::Interrupted => {
            let mut status = TestCaseStatus::skipped();
            status.set_message("interrupted: the run was stopped before this finished");
            status
        }
        Status::NotRun => {
            let mut status = TestCaseStatus::skipped();
            status.set_message("not run: an earlier step failed and the recipe stopped");
            status
        }
        Status::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let (message, kind) = match case.error {
                Some(error) => (
                    error.message.clone(),
                    serde_json::to_value(error.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                ),
                None => ("failed".to_string(), String::new()),
            };
            status.set_description(message.as_str());
            status.set_message(first_line(&message));
            if !kind.is_empty() {
                status.set_type(kind);
            }
            status
        }
    };
    let mut test = TestCase::new(case.title(), status);
    match case.group {
        Some(group) => test.set_classname(format!("{recipe}.{group}")),
        None => test.set_classname(recipe),
    };
    test.set_time(Duration::from_millis(case.duration_ms));
    if let Some(exchange) = case.request {
        test.set_system_out(attempts(exchange));
    }
    test
}

/// The request and each attempt, one line each: what a person reads first in a CI log.
pub fn attempts(exchange: &Exchange) -> String {
    let mut out = format!("{} {}\n", exchange.method, exchange.url);
    for (n, attempt) in exchange.attempts.iter().enumerate() {
        let _ = write!(out, "  attempt {}: ", n + 1);
        match (attempt.status, &attempt.error) {
            (_, Some(error)) => {
                let _ = write!(out, "{error}");
            }
            (Some(status), None) => {
                let _ = write!(out, "{status} in {}ms", attempt.duration_ms);
            }
            (None, None) => out.push_str("no answer"),
        }
        match (attempt.outcome.as_deref(), attempt.wait_ms) {
            (Some("token_refresh"), _) => out.push_str(", token refreshed and request resent"),
            (Some(_), Some(wait)) => {
                let _ = write!(out, ", retried after {wait}ms");
            }
            _ => {}
        }
        out.push('\n');
        for hop in &attempt.redirects {
            let _ = writeln!(out, "    redirected ({}) to {}", hop.status, hop.location);
        }
    }
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
