//! A run of a bound plan as the commands do it (`whisk run`, `record`, `demo`): the event
//! sinks, the signal watcher, the run, the masked report and the files written from it, the
//! summary and the outputs, and the exit code. The CLI only turns arguments into `Settings`.

mod exit;
mod files;
mod lock;
mod prepare;
mod signals;

pub use exit::{Exit, exit_for};
pub use files::{Files, cannot_write, check_folders, write_files};
pub use lock::take_lock;
pub use prepare::{Failed, Prepared, prepare};
pub use signals::SignalWatcher;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::diagnostic::{CommandKind, Console, Diagnostic, Kind};
use crate::event::{EventSink, Fanout};
use crate::exec::{Resume, RunOptions, Stop};
use crate::plan::bind;
use crate::redact::Masked;
use crate::report::{
    EventStream, RecipeInfo, Report, TerminalSink, closing, summary, timestamp, write_json,
};

/// What a run writes and shows, and its run-wide limits.
pub struct Settings {
    pub recipe_path: String,
    pub report: Option<PathBuf>,
    /// -1 quiet, 0 normal, 1 and more verbose.
    pub verbosity: i8,
    pub resume: Option<Arc<Resume>>,
    pub max_concurrency: Option<usize>,
    pub max_body: Option<usize>,
    /// Threads that share the items of a large loop.
    pub threads: usize,
    /// How long requests in flight may finish after SIGINT/SIGTERM.
    pub grace: Duration,
    /// The token store directory, when one is known.
    pub token_store: Option<crate::store::TokenStore>,
    /// Certificate authorities trusted besides the system's.
    pub ca_certs: crate::exec::CaCerts,
    /// Where messages go, and how they look.
    pub console: Console,
    /// JUnit and Markdown files to write.
    pub files: Files,
    /// `--events`: a JSON Lines file, or `-` for stdout.
    pub events: Option<std::path::PathBuf>,
    /// Where requests go (`whisk record` keeps every exchange).
    pub transport: crate::exec::Transport,
    /// This run is one shard of several (`--shard`).
    pub shard: Option<crate::exec::shard::Shard>,
    /// `--metrics FILE`: the run's figures in the Prometheus text format.
    pub metrics: Option<PathBuf>,
}

impl Settings {
    pub fn new(recipe_path: &str, report: Option<PathBuf>, verbosity: i8) -> Settings {
        Settings {
            recipe_path: recipe_path.to_string(),
            report,
            verbosity,
            resume: None,
            max_concurrency: None,
            max_body: None,
            threads: default_threads(),
            grace: DEFAULT_GRACE,
            token_store: None,
            ca_certs: crate::exec::CaCerts::default(),
            console: Console::default(),
            files: Files::default(),
            events: None,
            transport: crate::exec::Transport::Live,
            shard: None,
            metrics: None,
        }
    }
}

pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// One thread per CPU for the items of large loops. (One more was 3–5% faster while the
/// threads contended for the loop's ordered spool; since they share nothing per item, one per
/// CPU is 3–5% faster at 300,000 items and no slower at 10,000: bench/README.md.)
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs a bound plan, writes the report, prints the summary on stderr and outputs on stdout.
pub async fn execute(
    plan: &crate::plan::Plan,
    bound: &bind::Bound,
    env: bind::Env,
    settings: &Settings,
) -> Exit {
    let console = settings.console.masking(&plan.redactor);
    let terminal = TerminalSink::new(
        settings.verbosity,
        console.clone(),
        std::io::stderr().is_terminal(),
    );
    let events = match &settings.events {
        Some(path) => match EventStream::open(path, plan.redactor.clone()) {
            Ok(stream) => Some(Arc::new(stream)),
            Err(error) => {
                console.problem(
                    Diagnostic::new(
                        Kind::Command(CommandKind::File),
                        format!("cannot write events to `{}`: {error}", path.display()),
                    )
                    .help("check that its folder exists and can be written to"),
                );
                return Exit::Invalid;
            }
        },
        None => None,
    };
    let defaults = RunOptions::default();
    let stop = Arc::new(Stop::default());
    let mut sinks: Vec<Box<dyn EventSink>> = vec![Box::new(terminal)];
    if let Some(events) = &events {
        sinks.push(Box::new(events.clone()));
    }
    let counts = settings
        .metrics
        .as_ref()
        .map(|_| Arc::new(crate::report::MetricsSink::default()));
    if let Some(counts) = &counts {
        sinks.push(Box::new(counts.clone()));
    }
    let sink: Arc<dyn EventSink> = Arc::new(Fanout(sinks));
    let options = RunOptions {
        env,
        stop: stop.clone(),
        resume: settings.resume.clone(),
        max_concurrency: settings.max_concurrency.unwrap_or(defaults.max_concurrency),
        max_body: settings.max_body.unwrap_or(defaults.max_body),
        token_store: settings.token_store.clone(),
        ca_certs: settings.ca_certs.clone(),
        transport: settings.transport.clone(),
        threads: settings.threads,
        exit_after: true,
        shard: settings.shard,
    };
    let watcher = SignalWatcher::start(stop.clone(), settings.grace, sink.clone());
    let started = time::OffsetDateTime::now_utc();
    let clock = std::time::Instant::now();
    let result = crate::exec::run(plan, bound, options, &*sink).await;
    drop(watcher);
    let duration_ms = clock.elapsed().as_millis() as u64;
    let mut report = report_of(
        plan,
        bound,
        &settings.recipe_path,
        started,
        duration_ms,
        settings.resume.as_ref().map(|r| r.path.clone()),
        result,
    );
    report.shard = settings.shard;
    let report = Masked::new(report, &plan.redactor.masker());
    let mut exit = exit_for(&report.result);
    let mut failed_to_write = |problem: Diagnostic| {
        console.problem(problem);
        if exit == Exit::Success {
            exit = Exit::Failed;
        }
    };
    if let Some(path) = &settings.report
        && let Err(error) = write_json(&report, path)
    {
        failed_to_write(cannot_write("the report", path, &error));
    }
    for (what, path, error) in write_files(&report, &settings.files) {
        failed_to_write(cannot_write(what, &path, &error));
    }
    let outputs = report.result.outputs.as_ref().filter(|o| !o.is_empty());
    if let Some(events) = &events
        && let Err(error) = events.finish(outputs)
    {
        failed_to_write(Diagnostic::new(
            Kind::Command(CommandKind::File),
            format!("cannot write events: {error}"),
        ));
    }
    if let (Some(path), Some(counts)) = (&settings.metrics, &counts) {
        let figures = crate::report::RunFigures {
            report: &report,
            exit_code: exit as u8,
            counts,
            ended_at: time::OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e9,
        };
        if let Err(error) = crate::report::write_metrics(&figures, path) {
            console.problem(cannot_write("the metrics", path, &error));
            if exit == Exit::Success {
                exit = Exit::Failed;
            }
        }
    }
    let name = &plan.root.name;
    if settings.verbosity >= 0 {
        // Each step's line came as it ended.
        console.line(&closing(&report.result, name, duration_ms, console.color));
    } else if exit != Exit::Success {
        console.line(&summary(&report.result, name, duration_ms, console.color));
    }
    if exit == Exit::Interrupted {
        console.line(&resume_hint(settings.report.as_deref()));
    }
    // With `--events -` the outputs were the stream's last line.
    if let Some(outputs) = outputs
        && !events.as_ref().is_some_and(|e| e.is_stdout())
    {
        let text = serde_json::to_string_pretty(outputs).unwrap_or_default();
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
    // The process ends with this run: freeing a report of thousands of items one allocation
    // at a time would only delay the exit.
    std::mem::forget(report);
    exit
}

/// How to pick up an interrupted run: this command again, with `--resume` and its report.
fn resume_hint(report: Option<&std::path::Path>) -> String {
    let Some(report) = report else {
        return "to be able to resume an interrupted run, give it `--report FILE`: `--resume FILE` then carries over what succeeded".into();
    };
    let report = report.display().to_string();
    let mut args: Vec<String> = std::env::args().collect();
    // An earlier `--resume` gives way to this run's report.
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--resume" {
            args.drain(i..(i + 2).min(args.len()));
        } else if args[i].starts_with("--resume=") {
            args.remove(i);
        } else {
            i += 1;
        }
    }
    if let Some(first) = args.first_mut() {
        *first = "whisk".into();
    }
    args.push("--resume".into());
    args.push(report);
    let words: Vec<String> = args.iter().map(|a| crate::exec::shell_word(a)).collect();
    format!(
        "to pick up where it stopped (what succeeded is carried over):\n  {}",
        words.join(" ")
    )
}

/// The report of a finished run.
pub fn report_of(
    plan: &crate::plan::Plan,
    bound: &bind::Bound,
    recipe_path: &str,
    started: time::OffsetDateTime,
    duration_ms: u64,
    resumed_from: Option<String>,
    result: crate::result::RunResult,
) -> Report {
    Report {
        whisk_version: env!("CARGO_PKG_VERSION").to_string(),
        recipe: RecipeInfo {
            name: plan.root.name.clone(),
            path: recipe_path.to_string(),
            sha256: Some(recipe_digest(plan)),
        },
        inputs: bound.inputs.clone(),
        started_at: timestamp(started),
        ended_at: timestamp(time::OffsetDateTime::now_utc()),
        duration_ms,
        resumed_from,
        shard: None,
        result,
    }
}

/// The SHA-256 (hex) of the root recipe's text.
pub fn recipe_digest(plan: &crate::plan::Plan) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(plan.root.source.text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
