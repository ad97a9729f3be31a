//! `whisk run`: plan, bind, run, then report, summarise and print outputs.

use std::io::Write;

use super::{Exit, RunArgs, inputs, print_diagnostics};
use crate::event::EventSink;
use crate::exec::{RunOptions, Status};
use crate::plan::bind;
use crate::report::{RecipeInfo, Report, TerminalSink, summary, timestamp, write_json};

pub async fn run(args: &RunArgs, color: bool) -> Exit {
    let plan = match crate::plan::load_and_build(&args.recipe) {
        Ok(plan) => plan,
        Err(problems) => {
            print_diagnostics(&problems, &crate::redact::Redactor::new(), color);
            return Exit::Invalid;
        }
    };
    let provided = match inputs::provided(&args.inputs, args.inputs_file.as_deref(), args.env_file.as_deref()) {
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
    let verbosity = if args.quiet { -1 } else { args.verbose as i8 };
    let sink = TerminalSink { verbosity, redactor: plan.redactor.clone() };
    let options = RunOptions { env: provided.env.clone(), ..RunOptions::default() };
    let started = time::OffsetDateTime::now_utc();
    let clock = std::time::Instant::now();
    let result = crate::exec::run(&plan, &bound, options, &sink as &dyn EventSink).await;
    let duration_ms = clock.elapsed().as_millis() as u64;
    let report = Report {
        whisk_version: env!("CARGO_PKG_VERSION").to_string(),
        recipe: RecipeInfo { name: plan.root.name.clone(), path: args.recipe.display().to_string() },
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
    if let Some(path) = &args.report
        && let Err(error) = write_json(&report, &plan.redactor, path)
    {
        eprintln!("error: cannot write the report to `{}`: {error}", path.display());
        if exit == Exit::Success {
            exit = Exit::Failed;
        }
    }
    if !args.quiet || exit != Exit::Success {
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
