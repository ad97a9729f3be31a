//! The fault matrix: the shipped TIBCO enable recipe against a sandbox whose access tokens
//! live half a second and whose API answers a seeded random fault schedule (503, 429 with
//! Retry-After, connection resets, answers that never come, revocation storms), over eight
//! seeds × concurrency 1, 4, 16 and 64 × one thread and the default threads; and the same with
//! two processes that share one token store at once. Each run is judged by what the sandbox
//! counted, not by whisk's report: every child enabled exactly once, no `invalid_grant`, no
//! token grant before the token it replaced was due, and as many requests as the reports say
//! attempts.

use std::path::{Path, PathBuf};

use whisk::sandbox::{FaultSchedule, Sandbox, SandboxData, Stats, TibcoOrganization};

use crate::harness::{Output, Whisk};
use crate::oauth_support::{assert_no_secrets, sandbox};

const SEEDS: [u64; 8] = [1, 2, 3, 5, 8, 13, 21, 34];
const CONCURRENCY: [usize; 4] = [1, 4, 16, 64];
const CHILDREN: usize = 40;
/// Seconds: the token runs out several times in a run at low concurrency.
const LIFETIME: f64 = 0.5;
const FAULT_RATE: f64 = 0.08;
const LATENCY_MS: u64 = 15;
/// Runs of the matrix at once (each mostly waits: on latency, Retry-After and timeouts).
const PARALLEL: usize = 8;

/// The shipped recipe, with a request timeout short enough for the `hang` faults (the only
/// change: 30 s would make each one cost half a minute).
pub fn recipe(dir: &Path) -> PathBuf {
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/tibco/enable-api-access.yaml");
    let text = std::fs::read_to_string(shipped).expect("the shipped recipe");
    assert!(
        text.contains("  timeout: 30s\n"),
        "the recipe's timeout moved"
    );
    let path = dir.join("enable-api-access.yaml");
    std::fs::write(&path, text.replace("  timeout: 30s\n", "  timeout: 1s\n")).expect("write");
    path
}

pub fn children() -> Vec<String> {
    (1..=CHILDREN).map(|n| (100 + n).to_string()).collect()
}

pub fn data(seed: u64) -> SandboxData {
    let mut data = SandboxData::default();
    data.set_access_token_lifetime(LIFETIME);
    data.latency_ms = Some(LATENCY_MS);
    data.fault_schedule = Some(FaultSchedule::new(seed, FAULT_RATE));
    let parent = data.tibco.organizations[0].clone();
    data.tibco.organizations = std::iter::once(parent)
        .chain(children().into_iter().map(|locator| TibcoOrganization {
            name: format!("child {locator}"),
            locator,
            parent: Some("100".into()),
            api_access: false,
            apps: Vec::new(),
        }))
        .collect();
    data
}

/// One `whisk run` of the recipe over `locators`.
fn run(
    sandbox: &Sandbox,
    recipe: &Path,
    locators: &[String],
    concurrency: usize,
    one_thread: bool,
    store: &Path,
) -> Output {
    let urls = sandbox.urls();
    let creds = &sandbox.credentials().tibco;
    let mut whisk = Whisk::new()
        .input("base_url", &urls.tci_base)
        .input("token_url", &urls.tci_token_url)
        .input(
            "child_locators",
            &serde_json::to_string(locators).expect("json"),
        )
        .input("concurrency", &concurrency.to_string())
        .env("TCI_CLIENT_ID", &creds.client_id)
        .env("TCI_CLIENT_SECRET", &creds.client_secret)
        .env("TCI_REFRESH_TOKEN", &creds.refresh_token)
        .env("WHISK_TOKEN_STORE", &store.display().to_string())
        .arg("-vv");
    if one_thread {
        whisk = whisk.arg("--threads").arg("1");
    }
    whisk.run_file(recipe)
}

/// Every attempt of every request in a report.
pub fn attempts(value: &serde_json::Value) -> u64 {
    match value {
        // An exchange (a step's `request`, or one of its `pages`): its attempts.
        serde_json::Value::Object(map) if map.contains_key("method") => map
            .get("attempts")
            .and_then(|a| a.as_array())
            .map_or(0, |a| a.len() as u64),
        serde_json::Value::Object(map) => map.values().map(attempts).sum(),
        serde_json::Value::Array(items) => items.iter().map(attempts).sum(),
        _ => 0,
    }
}

/// Requests the sandbox's TIBCO API saw.
pub fn api_requests(stats: &Stats) -> u64 {
    stats
        .requests
        .iter()
        .filter(|(path, _)| path.starts_with("/tci/v1/"))
        .map(|(_, n)| n)
        .sum()
}

/// Attempts the runs' reports list.
pub fn reported_attempts(outputs: &[Output]) -> u64 {
    outputs
        .iter()
        .map(|out| attempts(out.report.as_ref().expect("a report")))
        .sum()
}

/// Every child of `children()` enabled exactly once, as the sandbox counted.
pub fn each_child_once(case: &str, stats: &Stats) {
    for child in children() {
        assert_eq!(
            stats.enables.get(&child).copied(),
            Some(1),
            "{case}: child {child} enabled {:?} times",
            stats.enables.get(&child)
        );
    }
}

/// The end of a long stderr, for failure messages.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Why a run failed, for failure messages: the errors its report holds (with the item they
/// belong to), then the end of its stderr. A `-vv` stderr ends in exchanges, not the cause.
pub fn why(out: &Output) -> String {
    let mut errors = Vec::new();
    if let Some(report) = &out.report {
        collect_errors(report, &mut errors);
    }
    format!(
        "report errors:\n{}\nend of stderr:\n{}",
        errors.join("\n"),
        tail(&out.stderr)
    )
}

fn collect_errors(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(error) = map.get("error").filter(|e| !e.is_null()) {
                let item = map
                    .get("item")
                    .map(|i| format!("item {i}: "))
                    .unwrap_or_default();
                into.push(format!("{item}{error}"));
            }
            map.values().for_each(|v| collect_errors(v, into));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_errors(v, into)),
        _ => {}
    }
}

/// What must hold after `outputs` ran against `sandbox`: judged from the sandbox's counters.
fn judge(case: &str, sandbox: &Sandbox, outputs: &[Output]) {
    let stats = sandbox.stats();
    let creds = &sandbox.credentials().tibco;
    for out in outputs {
        assert_eq!(out.code, 0, "{case}: the run fails:\n{}", why(out));
        assert_no_secrets(&[out], &[&creds.client_secret, &creds.refresh_token]);
    }
    each_child_once(case, &stats);
    assert_eq!(
        stats.enables.get("100").copied(),
        Some(outputs.len() as u64),
        "{case}: the parent is enabled once per run"
    );
    assert_eq!(
        stats.token_errors_for("tibco", "invalid_grant"),
        0,
        "{case}: a refresh token was spent twice: {:?}",
        stats.token_errors
    );
    let grants = Stats::of(&stats.token_grants, "tibco");
    let expiries = Stats::of(&stats.token_expiries, "tibco");
    assert!(
        grants <= expiries + 1,
        "{case}: {grants} grants for {expiries} expiries (early: {:?})",
        stats.early_grants
    );
    let sent = api_requests(&stats);
    let reported = reported_attempts(outputs);
    assert_eq!(
        sent, reported,
        "{case}: the sandbox saw {sent} requests, the reports list {reported} attempts"
    );
}

/// Runs `cases` on blocking threads, `PARALLEL` at a time, each with a sandbox of its own;
/// returns how many faults the sandboxes served in all.
async fn matrix(two_processes: bool) -> u64 {
    // WHISK_MATRIX_SEEDS=5,8 runs only those seeds (to loop one case while debugging).
    let only: Option<Vec<u64>> = std::env::var("WHISK_MATRIX_SEEDS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let cases: Vec<(u64, usize, bool)> = SEEDS
        .iter()
        .filter(|seed| only.as_ref().is_none_or(|only| only.contains(seed)))
        .flat_map(|&seed| {
            CONCURRENCY
                .iter()
                .flat_map(move |&c| [true, false].map(|one| (seed, c, one)))
        })
        .collect();
    let mut faults = 0;
    for batch in cases.chunks(PARALLEL) {
        let mut running = Vec::new();
        for &(seed, concurrency, one_thread) in batch {
            let sandbox = sandbox(data(seed)).await;
            let case = format!(
                "seed {seed}, concurrency {concurrency}, {}, {}",
                if one_thread {
                    "one thread"
                } else {
                    "default threads"
                },
                if two_processes {
                    "two processes sharing a store"
                } else {
                    "one process"
                }
            );
            running.push(tokio::task::spawn_blocking(move || {
                let dir = tempfile::tempdir().expect("temp dir");
                let recipe = recipe(dir.path());
                let store = dir.path().join("tokens");
                let locators = children();
                let outputs = if two_processes {
                    let (a, b) = locators.split_at(CHILDREN / 2);
                    std::thread::scope(|scope| {
                        let first = scope
                            .spawn(|| run(&sandbox, &recipe, a, concurrency, one_thread, &store));
                        let second = run(&sandbox, &recipe, b, concurrency, one_thread, &store);
                        vec![first.join().expect("first process"), second]
                    })
                } else {
                    vec![run(
                        &sandbox,
                        &recipe,
                        &locators,
                        concurrency,
                        one_thread,
                        &store,
                    )]
                };
                judge(&case, &sandbox, &outputs);
                sandbox.stats().faults_served
            }));
        }
        for handle in running {
            faults += handle.await.expect("a case");
        }
    }
    faults
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seed_concurrency_and_thread_count_enables_each_child_once() {
    let faults = matrix(false).await;
    // The schedule did inject faults (about one request in twelve).
    assert!(
        faults > 150 || std::env::var_os("WHISK_MATRIX_SEEDS").is_some(),
        "only {faults} faults served"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_one_token_store_split_the_children() {
    let faults = matrix(true).await;
    assert!(
        faults > 150 || std::env::var_os("WHISK_MATRIX_SEEDS").is_some(),
        "only {faults} faults served"
    );
}
