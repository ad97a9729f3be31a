//! The short human summary printed on stderr at the end of a run.

use std::fmt::Write;

use crate::result::{RunResult, Status, StepResult};

/// One line per step and a closing line.
pub fn summary(result: &RunResult, name: &str, duration_ms: u64) -> String {
    let mut out = String::new();
    for step in &result.steps {
        line(&mut out, step, 0);
    }
    let counts = |status| result.steps.iter().filter(|s| s.status == status).count();
    let verdict = match result.status {
        Status::Succeeded => "succeeded",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Interrupted => "was interrupted",
        Status::NotRun => "did not run",
    };
    let _ = write!(
        out,
        "recipe `{name}` {verdict} in {} ({}: {} succeeded, {} failed, {} skipped",
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
    if let Some(error) = &result.error {
        let _ = write!(out, "\n  error: {}", error.message);
    }
    out
}

fn line(out: &mut String, step: &StepResult, depth: usize) {
    let mark = match step.status {
        Status::Succeeded => "ok  ",
        Status::Failed => "FAIL",
        Status::Skipped => "skip",
        Status::Interrupted => "INT ",
        Status::NotRun => "----",
    };
    let detail = match (&step.iterations, &step.run) {
        (Some(items), _) => format!(
            "{}/{} items succeeded",
            step.succeeded.unwrap_or(0),
            items.len()
        ),
        (None, Some(run)) => match &run.request {
            Some(exchange) => {
                let retries = exchange.attempts.len().saturating_sub(1);
                let status = exchange
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "no answer".into());
                if retries > 0 {
                    format!(
                        "{} {} -> {status} ({} attempts)",
                        exchange.method,
                        exchange.url,
                        exchange.attempts.len()
                    )
                } else {
                    format!("{} {} -> {status}", exchange.method, exchange.url)
                }
            }
            None => String::new(),
        },
        (None, None) => String::new(),
    };
    let indent = "  ".repeat(depth);
    let _ = writeln!(
        out,
        "{indent}{mark} {:<24} {:>8}  {detail}",
        step.id,
        millis(step.duration_ms)
    );
    for warning in &step.warnings {
        let _ = writeln!(out, "{indent}     warning: {warning}");
    }
    if let Some(error) = &step.error {
        let _ = writeln!(out, "{indent}     {}", error.message);
        if let Some(at) = &error.location {
            let _ = writeln!(
                out,
                "{indent}     --> {}:{}:{}",
                at.file, at.line, at.column
            );
        }
    }
}

pub(super) fn millis(ms: u64) -> String {
    if ms >= 10_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{ms}ms")
    }
}
