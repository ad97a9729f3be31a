//! `whisk report merge`: the reports of a run's shards (`--shard INDEX/COUNT`) joined into the
//! report one run would have written. Each top-level loop's iterations come from every shard,
//! in item order, and add up again (`StepResult::tally`); every other step is shard 0's, which
//! ran it. Reports that do not fit together (another recipe, other inputs, a shard missing or
//! given twice, an item in two shards) are refused with what to do.

use super::Report;
use crate::result::{Iteration, Status, StepResult};

/// One shard's report and the file it came from.
pub struct Part {
    pub path: String,
    pub report: Report,
}

/// The merged report, and what looked wrong without making it wrong.
#[derive(Debug)]
pub struct Merged {
    pub report: Report,
    pub warnings: Vec<String>,
}

/// Why the reports cannot be merged, and what to do.
#[derive(Debug, PartialEq)]
pub struct MergeError {
    pub message: String,
    pub help: &'static str,
}

fn refuse(message: String, help: &'static str) -> MergeError {
    MergeError { message, help }
}

const ALL_SHARDS: &str = "give the reports of every shard of one run, each once";

/// Joins the shards' reports; they may come in any order.
pub fn merge(mut parts: Vec<Part>) -> Result<Merged, MergeError> {
    check_shards(&parts)?;
    parts.sort_by_key(|p| p.report.shard.map_or(0, |s| s.index));
    check_same_run(&parts)?;
    let mut warnings = Vec::new();
    let base = &parts[0];
    let mut steps = Vec::with_capacity(base.report.result.steps.len());
    for (position, step) in base.report.result.steps.iter().enumerate() {
        let versions: Vec<(&Part, &StepResult)> = parts
            .iter()
            .map(|p| (p, &p.report.result.steps[position]))
            .collect();
        if versions.iter().any(|(_, s)| s.iterations.is_some()) {
            steps.push(merge_loop(&versions, &mut warnings)?);
        } else {
            steps.push(step.clone());
        }
    }
    let first = &base.report;
    let outputs = first.result.outputs.clone();
    if outputs.as_ref().is_some_and(|o| !o.is_empty())
        && steps.iter().any(|s| s.iterations.is_some())
    {
        warnings.push(
            "the outputs are shard 0's, which computed them: those that read a loop's results saw only its share of the items".into(),
        );
    }
    let status = parts
        .iter()
        .map(|p| p.report.result.status)
        .max_by_key(|s| severity(*s))
        .unwrap_or(Status::Succeeded);
    let error = parts.iter().find_map(|p| p.report.result.error.clone());
    let started = earliest(parts.iter().map(|p| p.report.started_at.as_str()), false);
    let ended = earliest(parts.iter().map(|p| p.report.ended_at.as_str()), true);
    let duration_ms = parts
        .iter()
        .map(|p| p.report.duration_ms)
        .max()
        .unwrap_or(0);
    let resumed: Vec<&Option<String>> = parts.iter().map(|p| &p.report.resumed_from).collect();
    let report = Report {
        whisk_version: first.whisk_version.clone(),
        recipe: first.recipe.clone(),
        inputs: first.inputs.clone(),
        started_at: started,
        ended_at: ended,
        duration_ms,
        resumed_from: resumed
            .iter()
            .all(|r| *r == resumed[0])
            .then(|| first.resumed_from.clone())
            .flatten(),
        shard: None,
        result: crate::result::RunResult {
            status,
            steps,
            outputs,
            error,
        },
    };
    Ok(Merged { report, warnings })
}

fn index(report: &Report) -> u32 {
    report.shard.map_or(0, |s| s.index)
}

/// Every report is a shard's, of one count, and each shard is there once.
fn check_shards(parts: &[Part]) -> Result<(), MergeError> {
    let Some(first) = parts.first() else {
        return Err(refuse("no reports to merge".into(), ALL_SHARDS));
    };
    for part in parts {
        if part.report.shard.is_none() {
            return Err(refuse(
                format!(
                    "`{}` is not a shard's report: its run had no `--shard`",
                    part.path
                ),
                ALL_SHARDS,
            ));
        }
    }
    let count = first.report.shard.map_or(1, |s| s.count);
    let mut seen: Vec<Option<&str>> = vec![None; count as usize];
    for part in parts {
        let Some(shard) = part.report.shard else {
            continue;
        };
        if shard.count != count {
            return Err(refuse(
                format!(
                    "`{}` is shard {}/{count} but `{}` is shard {}/{}: they are not shards of one run",
                    first.path,
                    index(&first.report),
                    part.path,
                    shard.index,
                    shard.count
                ),
                ALL_SHARDS,
            ));
        }
        let slot = &mut seen[shard.index as usize];
        if let Some(other) = slot {
            return Err(refuse(
                format!(
                    "`{other}` and `{}` are both shard {}/{count}",
                    part.path, shard.index
                ),
                ALL_SHARDS,
            ));
        }
        *slot = Some(&part.path);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(refuse(
            format!(
                "{} missing: the merged report would lack {} items",
                match missing.as_slice() {
                    [one] => format!("shard {one} is"),
                    many => format!("shards {} are", many.join(", ")),
                },
                if missing.len() == 1 { "its" } else { "their" }
            ),
            ALL_SHARDS,
        ));
    }
    Ok(())
}

/// The shards ran one recipe, with the same inputs and the same steps.
fn check_same_run(parts: &[Part]) -> Result<(), MergeError> {
    let base = &parts[0];
    const SAME: &str = "merge the shards of one run: the same recipe, run with the same inputs";
    for part in &parts[1..] {
        let (a, b) = (&base.report, &part.report);
        if a.recipe.name != b.recipe.name {
            return Err(refuse(
                format!(
                    "`{}` ran recipe `{}` but `{}` ran `{}`",
                    base.path, a.recipe.name, part.path, b.recipe.name
                ),
                SAME,
            ));
        }
        if a.recipe.sha256.is_some()
            && b.recipe.sha256.is_some()
            && a.recipe.sha256 != b.recipe.sha256
        {
            return Err(refuse(
                format!(
                    "`{}` and `{}` ran different texts of recipe `{}`",
                    base.path, part.path, a.recipe.name
                ),
                SAME,
            ));
        }
        if a.inputs != b.inputs {
            let differs = a
                .inputs
                .iter()
                .find(|(k, v)| b.inputs.get(*k) != Some(v))
                .map(|(k, _)| k.clone())
                .or_else(|| {
                    b.inputs
                        .keys()
                        .find(|k| !a.inputs.contains_key(*k))
                        .cloned()
                })
                .unwrap_or_default();
            return Err(refuse(
                format!(
                    "`{}` and `{}` ran with different inputs (input `{differs}`)",
                    base.path, part.path
                ),
                SAME,
            ));
        }
        let ids = |r: &Report| {
            r.result
                .steps
                .iter()
                .map(|s| s.id.clone())
                .collect::<Vec<_>>()
        };
        if ids(a) != ids(b) {
            return Err(refuse(
                format!(
                    "`{}` and `{}` have different steps ({} and {})",
                    base.path,
                    part.path,
                    ids(a).join(", "),
                    ids(b).join(", ")
                ),
                SAME,
            ));
        }
    }
    Ok(())
}

/// A top-level loop: every shard's items, in index order, added up again.
fn merge_loop(
    versions: &[(&Part, &StepResult)],
    warnings: &mut Vec<String>,
) -> Result<StepResult, MergeError> {
    let (_, base) = versions[0];
    let mut owners: std::collections::HashMap<usize, &str> = std::collections::HashMap::new();
    let mut iterations: Vec<Iteration> = Vec::new();
    // A shard whose loop ran no items (an earlier failure there, a `for_each` that failed).
    let mut unrun: Option<(&Part, &StepResult)> = None;
    for (part, step) in versions {
        let Some(items) = &step.iterations else {
            if unrun.is_none_or(|(_, s)| severity(step.status) > severity(s.status)) {
                unrun = Some((part, step));
            }
            continue;
        };
        for it in items {
            if let Some(other) = owners.insert(it.index, &part.path) {
                return Err(refuse(
                    format!(
                        "item {} of step `{}` ({}) is in `{other}` and in `{}`",
                        it.index, base.id, it.item, part.path
                    ),
                    "merge the shards of one run: each item falls to one shard, by a hash of its value",
                ));
            }
        }
        iterations.extend(items.iter().cloned());
    }
    iterations.sort_by_key(|it| it.index);
    let listed = iterations.len();
    let mut merged = StepResult {
        duration_ms: versions
            .iter()
            .map(|(_, s)| s.duration_ms)
            .max()
            .unwrap_or(0),
        carried_over: versions.iter().all(|(_, s)| s.carried_over),
        ..base.clone()
    };
    merged.tally(iterations, listed);
    match unrun {
        Some((part, step)) => {
            warnings.push(format!(
                "`{}` (shard {}) did not run its items of step `{}` (it is {})",
                part.path,
                index(&part.report),
                base.id,
                status_word(step.status)
            ));
            if severity(step.status) > severity(merged.status) {
                merged.status = step.status;
                if step.error.is_some() {
                    merged.error = step.error.clone();
                }
            }
        }
        None => {
            if let Some(gap) = (0..listed).find(|i| !owners.contains_key(i)) {
                return Err(refuse(
                    format!("item {gap} of step `{}` is in none of the reports", base.id),
                    ALL_SHARDS,
                ));
            }
        }
    }
    Ok(merged)
}

/// How bad an ending is, for the worst of several.
fn severity(status: Status) -> u8 {
    match status {
        Status::Succeeded => 0,
        Status::Skipped => 1,
        Status::NotRun => 2,
        Status::Failed => 3,
        Status::Interrupted => 4,
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "succeeded",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Interrupted => "interrupted",
        Status::NotRun => "not run",
    }
}

/// The earliest (or, with `latest`, the latest) of RFC 3339 times, as written.
fn earliest<'a>(times: impl Iterator<Item = &'a str>, latest: bool) -> String {
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    };
    let mut best: Option<(&str, Option<time::OffsetDateTime>)> = None;
    for time in times {
        let at = parse(time);
        let better = match &best {
            None => true,
            Some((_, current)) => match (at, current) {
                (Some(at), Some(current)) => {
                    if latest {
                        at > *current
                    } else {
                        at < *current
                    }
                }
                _ => false,
            },
        };
        if better {
            best = Some((time, at));
        }
    }
    best.map(|(t, _)| t.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::shard::Shard;
    use crate::report::RecipeInfo;
    use crate::result::{Execution, RunResult};

    fn iteration(index: usize, status: Status) -> Iteration {
        Iteration {
            index,
            item: serde_json::json!(format!("c{index}")),
            status,
            duration_ms: 1,
            run: Execution::default(),
            error: (status == Status::Failed)
                .then(|| crate::result::ErrorInfo::new(crate::result::ErrorKind::Status, "503")),
            warnings: Vec::new(),
            carried_over: false,
        }
    }

    fn step(id: &str, status: Status, items: Option<Vec<Iteration>>) -> StepResult {
        let mut step = StepResult {
            duration_ms: 3,
            run: items.is_none().then(Execution::default),
            ..StepResult::new(id, status)
        };
        if let Some(items) = items {
            let n = items.len();
            step.tally(items, n);
        }
        step
    }

    fn part(index: u32, count: u32, steps: Vec<StepResult>) -> Part {
        let status = if steps.iter().any(|s| s.status == Status::Failed) {
            Status::Failed
        } else {
            Status::Succeeded
        };
        Part {
            path: format!("shard-{index}.json"),
            report: Report {
                whisk_version: "0".into(),
                recipe: RecipeInfo {
                    name: "r".into(),
                    path: "r.yaml".into(),
                    sha256: None,
                },
                inputs: Default::default(),
                started_at: format!("2026-12-01T10:00:0{index}Z"),
                ended_at: format!("2026-12-01T10:01:0{index}Z"),
                duration_ms: 10 + u64::from(index),
                resumed_from: None,
                shard: Some(Shard { index, count }),
                result: RunResult {
                    status,
                    steps,
                    outputs: None,
                    error: None,
                },
            },
        }
    }

    fn two_shards() -> Vec<Part> {
        vec![
            part(
                1,
                2,
                vec![
                    step("token", Status::Skipped, None),
                    step(
                        "enable",
                        Status::Failed,
                        Some(vec![
                            iteration(1, Status::Failed),
                            iteration(2, Status::Succeeded),
                        ]),
                    ),
                ],
            ),
            part(
                0,
                2,
                vec![
                    step("token", Status::Succeeded, None),
                    step(
                        "enable",
                        Status::Succeeded,
                        Some(vec![
                            iteration(0, Status::Succeeded),
                            iteration(3, Status::Succeeded),
                        ]),
                    ),
                ],
            ),
        ]
    }

    #[test]
    fn loops_join_in_item_order_and_add_up_again() {
        let merged = merge(two_shards()).unwrap();
        let report = merged.report;
        assert_eq!(report.shard, None);
        assert_eq!(report.result.status, Status::Failed);
        assert_eq!(report.started_at, "2026-12-01T10:00:00Z");
        assert_eq!(report.ended_at, "2026-12-01T10:01:01Z");
        let [token, enable] = &report.result.steps[..] else {
            panic!("two steps");
        };
        assert_eq!(token.status, Status::Succeeded, "shard 0 ran it");
        let indexes: Vec<usize> = enable
            .iterations
            .as_ref()
            .unwrap()
            .iter()
            .map(|i| i.index)
            .collect();
        assert_eq!(indexes, [0, 1, 2, 3]);
        assert_eq!((enable.succeeded, enable.failed), (Some(3), Some(1)));
        assert_eq!(enable.status, Status::Failed);
        assert_eq!(
            enable.error.as_ref().unwrap().message,
            "1 of 4 iterations of step `enable` failed; the first: 503"
        );
        assert!(merged.warnings.is_empty());
    }

    #[test]
    fn an_item_in_two_shards_is_refused() {
        let mut parts = two_shards();
        let enable = &mut parts[0].report.result.steps[1];
        enable.iterations.as_mut().unwrap()[0].index = 0;
        let error = merge(parts).unwrap_err();
        assert_eq!(
            error.message,
            "item 0 of step `enable` (\"c1\") is in `shard-0.json` and in `shard-1.json`"
        );
    }

    #[test]
    fn missing_duplicate_and_foreign_shards_are_refused() {
        let mut parts = two_shards();
        parts.remove(0);
        assert_eq!(
            merge(parts).unwrap_err().message,
            "shard 1/2 is missing: the merged report would lack its items"
        );
        let mut parts = two_shards();
        parts[0].report.shard = Some(Shard { index: 0, count: 2 });
        assert_eq!(
            merge(parts).unwrap_err().message,
            "`shard-1.json` and `shard-0.json` are both shard 0/2"
        );
        let mut parts = two_shards();
        parts[0].report.shard = Some(Shard { index: 1, count: 3 });
        assert!(
            merge(parts)
                .unwrap_err()
                .message
                .contains("not shards of one run")
        );
        let mut parts = two_shards();
        parts[0].report.shard = None;
        assert_eq!(
            merge(parts).unwrap_err().message,
            "`shard-1.json` is not a shard's report: its run had no `--shard`"
        );
        let mut parts = two_shards();
        std::sync::Arc::make_mut(&mut parts[0].report.inputs)
            .insert("ids".into(), serde_json::json!([1]));
        assert_eq!(
            merge(parts).unwrap_err().message,
            "`shard-0.json` and `shard-1.json` ran with different inputs (input `ids`)"
        );
    }

    #[test]
    fn a_gap_in_the_items_is_refused() {
        let mut parts = two_shards();
        parts[0].report.result.steps[1]
            .iterations
            .as_mut()
            .unwrap()
            .remove(1);
        assert_eq!(
            merge(parts).unwrap_err().message,
            "item 2 of step `enable` is in none of the reports"
        );
    }

    #[test]
    fn a_shard_that_did_not_reach_the_loop_fails_it() {
        let mut parts = two_shards();
        parts[0].report.result.steps[1] = step("enable", Status::NotRun, None);
        let merged = merge(parts).unwrap();
        let enable = &merged.report.result.steps[1];
        assert_eq!(enable.status, Status::NotRun);
        assert_eq!(
            merged.warnings,
            ["`shard-1.json` (shard 1) did not run its items of step `enable` (it is not run)"]
        );
    }
}
