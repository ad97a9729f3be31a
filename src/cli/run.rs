//! `whisk run`: plan, bind, run, then report, summarise and print outputs.

use super::{Exit, RunArgs, inputs, print_diagnostics};
use crate::plan::bind;

pub async fn run(args: &RunArgs, color: bool, token_store: Option<std::path::PathBuf>) -> Exit {
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
        token_store: crate::store::dir_from_env(token_store),
    };
    execute(&plan, &bound, provided.env, &settings).await
}

/// What a run writes and shows.
pub struct Settings {
    pub recipe_path: String,
    pub report: Option<std::path::PathBuf>,
    /// -1 quiet, 0 normal, 1 and more verbose.
    pub verbosity: i8,
    /// The token store directory, when one is known.
    pub token_store: Option<std::path::PathBuf>,
}

/// Runs a bound plan, writes the report, prints the summary on stderr and outputs on stdout.
pub async fn execute(
    plan: &crate::plan::Plan,
    bound: &bind::Bound,
    env: bind::Env,
    settings: &Settings,
) -> Exit {
    let sink = TerminalSink {
        verbosity: settings.verbosity,
        redactor: plan.redactor.clone(),
    };
    let options = RunOptions {
        env,
        token_store: settings.token_store.clone(),
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
    if settings.verbosity >= 0 || exit != Exit::Success {
        let text = summary(&report.result, &plan.root.name, duration_ms);
        eprintln!("{}", plan.redactor.mask(&text));
    }
    if let Some(outputs) = &report.result.outputs
        && !outputs.is_empty()
    {
        let mut value = serde_json::Value::Object(outputs.clone());
        plan.redactor.mask_value(&mut value);
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
    exit
}

use std::io::Write;

use crate::event::EventSink;
use crate::exec::{RunOptions, Status};
use crate::report::{RecipeInfo, Report, TerminalSink, summary, timestamp, write_json};
