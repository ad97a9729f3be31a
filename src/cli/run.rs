//! `whisk run`: plan, bind, run, then report, summarise and print outputs.

use super::{Exit, RunArgs, inputs, print_diagnostics};
use crate::plan::bind;

pub async fn run(args: &RunArgs, color: bool) -> Exit {
    let plan = match crate::plan::load_and_build(&args.recipe) {
        Ok(plan) => plan,
        Err(problems) => {
            print_diagnostics(&problems, &crate::redact::Redactor::new(), color);
            return Exit::Invalid;
        }
    };
    let provided = match inputs::provided(
        &args.inputs,
        args.inputs_file.as_deref(),
        args.env_file.as_deref(),
    ) {
        Ok(provided) => provided,
        Err(problems) => {
            print_diagnostics(&problems, &plan.redactor, color);
            return Exit::Invalid;
        }
    };
    let bound = match bind::bind(&plan, &provided) {
        Ok(bound) => bound,
        Err(problems) => {
            print_diagnostics(&problems, &plan.redactor, color);
            return Exit::Invalid;
        }
    };
    let settings = Settings {
        recipe_path: args.recipe.display().to_string(),
        report: args.report.clone(),
        verbosity: if args.quiet { -1 } else { args.verbose as i8 },
        color,
        files: Files {
            junit: args.junit.clone(),
            summary: args.summary.clone(),
            step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(Into::into),
        },
        events: args.events.clone(),
    };
    execute(&plan, &bound, provided.env, &settings).await
}

/// What a run writes and shows.
pub struct Settings {
    pub recipe_path: String,
    pub report: Option<std::path::PathBuf>,
    /// -1 quiet, 0 normal, 1 and more verbose.
    pub verbosity: i8,
    /// Colours on stderr (progress bars).
    pub color: bool,
    /// JUnit and Markdown files to write.
    pub files: Files,
    /// `--events`: a JSON Lines file, or `-` for stdout.
    pub events: Option<std::path::PathBuf>,
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
    let mut sinks: Vec<Box<dyn EventSink>> = vec![Box::new(terminal)];
    if let Some(events) = &events {
        sinks.push(Box::new(events.clone()));
    }
    let sink = Fanout(sinks);
    let options = RunOptions {
        env,
        ..RunOptions::default()
    };
    let started = time::OffsetDateTime::now_utc();
    let clock = std::time::Instant::now();
    let result = crate::exec::run(plan, bound, options, &sink as &dyn EventSink).await;
    let duration_ms = clock.elapsed().as_millis() as u64;
    let report = Report {
        whisk_version: env!("CARGO_PKG_VERSION").to_string(),
        recipe: RecipeInfo {
            name: plan.root.name.clone(),
            path: settings.recipe_path.clone(),
        },
        inputs: bound.inputs.clone(),
        started_at: timestamp(started),
        ended_at: timestamp(time::OffsetDateTime::now_utc()),
        duration_ms,
        result,
    };
    let mut exit = if report.result.auth_failed() {
        Exit::Auth
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
    exit
}

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use super::write::{Files, write_files};
use crate::event::{EventSink, Fanout};
use crate::exec::{RunOptions, Status};
use crate::report::{
    EventStream, RecipeInfo, Report, TerminalSink, summary, timestamp, write_json,
};
