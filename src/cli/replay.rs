//! `whisk test`: replay each recipe against its cassette, with no network, and compare the
//! normalised report with the snapshot beside the cassette.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::Exit;
use crate::cassette::{
    Cassette, FORMAT_VERSION, Player, diff, find_cassettes, normalize, recipe_of, snapshot_for,
};
use crate::diagnostic::{CommandKind, Console, Diagnostic, Kind};
use crate::event::NullSink;
use crate::exec::{RunOptions, Transport};
use crate::plan::bind::{self, Env, Given, Provided};
use crate::redact::{Masked, Redactor};
use crate::report::write_atomically;
use crate::session::{Failed, report_of};

#[derive(Args, Debug)]
pub struct TestArgs {
    /// A folder searched for `*.cassette.json` (default: the current folder), or one cassette.
    pub path: Option<PathBuf>,
    /// Accept the replayed reports as the new snapshots.
    #[arg(long)]
    pub update: bool,
}

/// What a replay produced.
pub struct Replayed {
    /// The normalised report, as the snapshot file holds it.
    pub snapshot: String,
    /// Recorded exchanges the replay did not ask for.
    pub unused: usize,
    /// Requests the replay made that the cassette does not hold (`METHOD URL`, masked).
    pub missed: Vec<String>,
    /// The replayed run failed.
    pub failed: bool,
    /// The recorded run failed (recorded with `--allow-failure`).
    pub recorded_failed: bool,
}

impl Replayed {
    /// Whether the replay may stand for the recording: it asked for nothing the cassette
    /// lacks, and it failed only if the recording did. Else why not.
    pub fn verdict(&self) -> Result<(), String> {
        if let Some(first) = self.missed.first() {
            let more = match self.missed.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            return Err(format!(
                "the replay asked for `{first}`{more}, which the cassette does not hold; the recipe or its inputs changed since it was recorded: record it again with `whisk record`"
            ));
        }
        if self.failed && !self.recorded_failed {
            return Err(
                "the replayed run failed, the recorded one did not; run `whisk record` again"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// A cassette that cannot be replayed.
fn cassette_problem(message: String) -> Failed {
    Failed {
        problems: vec![Diagnostic::new(
            Kind::Command(CommandKind::Cassette),
            message,
        )],
        redactor: Redactor::new(),
    }
}

/// Replays the recipe of the cassette at `path` against it: its recorded inputs, secrets
/// replaced by placeholders, a fresh token store, no network and no waiting.
pub async fn replay(path: &Path) -> Result<Replayed, Failed> {
    let text = crate::source::read::text(path, crate::source::read::REPORT).map_err(|e| {
        cassette_problem(format!(
            "cannot read the cassette `{}`: {e}",
            path.display()
        ))
    })?;
    let cassette: Cassette = serde_json::from_str(&text).map_err(|e| {
        cassette_problem(format!(
            "`{}` is not a whisk cassette: {e}; record it again with `whisk record`",
            path.display()
        ))
    })?;
    if cassette.whisk_cassette != FORMAT_VERSION {
        return Err(cassette_problem(format!(
            "`{}` is a cassette of format {}, this whisk reads format {FORMAT_VERSION}; record it again with `whisk record`",
            path.display(),
            cassette.whisk_cassette
        )));
    }
    let recipe = recipe_of(path, &cassette.recipe);
    let plan = crate::plan::load_and_build(&recipe).map_err(|problems| Failed {
        problems,
        redactor: Redactor::new(),
    })?;
    let provided = Provided {
        inputs: cassette
            .inputs
            .iter()
            .map(|(name, value)| (name.clone(), Given::Value(value.clone())))
            .collect(),
        env: Env {
            isolated: true,
            ..Env::default()
        },
        placeholder_secrets: true,
        inputs_file: None,
    };
    let bound = bind::bind(&plan, &provided).map_err(|problems| Failed {
        problems,
        redactor: plan.redactor.clone(),
    })?;
    let store = tempfile::tempdir()
        .map_err(|e| cassette_problem(format!("cannot make a scratch token store: {e}")))?;
    let recipe_name = cassette.recipe.clone();
    let recorded_failed = cassette.run_failed;
    let player = Arc::new(Player::new(
        cassette,
        path.display().to_string(),
        plan.redactor.clone(),
    ));
    let options = RunOptions {
        env: provided.env,
        token_store: Some(crate::store::TokenStore::new(store.path())),
        transport: Transport::Replay(player.clone()),
        ..RunOptions::default()
    };
    let started = time::OffsetDateTime::now_utc();
    let clock = std::time::Instant::now();
    let result = crate::exec::run(&plan, &bound, options, &NullSink).await;
    let failed = crate::session::exit_for(&result) != Exit::Success;
    let report = Masked::new(
        report_of(
            &plan,
            &bound,
            &recipe_name,
            started,
            clock.elapsed().as_millis() as u64,
            None,
            result,
        ),
        &plan.redactor.masker(),
    );
    let report = serde_json::to_value(&*report).unwrap_or_default();
    let value = normalize(report, &recipe_name);
    let mut snapshot = serde_json::to_string_pretty(&value).unwrap_or_default();
    snapshot.push('\n');
    Ok(Replayed {
        snapshot,
        unused: player.unused(),
        missed: player.missed(),
        failed,
        recorded_failed,
    })
}

pub async fn test(args: &TestArgs, console: &Console) -> Exit {
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let cassettes = match find_cassettes(&root) {
        Ok(found) => found,
        Err(error) => {
            console.problem(super::file(format!(
                "cannot search `{}`: {error}",
                root.display()
            )));
            return Exit::Invalid;
        }
    };
    if cassettes.is_empty() {
        console.problem(
            super::argument(format!("no `*.cassette.json` under `{}`", root.display()))
                .help("make one with `whisk record RECIPE`"),
        );
        return Exit::Invalid;
    }
    let (mut passed, mut failed, mut written) = (0, 0, 0);
    for cassette in &cassettes {
        let cassette = cassette.strip_prefix(".").unwrap_or(cassette);
        let name = cassette.display();
        let snapshot_path = snapshot_for(cassette);
        let replayed = match replay(cassette).await {
            Ok(replayed) => replayed,
            Err(problem) => {
                println!("FAIL    {name}");
                console
                    .masking(&problem.redactor)
                    .problems(&problem.problems);
                failed += 1;
                continue;
            }
        };
        // Never accepted, with or without `--update`: the snapshot would pin down a replay
        // that does not stand for the recording.
        if let Err(reason) = replayed.verdict() {
            println!("FAIL    {name}: {reason}");
            failed += 1;
            continue;
        }
        let stored = std::fs::read_to_string(&snapshot_path)
            .ok()
            .map(|s| s.replace("\r\n", "\n"));
        match stored {
            Some(stored) if stored == replayed.snapshot => {
                println!("PASS    {name}");
                passed += 1;
            }
            stored if args.update => {
                if let Err(error) = write_atomically(&snapshot_path, replayed.snapshot.as_bytes()) {
                    println!("FAIL    {name}");
                    console.problem(super::file(format!(
                        "cannot write the snapshot `{}`: {error}",
                        snapshot_path.display()
                    )));
                    failed += 1;
                    continue;
                }
                let verb = if stored.is_some() {
                    "UPDATED"
                } else {
                    "CREATED"
                };
                println!("{verb} {}", snapshot_path.display());
                written += 1;
            }
            Some(stored) => {
                println!("FAIL    {name}: the replayed report differs from the snapshot");
                print!("{}", diff(&stored, &replayed.snapshot, console.color));
                println!(
                    "  (accept it with `whisk test --update {}`)",
                    cassette.display()
                );
                failed += 1;
            }
            None => {
                println!(
                    "FAIL    {name}: no snapshot `{}`; write it with `whisk test --update`",
                    snapshot_path.display()
                );
                failed += 1;
            }
        }
        if replayed.unused > 0 {
            println!(
                "        note: {} recorded exchanges were not asked for (token refreshes of a slower recording, or steps that no longer run)",
                replayed.unused
            );
        }
    }
    let mut line = format!("{passed} passed, {failed} failed");
    if written > 0 {
        let noun = if written == 1 {
            "snapshot"
        } else {
            "snapshots"
        };
        line.push_str(&format!(", {written} {noun} written"));
    }
    println!("{line}");
    if failed > 0 {
        Exit::Failed
    } else {
        Exit::Success
    }
}
