//! `whisk record`: run a recipe for real and keep every exchange, masked, in a cassette; then
//! replay the cassette offline to write the snapshot `whisk test` compares with.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::inputs::InputArgs;
use super::run::prepare;
use super::{Exit, file};
use crate::cassette::{Recorder, cassette_for, relative, snapshot_for};
use crate::diagnostic::{CommandKind, Console, Diagnostic, Kind};
use crate::exec::Transport;
use crate::report::{timestamp, write_atomically};
use crate::session::{Prepared, Settings, execute};

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// The recipe file.
    pub recipe: PathBuf,
    /// Where to write the cassette (default: NAME.cassette.json beside the recipe NAME.yaml).
    #[arg(long, value_name = "FILE")]
    pub cassette: Option<PathBuf>,
    #[command(flatten)]
    pub given: InputArgs,
    /// Also write the JSON report of the recorded run here.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// A PEM file of certificate authorities to trust besides the system's.
    #[arg(long, value_name = "FILE", env = "WHISK_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// Show requests and responses (-v); repeat for more.
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Print only errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Keep the cassette and snapshot of a run that fails, as a test of that failure (without
    /// it, a failed run writes nothing). whisk still exits with the run's exit code.
    #[arg(long)]
    pub allow_failure: bool,
}

pub async fn record(args: &RecordArgs, console: &Console, token_store: Option<PathBuf>) -> Exit {
    let Some(Prepared {
        plan,
        provided,
        bound,
    }) = prepare(&args.recipe, &args.given, false, console)
    else {
        return Exit::Invalid;
    };
    let console = console.masking(&plan.redactor);
    let Some(ca_certs) = super::run::ca_certs(args.ca_cert.as_deref(), &console) else {
        return Exit::Invalid;
    };
    let problems =
        crate::session::check_folders(args.report.as_deref().map(|path| ("--report", path)));
    if !problems.is_empty() {
        console.problems(&problems);
        return Exit::Invalid;
    }
    let cassette_problem =
        |message: String| Diagnostic::new(Kind::Command(CommandKind::Cassette), message);
    let cassette_path = args
        .cassette
        .clone()
        .unwrap_or_else(|| cassette_for(&args.recipe));
    let recorder = Arc::new(Recorder::default());
    let verbosity = if args.quiet { -1 } else { args.verbose as i8 };
    let mut settings = Settings::new(
        &args.recipe.display().to_string(),
        args.report.clone(),
        verbosity,
    );
    settings.token_store = match super::token_store(token_store, &console) {
        Ok(store) => store,
        Err(exit) => return exit,
    };
    settings.ca_certs = ca_certs;
    settings.console = console.clone();
    settings.transport = Transport::Record(recorder.clone());
    let exit = execute(&plan, &bound, provided.env, &settings).await;
    if exit == Exit::Interrupted {
        console.line("the run was interrupted: no cassette written");
        return exit;
    }
    let run_failed = exit != Exit::Success;
    if run_failed && !args.allow_failure {
        console.problem(
            cassette_problem(format!(
                "the recorded run failed (exit code {}): no cassette or snapshot written",
                exit as i32
            ))
            .help(
                "fix what failed and record again; to keep a failing run as a test of that \
                 failure, pass `--allow-failure`",
            ),
        );
        return exit;
    }
    let folder = cassette_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut cassette = recorder.cassette(
        &plan.redactor.masker(),
        relative(&args.recipe, folder),
        timestamp(time::OffsetDateTime::now_utc()),
        // A cassette holds its inputs: rows read in place from a file are written out.
        bound
            .inputs
            .iter()
            .map(|(name, value)| match bound.rows.get(name) {
                Some(rows) => (name.clone(), rows.to_json()),
                None => (name.clone(), value.clone()),
            })
            .collect(),
    );
    cassette.run_failed = run_failed;
    let mut text = match serde_json::to_string_pretty(&cassette) {
        Ok(text) => text,
        Err(error) => {
            console.problem(cassette_problem(format!(
                "cannot write the cassette: {error}"
            )));
            return Exit::Failed;
        }
    };
    text.push('\n');
    // Everything was masked; this is the last guard before the file is written: no secret in
    // any form the masker knows, nor decoded (percent-encoding, `+`, JSON escapes), any case.
    let secrets: Vec<&str> = bound
        .secrets
        .iter()
        .flat_map(|s| s.values().map(String::as_str))
        .collect();
    if plan.redactor.touches(&text) || holds_decoded(&text, &secrets) {
        console.problem(cassette_problem(
            "the cassette would hold a secret; nothing was written".into(),
        ));
        return Exit::Failed;
    }
    if let Err(error) = std::fs::create_dir_all(folder)
        .and_then(|()| write_atomically(&cassette_path, text.as_bytes()))
    {
        console.problem(file(format!(
            "cannot write the cassette `{}`: {error}",
            cassette_path.display()
        )));
        return Exit::Failed;
    }
    let snapshot_path = snapshot_for(&cassette_path);
    let snapshot = match super::replay::replay(&cassette_path).await {
        Ok(replayed) if replayed.verdict().is_ok() => replayed.snapshot,
        Ok(replayed) => {
            let reason = replayed.verdict().err().unwrap_or_default();
            console.problem(cassette_problem(format!(
                "the new cassette `{}` does not replay as recorded: {reason}; no snapshot written",
                cassette_path.display()
            )));
            return Exit::Failed;
        }
        Err(problem) => {
            console.problem(cassette_problem(format!(
                "the new cassette `{}` does not replay:",
                cassette_path.display()
            )));
            console
                .masking(&problem.redactor)
                .problems(&problem.problems);
            return Exit::Failed;
        }
    };
    if let Err(error) = write_atomically(&snapshot_path, snapshot.as_bytes()) {
        console.problem(file(format!(
            "cannot write the snapshot `{}`: {error}",
            snapshot_path.display()
        )));
        return Exit::Failed;
    }
    if verbosity >= 0 {
        let what = if run_failed { "a failed run: " } else { "" };
        console.line(&format!(
            "recorded {what}{} to {}; snapshot {} (check both in; `whisk test` replays them)",
            crate::plural::count(cassette.interactions.len(), "exchange", "exchanges"),
            cassette_path.display(),
            snapshot_path.display()
        ));
    }
    exit
}

/// Whether any string of the JSON `text`, decoded, holds one of `secrets` (4 characters or
/// more), whatever its case.
fn holds_decoded(text: &str, secrets: &[&str]) -> bool {
    fn strings<'v>(value: &'v serde_json::Value, out: &mut Vec<&'v str>) {
        match value {
            serde_json::Value::String(s) => out.push(s),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k);
                strings(v, out);
            }),
            _ => {}
        }
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    let mut found = Vec::new();
    strings(&value, &mut found);
    let secrets: Vec<String> = secrets
        .iter()
        .filter(|s| s.chars().count() >= 4)
        .map(|s| s.to_lowercase())
        .collect();
    found.iter().any(|s| {
        let decoded = percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned();
        let plus = percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        let nested: Vec<String> = [s.to_string(), decoded, plus]
            .into_iter()
            .flat_map(|t| {
                // A JSON body inside the cassette's string: its own escapes undone too.
                let unescaped = serde_json::from_str::<serde_json::Value>(&t)
                    .ok()
                    .map(|v| v.to_string());
                std::iter::once(t).chain(unescaped)
            })
            .map(|t| t.to_lowercase())
            .collect();
        nested
            .iter()
            .any(|t| secrets.iter().any(|secret| t.contains(secret.as_str())))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn decoded_secrets_are_found() {
        let secrets = ["Ab3+Xy/9"];
        assert!(super::holds_decoded(
            r#"{"u": "x?k=ab3%2Bxy%2F9"}"#,
            &secrets
        ));
        assert!(super::holds_decoded(r#"{"u": "AB3+XY/9"}"#, &secrets));
        assert!(!super::holds_decoded(r#"{"u": "x?k=***"}"#, &secrets));
    }
}
