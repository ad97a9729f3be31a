//! `whisk run`: arguments → settings; the session does the rest. `--dry-run` prints the
//! requests instead.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use super::{Exit, RunArgs, file};
use crate::diagnostic::{CommandKind, Console, Diagnostic, Kind};
use crate::exec::Resume;
use crate::session::{self, Files, Prepared, Settings};

pub async fn run(args: &RunArgs, console: &Console, token_store: Option<PathBuf>) -> Exit {
    let Some(Prepared {
        plan,
        provided,
        bound,
    }) = prepare(&args.recipe, &args.given, args.dry_run, console)
    else {
        return Exit::Invalid;
    };
    let console = console.masking(&plan.redactor);
    if args.dry_run {
        let dry = crate::exec::dry_run(
            &plan,
            &bound,
            &provided.env,
            &args.recipe.display().to_string(),
        )
        .await;
        for warning in &dry.warnings {
            console.line(&format!("warning: {warning}"));
        }
        let _ = console.stdout().write_all(dry.script.as_bytes());
        return Exit::Success;
    }
    let shard = match (args.shard, args.shard_count) {
        (Some(shard), _) => Some(shard),
        (None, Some(count)) => {
            let index = std::env::var("JOB_COMPLETION_INDEX").ok();
            match index
                .as_deref()
                .map(|i| i.trim().parse::<u32>().map_err(|_| i.to_owned()))
            {
                Some(Ok(index)) => match crate::exec::shard::Shard::new(index, count) {
                    Ok(shard) => Some(shard),
                    Err(message) => {
                        console.problem(super::argument(format!("--shard-count: {message}")));
                        return Exit::Invalid;
                    }
                },
                Some(Err(text)) => {
                    console.problem(super::argument(format!(
                        "--shard-count: JOB_COMPLETION_INDEX is `{text}`, not an index"
                    )));
                    return Exit::Invalid;
                }
                None => {
                    console.problem(
                        super::argument(
                            "--shard-count: JOB_COMPLETION_INDEX is not set".to_string(),
                        )
                        .help("give `--shard INDEX/COUNT`, or run in a Kubernetes Indexed Job"),
                    );
                    return Exit::Invalid;
                }
            }
        }
        (None, None) => None,
    };
    let outputs = [
        ("--report", &args.report),
        ("--junit", &args.junit),
        ("--summary", &args.summary),
        ("--events", &args.events),
        ("--metrics", &args.metrics),
    ];
    let problems = session::check_folders(outputs.iter().filter_map(|(flag, path)| {
        let path = path.as_deref().filter(|p| p.as_os_str() != "-")?;
        Some((*flag, path))
    }));
    if !problems.is_empty() {
        console.problems(&problems);
        return Exit::Invalid;
    }
    let resume = match &args.resume {
        Some(path) => match Resume::load(
            path,
            &plan.root.name,
            &session::recipe_digest(&plan),
            &masked_inputs(&bound.inputs, &plan.redactor),
        ) {
            Ok(mut resume) => {
                resume.resend_unknown = args.resend_unknown;
                Some(Arc::new(resume))
            }
            Err(message) => {
                let kind = Kind::Command(CommandKind::Resume);
                console.problem(Diagnostic::new(kind, format!("--resume: {message}")));
                return Exit::Invalid;
            }
        },
        None => None,
    };
    let Some(ca_certs) = ca_certs(args.ca_cert.as_deref(), &console) else {
        return Exit::Invalid;
    };
    // Held until the run ends: a second run with the same `--lock` refuses to start.
    let _lock = match &args.lock {
        Some(path) => match session::take_lock(path) {
            Ok(file) => Some(file),
            Err(problem) => {
                console.problem(problem);
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
        threads: args
            .threads
            .map_or_else(session::default_threads, usize::from),
        grace: args.grace.0,
        token_store: match super::token_store(token_store, &console) {
            Ok(store) => store,
            Err(exit) => return exit,
        },
        ca_certs,
        console: console.clone(),
        files: Files {
            junit: args.junit.clone(),
            summary: args.summary.clone(),
            step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(Into::into),
        },
        events: args.events.clone(),
        transport: crate::exec::Transport::Live,
        shard,
        metrics: args.metrics.clone(),
    };
    session::execute(&plan, &bound, provided.env, &settings).await
}

/// The certificate authorities of `--ca-cert`, if given; `None` (reported) when the file
/// cannot be used.
pub fn ca_certs(path: Option<&std::path::Path>, console: &Console) -> Option<crate::exec::CaCerts> {
    match path {
        Some(path) => crate::exec::read_ca_certs(path)
            .map_err(|message| console.problem(file(format!("--ca-cert: {message}"))))
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
    console: &Console,
) -> Option<Prepared> {
    match session::prepare(
        recipe,
        |plan| given.provided(&plan.root.inputs),
        placeholder_secrets,
    ) {
        Ok(prepared) => Some(prepared),
        Err(failed) => {
            console.masking(&failed.redactor).problems(&failed.problems);
            None
        }
    }
}

/// The inputs as a report shows them: every secret in them masked.
fn masked_inputs(
    inputs: &serde_json::Map<String, serde_json::Value>,
    redactor: &crate::redact::Redactor,
) -> serde_json::Map<String, serde_json::Value> {
    let mut value = serde_json::Value::Object(inputs.clone());
    redactor.mask_value(&mut value);
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}
