//! `--metrics FILE.prom`: the run's figures in the Prometheus text exposition format, for the
//! node_exporter textfile collector and other schedulers' scrapers. Every metric is a gauge
//! about the last run (a textfile is rewritten by each run, so counters would reset anyway),
//! labelled with the recipe and, for a shard, `shard="INDEX/COUNT"`. The requests, retries and
//! token grants are counted from the run's events by `MetricsSink`; the rest comes from the
//! report. The file is written atomically, readable by the collector (0644 under the usual
//! umask), and keeps the last success time of the previous file when this run failed.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Report;
use super::atomic::write_atomically;
use crate::event::{Event, EventSink, Interest};
use crate::redact::Masked;
use crate::result::Status;

/// Counts what the report does not keep whole: every attempt's answer, retries, grants.
#[derive(Default)]
pub struct MetricsSink {
    /// Answers by class: 1xx … 5xx, then failures without an answer.
    classes: [AtomicU64; 6],
    retries: AtomicU64,
    grants: AtomicU64,
}

const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "error"];

impl EventSink for MetricsSink {
    fn emit(&self, event: &Event) {
        let counter = match event {
            Event::ResponseReceived { status, .. } => {
                let class = usize::from(status / 100).clamp(1, 5) - 1;
                &self.classes[class]
            }
            Event::RequestFailed { .. } => &self.classes[5],
            Event::Retry { .. } => &self.retries,
            Event::TokenFetched { .. } => &self.grants,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn interest(&self) -> Interest {
        Interest {
            exchanges: true,
            detail: false,
            iterations: false,
        }
    }
}

/// What the metrics say about one run.
pub struct RunFigures<'a> {
    pub report: &'a Masked<Report>,
    pub exit_code: u8,
    pub counts: &'a MetricsSink,
    /// When the run ended, in Unix seconds.
    pub ended_at: f64,
}

/// Writes the metrics to `path`, keeping the previous file's last success time on a failure.
pub fn write_metrics(figures: &RunFigures<'_>, path: &Path) -> std::io::Result<()> {
    let previous = std::fs::read_to_string(path).ok();
    let text = to_metrics(figures, previous.as_deref());
    write_atomically(path, text.as_bytes())
}

/// The metrics text; `previous` is the file this one replaces, if any.
pub fn to_metrics(figures: &RunFigures<'_>, previous: Option<&str>) -> String {
    let report = figures.report;
    let mut labels = vec![("recipe", report.recipe.name.clone())];
    if let Some(shard) = report.shard {
        labels.push(("shard", format!("{}/{}", shard.index, shard.count)));
    }
    let base = render_labels(&labels, None);
    let succeeded = report.result.status == Status::Succeeded && figures.exit_code == 0;
    let last_success = if succeeded {
        Some(figures.ended_at)
    } else {
        previous.and_then(|text| value_of(text, LAST_SUCCESS, &base))
    };
    let mut out = Out::default();
    out.gauge(
        "whisk_run_success",
        "Whether the last run succeeded (1) or not (0).",
        &[(base.clone(), f64::from(u8::from(succeeded)))],
    );
    out.gauge(
        "whisk_run_exit_code",
        "The exit code of the last run (0 success, 1 a step failed, 2 invalid, 3 authentication, 130 interrupted).",
        &[(base.clone(), f64::from(figures.exit_code))],
    );
    out.gauge(
        "whisk_run_duration_seconds",
        "How long the last run took.",
        &[(base.clone(), report.duration_ms as f64 / 1000.0)],
    );
    out.gauge(
        "whisk_run_last_timestamp_seconds",
        "When the last run ended, in Unix time.",
        &[(base.clone(), figures.ended_at)],
    );
    if let Some(at) = last_success {
        out.gauge(
            LAST_SUCCESS,
            "When a run last succeeded, in Unix time (kept from the previous file when this run failed).",
            &[(base.clone(), at)],
        );
    }
    let statuses = [
        Status::Succeeded,
        Status::Failed,
        Status::Skipped,
        Status::NotRun,
        Status::Interrupted,
    ];
    let steps = &report.result.steps;
    let by_status = |count: &dyn Fn(Status) -> usize| -> Vec<(String, f64)> {
        statuses
            .iter()
            .map(|&status| {
                let label = ("status", status_label(status).to_string());
                (render_labels(&labels, Some(label)), count(status) as f64)
            })
            .collect()
    };
    out.gauge(
        "whisk_run_steps",
        "Top-level steps of the last run, by how they ended.",
        &by_status(&|status| steps.iter().filter(|s| s.status == status).count()),
    );
    out.gauge(
        "whisk_run_items",
        "Items of the last run's top-level for_each steps, by how they ended.",
        &by_status(&|status| steps.iter().map(|s| s.items_with(status)).sum()),
    );
    let requests: Vec<(String, f64)> = CLASSES
        .iter()
        .zip(&figures.counts.classes)
        .map(|(class, n)| {
            let label = ("class", (*class).to_string());
            (
                render_labels(&labels, Some(label)),
                n.load(Ordering::Relaxed) as f64,
            )
        })
        .collect();
    out.gauge(
        "whisk_run_requests",
        "Attempts the last run sent, by the class of their answer (error: no answer).",
        &requests,
    );
    out.gauge(
        "whisk_run_retries",
        "Retries the last run made after a retried status or error.",
        &[(
            base.clone(),
            figures.counts.retries.load(Ordering::Relaxed) as f64,
        )],
    );
    out.gauge(
        "whisk_run_token_grants",
        "Tokens the last run obtained from token endpoints.",
        &[(base, figures.counts.grants.load(Ordering::Relaxed) as f64)],
    );
    out.0
}

const LAST_SUCCESS: &str = "whisk_run_last_success_timestamp_seconds";

#[derive(Default)]
struct Out(String);

impl Out {
    fn gauge(&mut self, name: &str, help: &str, samples: &[(String, f64)]) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(self.0, "{name}{labels} {}", number(*value));
        }
    }
}

/// A sample value: integers without a fraction, others as Rust prints them (Prometheus
/// parses both).
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// `{name="value",…}`, values escaped as the text format asks (backslash, quote, newline).
fn render_labels(labels: &[(&str, String)], extra: Option<(&str, String)>) -> String {
    let all = labels.iter().map(|(k, v)| (*k, v.as_str()));
    let extra = extra.as_ref().map(|(k, v)| (*k, v.as_str()));
    let parts: Vec<String> = all
        .chain(extra)
        .map(|(key, value)| {
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{key}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// The value of `name` with exactly `labels` in a metrics text.
fn value_of(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{labels} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse().ok())
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "succeeded",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::NotRun => "not_run",
        Status::Interrupted => "interrupted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Masker;
    use crate::report::RecipeInfo;
    use crate::result::RunResult;

    fn report(status: Status, shard: bool) -> Masked<Report> {
        Masked::new(
            Report {
                whisk_version: "0".into(),
                recipe: RecipeInfo {
                    name: "say \"hi\"".into(),
                    path: "r.yaml".into(),
                    sha256: None,
                },
                inputs: Default::default(),
                started_at: String::new(),
                ended_at: String::new(),
                duration_ms: 1500,
                resumed_from: None,
                shard: shard.then_some(crate::exec::shard::Shard { index: 1, count: 4 }),
                result: RunResult {
                    status,
                    steps: Vec::new(),
                    outputs: None,
                    error: None,
                },
            },
            &Masker::default(),
        )
    }

    #[test]
    fn the_text_format_with_escaped_labels() {
        let counts = MetricsSink::default();
        counts.emit(&Event::Retry {
            step: "s".into(),
            item: None,
            attempt: 1,
            wait_ms: 0,
            reason: "503".into(),
        });
        let report = report(Status::Succeeded, true);
        let figures = RunFigures {
            report: &report,
            exit_code: 0,
            counts: &counts,
            ended_at: 1_700_000_000.0,
        };
        insta::assert_snapshot!(to_metrics(&figures, None));
    }

    #[test]
    fn a_failed_run_keeps_the_last_success_time() {
        let counts = MetricsSink::default();
        let ok = report(Status::Succeeded, false);
        let first = to_metrics(
            &RunFigures {
                report: &ok,
                exit_code: 0,
                counts: &counts,
                ended_at: 100.0,
            },
            None,
        );
        let failed = report(Status::Failed, false);
        let second = to_metrics(
            &RunFigures {
                report: &failed,
                exit_code: 1,
                counts: &counts,
                ended_at: 200.0,
            },
            Some(&first),
        );
        let labels = "{recipe=\"say \\\"hi\\\"\"}";
        assert!(second.contains(&format!("whisk_run_success{labels} 0\n")));
        assert!(second.contains(&format!("{LAST_SUCCESS}{labels} 100\n")));
        assert!(second.contains(&format!("whisk_run_last_timestamp_seconds{labels} 200\n")));
        let never = to_metrics(
            &RunFigures {
                report: &failed,
                exit_code: 1,
                counts: &counts,
                ended_at: 200.0,
            },
            None,
        );
        assert!(!never.contains(LAST_SUCCESS));
        assert!(never.ends_with('\n'));
    }
}
