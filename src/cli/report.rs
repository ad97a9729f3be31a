//! `whisk report merge`: the shards' reports of one run joined into one report (and, if
//! asked, its JUnit and Markdown forms); the exit code is the merged run's.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Exit, file};
use crate::diagnostic::{CommandKind, Console, Diagnostic, Kind};
use crate::redact::{Masked, Masker};
use crate::report::merge::{self, Part};
use crate::report::{Report, write_json};
use crate::session::{Files, cannot_write, exit_for, write_files};

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Join the JSON reports of a run's shards (`--shard INDEX/COUNT`) into the report one run
    /// would have written; exit as that run would have.
    #[command(
        after_help = "Examples:\n  whisk report merge shard-0.json shard-1.json shard-2.json -o all.json\n  whisk report merge shards/*.json -o all.json --junit all.xml"
    )]
    Merge(MergeArgs),
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The shards' JSON reports, one per shard, in any order.
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(short, long, value_name = "FILE.json")]
    pub output: PathBuf,
    /// Also write the merged report as JUnit XML here.
    #[arg(long, value_name = "FILE.xml")]
    pub junit: Option<PathBuf>,
    /// Also write the merged report as a Markdown summary here.
    #[arg(long, value_name = "FILE.md")]
    pub summary: Option<PathBuf>,
}

pub fn report(command: ReportCommand, console: &Console) -> Exit {
    match command {
        ReportCommand::Merge(args) => merge_reports(&args, console),
    }
}

fn merge_reports(args: &MergeArgs, console: &Console) -> Exit {
    let mut parts = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        match read(path) {
            Ok(report) => parts.push(Part {
                path: path.display().to_string(),
                report,
            }),
            Err(problem) => {
                console.problem(problem);
                return Exit::Invalid;
            }
        }
    }
    let merged = match merge::merge(parts) {
        Ok(merged) => merged,
        Err(error) => {
            console.problem(
                Diagnostic::new(Kind::Command(CommandKind::Merge), error.message).help(error.help),
            );
            return Exit::Invalid;
        }
    };
    for warning in &merged.warnings {
        console.line(&format!("warning: {warning}"));
    }
    // The shards' reports were masked when they were written.
    let report = Masked::new(merged.report, &Masker::default());
    let mut exit = exit_for(&report.result);
    let mut failed = |problem: Diagnostic| {
        console.problem(problem);
        exit = Exit::Failed;
    };
    if let Err(error) = write_json(&report, &args.output) {
        failed(cannot_write("the merged report", &args.output, &error));
    }
    let files = Files {
        junit: args.junit.clone(),
        summary: args.summary.clone(),
        step_summary: None,
    };
    for (what, path, error) in write_files(&report, &files) {
        failed(cannot_write(what, &path, &error));
    }
    console.line(&crate::report::summary(
        &report.result,
        &report.recipe.name,
        report.duration_ms,
        console.color,
    ));
    exit
}

/// A shard's report, read and parsed.
fn read(path: &std::path::Path) -> Result<Report, Diagnostic> {
    let text = crate::source::read::bytes(path, crate::source::read::REPORT).map_err(|error| {
        file(format!("cannot read `{}`: {error}", path.display()))
            .help("give the JSON reports the shards wrote with `--report`")
    })?;
    serde_json::from_slice(&text).map_err(|error| {
        file(format!(
            "`{}` is not a whisk report: {error}",
            path.display()
        ))
        .help("give the JSON reports the shards wrote with `--report`")
    })
}
