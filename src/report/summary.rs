//! The human summary on stderr: a line per top-level step as it ends (`step_lines`), with its
//! warnings, its error and, for a loop, the items that failed; and a closing line at the end
//! of the run (`closing`). Colours only when asked (`color`).

use std::fmt::Write;

use crate::result::{RunResult, Status, StepResult};

/// How many failed items of a loop are listed by name; the rest are counted.
pub const FAILED_ITEMS_SHOWN: usize = 10;

/// Every step's lines and the closing line: what `-q` prints when a run fails.
pub fn summary(result: &RunResult, name: &str, duration_ms: u64, color: bool) -> String {
    let mut out = String::new();
    for step in &result.steps {
        out.push_str(&step_lines(step, color));
        out.push('\n');
    }
    out.push_str(&closing(result, name, duration_ms, color));
    out
}

/// The lines of one top-level step (no trailing newline): `ok   list_apps   12ms  GET ... -> 200`.
pub fn step_lines(step: &StepResult, color: bool) -> String {
    let mut out = String::new();
    line(&mut out, step, color);
    out.truncate(out.trim_end_matches('\n').len());
    out
}

/// The last line: the verdict, the time, the steps by status, and what was carried over from
/// the report a resumed run started from.
pub fn closing(result: &RunResult, name: &str, duration_ms: u64, color: bool) -> String {
    let counts = |status| result.steps.iter().filter(|s| s.status == status).count();
    let (verdict, style) = match result.status {
        Status::Succeeded => ("succeeded", Style::Good),
        Status::Failed => ("failed", Style::Bad),
        Status::Skipped => ("skipped", Style::Plain),
        Status::Interrupted => ("was interrupted", Style::Warn),
        Status::NotRun => ("did not run", Style::Plain),
    };
    let mut out = format!(
        "recipe `{name}` {} in {} ({}: {} succeeded, {} failed, {} skipped",
        paint(verdict, style, color),
        millis(duration_ms),
        crate::plural::count(result.steps.len(), "step", "steps"),
        counts(Status::Succeeded),
        counts(Status::Failed),
        counts(Status::Skipped),
    );
    match counts(Status::NotRun) {
        0 => out.push(')'),
        n => {
            let _ = write!(out, ", {n} not run)");
        }
    }
    let carried_steps = result.steps.iter().filter(|s| s.carried_over).count();
    let carried_items: usize = result.steps.iter().map(StepResult::carried_items).sum();
    if carried_steps + carried_items > 0 {
        let mut parts = Vec::new();
        if carried_steps > 0 {
            parts.push(crate::plural::count(carried_steps, "step", "steps"));
        }
        if carried_items > 0 {
            parts.push(crate::plural::count(carried_items, "item", "items"));
        }
        let _ = write!(
            out,
            "; carried over from the earlier report: {}",
            parts.join(" and ")
        );
    }
    if let Some(error) = &result.error {
        let _ = write!(out, "\n  error: {}", error.message);
    }
    out
}

#[derive(Clone, Copy)]
enum Style {
    Good,
    Bad,
    Warn,
    Dim,
    Plain,
}

/// `text` in the style's colour, when colours are on.
fn paint(text: &str, style: Style, color: bool) -> String {
    let code = match style {
        Style::Good => "32",
        Style::Bad => "1;31",
        Style::Warn => "33",
        Style::Dim => "2",
        Style::Plain => return text.to_owned(),
    };
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn line(out: &mut String, step: &StepResult, color: bool) {
    let (mark, style) = match step.status {
        Status::Succeeded => ("ok  ", Style::Good),
        Status::Failed => ("FAIL", Style::Bad),
        Status::Skipped => ("skip", Style::Warn),
        Status::Interrupted => ("INT ", Style::Warn),
        Status::NotRun => ("----", Style::Dim),
    };
    let mut detail = match (step.item_count(), &step.run) {
        (Some(items), _) => {
            let carried = step.carried_items();
            let mut text = format!("{}/{} items succeeded", step.succeeded.unwrap_or(0), items);
            if carried > 0 {
                let _ = write!(text, " ({carried} carried over)");
            }
            text
        }
        (None, Some(run)) => match &run.request {
            Some(exchange) => {
                let retries = exchange.attempts.len().saturating_sub(1);
                let status = exchange
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "no answer".into());
                let mut notes = Vec::new();
                if retries > 0 {
                    notes.push(format!("{} attempts", exchange.attempts.len()));
                }
                if !run.pages.is_empty() {
                    notes.push(crate::plural::count(run.pages.len() + 1, "page", "pages"));
                }
                if let Some(polls) = &run.polls {
                    notes.push(crate::plural::count(polls.count as usize, "poll", "polls"));
                }
                let mut text = format!("{} {} -> {status}", exchange.method, exchange.url);
                if !notes.is_empty() {
                    let _ = write!(text, " ({})", notes.join(", "));
                }
                text
            }
            None => String::new(),
        },
        (None, None) => String::new(),
    };
    if step.carried_over {
        detail = if detail.is_empty() {
            "(carried over)".into()
        } else {
            format!("{detail} (carried over)")
        };
    }
    let _ = writeln!(
        out,
        "{} {:<24} {:>8}  {detail}",
        paint(mark, style, color),
        step.id,
        millis(step.duration_ms)
    );
    for warning in &step.warnings {
        let _ = writeln!(
            out,
            "     {}: {warning}",
            paint("warning", Style::Warn, color)
        );
    }
    if let Some(error) = &step.error {
        let _ = writeln!(out, "     {}", error.message);
        if let Some(at) = &error.location {
            let _ = writeln!(out, "     --> {}:{}:{}", at.file, at.line, at.column);
        }
    }
    failed_items(out, step);
}

/// The failed items of a loop, the first `FAILED_ITEMS_SHOWN` by name, the rest counted.
fn failed_items(out: &mut String, step: &StepResult) {
    let failed = step.failed_items();
    if failed.is_empty() {
        return;
    }
    let total = step.failed.unwrap_or(0).max(failed.len());
    let _ = writeln!(out, "     failed items:");
    for item in failed.iter().take(FAILED_ITEMS_SHOWN) {
        let message = item.error.as_ref().map_or("failed", |e| e.message.as_str());
        let _ = writeln!(
            out,
            "       [{}] {}: {message}",
            item.index,
            label(&item.item)
        );
    }
    if total > FAILED_ITEMS_SHOWN {
        let _ = writeln!(
            out,
            "       ... and {} more (the JSON report, `--report`, lists them all)",
            total - FAILED_ITEMS_SHOWN
        );
    }
}

/// An item as one short word: a string or number as it is, anything else as JSON, cut.
fn label(item: &serde_json::Value) -> String {
    let text = match item {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    crate::event::shorten(&text, 40)
}

pub(super) fn millis(ms: u64) -> String {
    if ms >= 10_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Iteration;
    use crate::result::{ErrorInfo, ErrorKind};

    fn item(index: usize, failed: bool, carried: bool) -> Iteration {
        let error = failed.then(|| ErrorInfo::new(ErrorKind::Status, "got 500"));
        let item = serde_json::json!(format!("{}", 100 + index));
        Iteration {
            carried_over: carried,
            ..Iteration::of_test(index, item, error)
        }
    }

    fn looped(items: Vec<Iteration>) -> StepResult {
        let failed = items.iter().filter(|i| i.status == Status::Failed).count();
        StepResult {
            id: "each".into(),
            name: None,
            status: if failed > 0 {
                Status::Failed
            } else {
                Status::Succeeded
            },
            duration_ms: 5,
            run: None,
            succeeded: Some(items.len() - failed),
            failed: Some(failed),
            iterations: Some(items),
            spooled: None,
            error: None,
            warnings: vec!["capture `x` matched nothing".into()],
            carried_over: false,
        }
    }

    #[test]
    fn failed_items_are_listed_up_to_ten_then_counted() {
        let items = (0..14).map(|i| item(i, i > 0, false)).collect();
        let text = step_lines(&looped(items), false);
        assert!(text.starts_with("FAIL each "), "{text}");
        assert!(
            text.contains("     warning: capture `x` matched nothing"),
            "{text}"
        );
        assert!(text.contains("       [1] 101: got 500"), "{text}");
        assert!(text.contains("       [10] 110: got 500"), "{text}");
        assert!(!text.contains("[11] 111"), "{text}");
        assert!(text.contains("... and 3 more"), "{text}");
    }

    #[test]
    fn carried_over_items_are_counted_in_the_line_and_the_closing() {
        let step = looped(vec![
            item(0, false, true),
            item(1, false, true),
            item(2, false, false),
        ]);
        assert!(step_lines(&step, false).contains("3/3 items succeeded (2 carried over)"));
        let result = RunResult {
            status: Status::Succeeded,
            steps: vec![step],
            outputs: None,
            error: None,
        };
        let text = closing(&result, "r", 12, false);
        assert_eq!(
            text,
            "recipe `r` succeeded in 12ms (1 step: 1 succeeded, 0 failed, 0 skipped); carried over from the earlier report: 2 items"
        );
        assert!(closing(&result, "r", 12, true).contains("\x1b[32msucceeded\x1b[0m"));
    }
}
