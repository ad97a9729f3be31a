//! `whisk run`: plan, bind, run, then report, summarise and print outputs.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{Exit, RunArgs, print_diagnostics};
use crate::event::EventSink;
use crate::exec::{Resume, RunOptions, Status, Stop};
use crate::plan::bind;
use crate::report::{RecipeInfo, Report, TerminalSink, summary, timestamp, write_json};

pub async fn run(args: &RunArgs, color: bool, token_store: Option<PathBuf>) -> Exit {
    let (plan, provided, bound) = match prepare(&args.recipe, &args.given, args.dry_run, color) {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    if args.dry_run {
        let dry = crate::exec::dry_run(
            &plan,
            &bound,
            &provided.env,
            &args.recipe.display().to_string(),
        );
        for warning in &dry.warnings {
            eprintln!("warning: {warning}");
        }
        let _ = std::io::stdout()
            .lock()
            .write_all(plan.redactor.mask(&dry.script).as_bytes());
        return Exit::Success;
    }
    let resume = match &args.resume {
        Some(path) => match Resume::load(path, &plan.root.name) {
            Ok(resume) => Some(Arc::new(resume)),
            Err(message) => {
                eprintln!("error: --resume: {message}");
                return Exit::Invalid;
            }
        },
        None => None,
    };
    let Some(ca_certs) = ca_certs(args.ca_cert.as_deref()) else {
        return Exit::Invalid;
    };
    // Held until the run ends: a second run with the same `--lock` refuses to start.
    let _lock = match &args.lock {
        Some(path) => match take_lock(path) {
            Ok(file) => Some(file),
            Err(message) => {
                eprintln!("error: {message}");
                return Exit::Invalid;
            }
        },
        None => None,
    };
    let settings = Settings {
        recipe_path: args.recipe.display().to_string(),
        report: args.report.clone(),
        verbosity: if args.quiet { -1 } else { args.verbose as i8 },
        resume,
        max_concurrency: args.max_concurrency.map(|n| n as usize),
        max_body: args.max_body.map(|s| s.0 as usize),
        threads: args.threads.map_or_else(default_threads, usize::from),
        grace: args.grace.0,
        token_store: crate::store::dir_from_env(token_store),
        ca_certs,
        color,
        files: Files {
            junit: args.junit.clone(),
            summary: args.summary.clone(),
            step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(Into::into),
        },
        events: args.events.clone(),
        transport: crate::exec::Transport::Live,
    };
    execute(&plan, &bound, provided.env, &settings).await
}

/// The certificate authorities of `--ca-cert`, if given; `None` (reported) when the file
/// cannot be used.
pub fn ca_certs(path: Option<&std::path::Path>) -> Option<crate::exec::CaCerts> {
    match path {
        Some(path) => crate::exec::read_ca_certs(path)
            .map_err(|message| eprintln!("error: --ca-cert: {message}"))
            .ok(),
        None => Some(crate::exec::CaCerts::default()),
    }
}

/// Loads and validates a recipe and binds what the user gave it, printing every problem.
/// With `placeholder_secrets`, secrets are not read (replays, dry runs).
pub fn prepare(
    recipe: &std::path::Path,
    given: &super::inputs::InputArgs,
    placeholder_secrets: bool,
    color: bool,
) -> Result<(crate::plan::Plan, bind::Provided, bind::Bound), Exit> {
    let plan = match crate::plan::load_and_build(recipe) {
        Ok(plan) => plan,
        Err(problems) => {
            print_diagnostics(&problems, &crate::redact::Redactor::new(), color);
            return Err(Exit::Invalid);
        }
    };
    let mut provided = match given.provided() {
        Ok(provided) => provided,
        Err(problems) => {
            print_diagnostics(&problems, &plan.redactor, color);
            return Err(Exit::Invalid);
        }
    };
    provided.placeholder_secrets = placeholder_secrets;
    match bind::bind(&plan, &provided) {
        Ok(bound) => Ok((plan, provided, bound)),
        Err(problems) => {
            print_diagnostics(&problems, &plan.redactor, color);
            Err(Exit::Invalid)
        }
    }
}

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
    pub token_store: Option<PathBuf>,
    /// Certificate authorities trusted besides the system's.
    pub ca_certs: crate::exec::CaCerts,
    /// Colours on stderr (progress bars).
    pub color: bool,
    /// JUnit and Markdown files to write.
    pub files: Files,
    /// `--events`: a JSON Lines file, or `-` for stdout.
    pub events: Option<std::path::PathBuf>,
    /// Where requests go (`whisk record` keeps every exchange).
    pub transport: crate::exec::Transport,
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
            color: false,
            files: Files::default(),
            events: None,
            transport: crate::exec::Transport::Live,
        }
    }
}

pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// One thread per CPU and one more, for the items of large loops: while one thread waits on the
/// kernel (or is preempted by the server it talks to, on the same machine), the others keep
/// every CPU busy. At c=32 against a local server this was 3–5% faster than one per CPU
/// (bench/README.md).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) + 1
}

/// Runs a bound plan, writes the report, prints the summary on stderr and outputs on stdout.
pub async fn execute(
    plan: &crate::plan::Plan,
    bound: &bind::Bound,
    env: bind::Env,
    settings: &Settings,
) -> Exit {
    let terminal = TerminalSink::new(
        settings.verbosity,
        plan.redactor.clone(),
        settings.color,
        std::io::stderr().is_terminal(),
    );
    let events = match &settings.events {
        Some(path) => match EventStream::open(path, plan.redactor.clone()) {
            Ok(stream) => Some(Arc::new(stream)),
            Err(error) => {
                eprintln!(
                    "error: cannot write events to `{}`: {error}",
                    path.display()
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
    let sink = Fanout(sinks);
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
    };
    let watcher = SignalWatcher::start(stop.clone(), settings.grace);
    let started = time::OffsetDateTime::now_utc();
    let clock = std::time::Instant::now();
    let result = crate::exec::run(plan, bound, options, &sink as &dyn EventSink).await;
    drop(watcher);
    let duration_ms = clock.elapsed().as_millis() as u64;
    let report = report_of(
        plan,
        bound,
        &settings.recipe_path,
        started,
        duration_ms,
        settings.resume.as_ref().map(|r| r.path.clone()),
        result,
    );
    let mut exit = if report.result.auth_failed() {
        Exit::Auth
    } else if report.result.status == Status::Interrupted {
        Exit::Interrupted
    } else if report.result.status == Status::Failed {
        Exit::Failed
    } else {
        Exit::Success
    };
    if let Some(path) = &settings.report
        && let Err(error) = write_json(&report, &plan.redactor, path)
    {
        eprintln!(
            "error: cannot write the report to `{}`: {error}",
            path.display()
        );
        if exit == Exit::Success {
            exit = Exit::Failed;
        }
    }
    if !write_files(&report, &plan.redactor, &settings.files) && exit == Exit::Success {
        exit = Exit::Failed;
    }
    let outputs = report.result.outputs.as_ref().filter(|o| !o.is_empty());
    if let Some(events) = &events
        && let Err(error) = events.finish(outputs)
    {
        eprintln!("error: cannot write events: {error}");
        if exit == Exit::Success {
            exit = Exit::Failed;
        }
    }
    if settings.verbosity >= 0 || exit != Exit::Success {
        let text = summary(&report.result, &plan.root.name, duration_ms);
        eprintln!("{}", plan.redactor.mask(&text));
    }
    // With `--events -` the outputs were the stream's last line.
    if let Some(outputs) = outputs
        && !events.as_ref().is_some_and(|e| e.is_stdout())
    {
        let mut value = serde_json::Value::Object(outputs.clone());
        plan.redactor.mask_value(&mut value);
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
    // The process ends with this run: freeing a report of thousands of items one allocation
    // at a time would only delay the exit.
    std::mem::forget(report);
    exit
}

/// The report of a finished run.
pub fn report_of(
    plan: &crate::plan::Plan,
    bound: &bind::Bound,
    recipe_path: &str,
    started: time::OffsetDateTime,
    duration_ms: u64,
    resumed_from: Option<String>,
    result: crate::exec::RunResult,
) -> Report {
    Report {
        whisk_version: env!("CARGO_PKG_VERSION").to_string(),
        recipe: RecipeInfo {
            name: plan.root.name.clone(),
            path: recipe_path.to_string(),
        },
        inputs: bound.inputs.clone(),
        started_at: timestamp(started),
        ended_at: timestamp(time::OffsetDateTime::now_utc()),
        duration_ms,
        resumed_from,
        result,
    }
}

/// Watches for SIGINT/SIGTERM on a thread of its own: while a loop's threads run, the run's
/// own thread waits for them and its runtime polls nothing.
struct SignalWatcher {
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

impl SignalWatcher {
    fn start(stop: Arc<Stop>, grace: Duration) -> SignalWatcher {
        let (done, ended) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        match runtime {
            Ok(runtime) => {
                let spawned = std::thread::Builder::new()
                    .name("whisk-signals".into())
                    .spawn(move || {
                        runtime.block_on(async move {
                            tokio::select! {
                                _ = watch_signals(stop, grace) => {}
                                _ = ended => {}
                            }
                        });
                    });
                if let Err(error) = spawned {
                    eprintln!("warning: cannot watch for interrupts: {error}");
                }
            }
            Err(error) => eprintln!("warning: cannot watch for interrupts: {error}"),
        }
        SignalWatcher { done: Some(done) }
    }
}

impl Drop for SignalWatcher {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
    }
}

/// First SIGINT/SIGTERM: start nothing new, let requests in flight finish. A second signal,
/// or the grace period running out, abandons them.
async fn watch_signals(stop: Arc<Stop>, grace: Duration) {
    signal().await;
    stop.soft();
    eprintln!(
        "interrupted: starting no new requests; waiting up to {} for those in flight (signal again to stop now)",
        crate::recipe::Duration(grace)
    );
    tokio::select! {
        _ = signal() => {}
        _ = tokio::time::sleep(grace) => {}
    }
    stop.hard();
}

async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Takes an exclusive lock on `path` (created if needed) without waiting.
fn take_lock(path: &std::path::Path) -> Result<std::fs::File, String> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open lock file `{}`: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another run holds the lock `{}`; nothing was sent",
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(format!("cannot lock `{}`: {e}", path.display()))
        }
    }
}

use std::io::IsTerminal;

use super::write::{Files, write_files};
use crate::event::Fanout;
use crate::report::EventStream;
