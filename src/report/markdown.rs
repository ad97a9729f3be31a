//! The Markdown summary (`--summary FILE`, and `$GITHUB_STEP_SUMMARY`): a table of the steps
//! with their status, item counts, request and duration, then each failure with its message.
//! From a masked report; the file is written atomically, the step summary appended to.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use super::Report;
use super::atomic::write_atomically;
use super::cases::cases;
use super::summary::millis;
use crate::redact::Masked;
use crate::result::{Status, StepResult};

/// At most this many failures are listed; the JSON report has them all.
const MAX_FAILURES: usize = 50;

/// The summary as Markdown.
pub fn to_markdown(report: &Masked<Report>) -> String {
    let result = &report.result;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## whisk: `{}` {} in {}\n",
        code(&report.recipe.name),
        verdict(result.status),
        millis(report.duration_ms)
    );
    out.push_str("| step | status | items | request | duration |\n");
    out.push_str("|---|---|---|---|---|\n");
    for step in &result.steps {
        row(&mut out, step);
    }
    let count = |status| result.steps.iter().filter(|s| s.status == status).count();
    let not_run = match count(Status::NotRun) {
        0 => String::new(),
        n => format!(", {n} not run"),
    };
    let _ = writeln!(
        out,
        "\n{}: {} succeeded, {} failed, {} skipped{not_run}.",
        crate::plural::count(result.steps.len(), "step", "steps"),
        count(Status::Succeeded),
        count(Status::Failed),
        count(Status::Skipped)
    );
    // A spooled loop's failed items, as far as they are kept in memory; the count is whole.
    let kept = result
        .unspooled(false)
        .unwrap_or(std::borrow::Cow::Borrowed(result));
    let failures: Vec<_> = cases(&kept)
        .into_iter()
        .filter(|c| c.status == Status::Failed)
        .collect();
    let total = failures.len() + result.failures_not_kept();
    if !failures.is_empty() {
        out.push_str("\n### Failures\n");
        for case in failures.iter().take(MAX_FAILURES) {
            let message = case
                .error
                .map(|e| e.message.clone())
                .unwrap_or_else(|| "failed".into());
            let _ = writeln!(
                out,
                "\n**`{}`**\n\n{}",
                code(&case.title()),
                fenced(&message)
            );
        }
        if total > MAX_FAILURES {
            let _ = writeln!(
                out,
                "\n…and {} more failures; the JSON report (`--report`) lists them all.",
                total - MAX_FAILURES
            );
        }
    }
    let warnings: Vec<(&str, &String)> = result
        .steps
        .iter()
        .flat_map(|s| s.warnings.iter().map(move |w| (s.id.as_str(), w)))
        .collect();
    if !warnings.is_empty() {
        out.push_str("\n### Warnings\n\n");
        for (step, warning) in warnings {
            let _ = writeln!(out, "- `{}`: {}", code(step), cell(warning));
        }
    }
    out
}

/// Writes the summary to `path` atomically.
pub fn write_markdown(report: &Masked<Report>, path: &Path) -> std::io::Result<()> {
    write_atomically(path, to_markdown(report).as_bytes())
}

/// Appends the summary to `path` (GitHub's `$GITHUB_STEP_SUMMARY`, which other steps share).
pub fn append_markdown(report: &Masked<Report>, path: &Path) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(to_markdown(report).as_bytes())?;
    file.write_all(b"\n")
}

fn row(out: &mut String, step: &StepResult) {
    let items = match (step.item_count(), step.succeeded, step.failed) {
        (Some(items), succeeded, failed) => format!(
            "{}/{} succeeded, {} failed",
            succeeded.unwrap_or(0),
            items,
            failed.unwrap_or(0)
        ),
        _ => String::new(),
    };
    let request = step
        .run
        .as_ref()
        .and_then(|r| r.request.as_ref())
        .map(|exchange| {
            let status = exchange
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "no answer".into());
            let tries = exchange.attempts.len();
            let attempts = if tries > 1 {
                format!(" ({tries} attempts)")
            } else {
                String::new()
            };
            format!("{} {} → {status}{attempts}", exchange.method, exchange.url)
        })
        .unwrap_or_default();
    let title = match &step.name {
        Some(name) => format!("`{}` ({})", code(&step.id), cell(name)),
        None => format!("`{}`", code(&step.id)),
    };
    let _ = writeln!(
        out,
        "| {title} | {} | {} | {} | {} |",
        verdict(step.status),
        items,
        cell(&request),
        millis(step.duration_ms)
    );
}

fn verdict(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "✅ succeeded",
        Status::Failed => "❌ failed",
        Status::Skipped => "⏭️ skipped",
        Status::Interrupted => "⏹️ interrupted",
        Status::NotRun => "⏸️ not run",
    }
}

/// Text safe inside a table cell: no line breaks, pipes escaped, no HTML.
fn cell(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text safe inside a one-backtick code span (ids and titles have none, but stay safe).
fn code(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
        .replace('|', "\\|")
        .replace('`', "'")
}

/// A fenced block whose fence no line of `text` can close.
fn fenced(text: &str) -> String {
    let longest = text
        .lines()
        .map(|l| l.trim_start().chars().take_while(|c| *c == '`').count())
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_fences_cannot_break_the_markdown() {
        assert_eq!(cell("a|b\n<c>"), "a\\|b &lt;c&gt;");
        assert_eq!(fenced("x\n```\ny"), "````text\nx\n```\ny\n````");
        assert_eq!(fenced("plain"), "```text\nplain\n```");
    }
}
