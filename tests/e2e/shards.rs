//! `--shard INDEX/COUNT` and `whisk report merge`: shards of the shipped TIBCO recipe, run at
//! once against one sandbox whose tokens run out and whose API throws faults, share one
//! rotating refresh token through the token store and enable every child exactly once (as
//! the sandbox counts); their reports merge into the report a single run writes.

use std::path::Path;

use whisk::sandbox::{Sandbox, SandboxData};

use crate::fault_matrix::{
    api_requests, children, data, each_child_once, recipe, reported_attempts, why,
};
use crate::harness::{Output, Whisk};
use crate::oauth_support::{assert_no_secrets, sandbox};

const SHARDS: u32 = 4;

/// One shard (or, with `None`, all) of the shipped recipe over `locators`.
fn run(
    sandbox: &Sandbox,
    recipe: &Path,
    locators: &[String],
    shard: Option<u32>,
    store: &str,
) -> Output {
    let urls = sandbox.urls();
    let creds = &sandbox.credentials().tibco;
    let mut whisk = Whisk::new()
        .input("base_url", &urls.tci_base)
        .input("token_url", &urls.tci_token_url)
        .input("child_locators", &serde_json::to_string(locators).unwrap())
        .input("concurrency", "4")
        .env("TCI_CLIENT_ID", &creds.client_id)
        .env("TCI_CLIENT_SECRET", &creds.client_secret)
        .env("TCI_REFRESH_TOKEN", &creds.refresh_token)
        .arg("--token-store")
        .arg(store)
        .arg("--metrics")
        .arg("whisk.prom")
        .arg("-vv");
    if let Some(index) = shard {
        whisk = whisk.arg("--shard").arg(format!("{index}/{SHARDS}"));
    }
    whisk.run_file(recipe)
}

/// Every shard at once, each a process of its own.
fn all_shards(sandbox: &Sandbox, recipe: &Path, store: &str) -> Vec<Output> {
    let locators = &children();
    std::thread::scope(|scope| {
        let running: Vec<_> = (0..SHARDS)
            .map(|i| scope.spawn(move || run(sandbox, recipe, locators, Some(i), store)))
            .collect();
        running.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

/// `whisk report merge` of the shards' reports, in reverse order (any order does).
fn merge(outputs: &[Output]) -> Output {
    let merger = Whisk::new();
    let merged = merger.dir.path().join("all.json");
    let junit = merger.dir.path().join("all.xml");
    let mut args = vec!["report".to_string(), "merge".to_string()];
    for out in outputs.iter().rev() {
        args.push(out.dir.path().join("report.json").display().to_string());
    }
    args.extend(["-o".into(), merged.display().to_string()]);
    args.extend(["--junit".into(), junit.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    merger.command(&args)
}

/// What is left of a report once what varies from run to run is gone: times, durations,
/// the shard and the outputs (shard 0's; see the merge warning).
fn comparable(mut report: serde_json::Value) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for key in ["duration_ms", "started_at", "ended_at", "shard", "outputs"] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut report);
    report
}

fn stored(dir: &tempfile::TempDir) -> String {
    dir.path().join("tokens").display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_shards_at_once_under_faults_enable_every_child_once() {
    let sandbox = sandbox(data(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let recipe = recipe(dir.path());
    let outputs = all_shards(&sandbox, &recipe, &stored(&dir));
    let stats = sandbox.stats();
    let creds = &sandbox.credentials().tibco;
    for (i, out) in outputs.iter().enumerate() {
        assert_eq!(out.code, 0, "shard {i}:\n{}", why(out));
        assert_no_secrets(&[out], &[&creds.client_secret, &creds.refresh_token]);
        assert_eq!(out.report.as_ref().unwrap()["shard"]["index"], i);
    }
    each_child_once("four shards", &stats);
    assert_eq!(stats.enables.get("100").copied(), Some(1), "shard 0 alone");
    assert_eq!(stats.token_errors_for("tibco", "invalid_grant"), 0);
    assert!(stats.faults_served > 0, "the schedule served no fault");
    let sent = api_requests(&stats);
    let reported = reported_attempts(&outputs);
    assert_eq!(
        sent, reported,
        "the sandbox saw {sent}, the reports list {reported}"
    );

    // Each shard's metrics count what that process sent: together, what the sandbox saw.
    let counted: u64 = outputs
        .iter()
        .map(|out| {
            let text = out.read("whisk.prom");
            text.lines()
                .filter(|l| l.starts_with("whisk_run_requests{"))
                .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
                .sum::<u64>()
        })
        .sum();
    assert_eq!(counted, sent, "the metrics count {counted} requests");

    let merged = merge(&outputs);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&merged.read("all.json")).expect("the merged report");
    assert!(report.get("shard").is_none());
    let enable = &report["steps"][1];
    let items = enable["iterations"].as_array().unwrap();
    let indexes: Vec<u64> = items.iter().map(|i| i["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, (0..children().len() as u64).collect::<Vec<_>>());
    assert_eq!(enable["succeeded"], children().len());
    assert_eq!(enable["status"], "succeeded");
    assert_eq!(
        report["steps"][2]["status"], "succeeded",
        "shard 0 listed the apps"
    );
    let junit = merged.read("all.xml");
    assert_eq!(
        junit.matches("<testcase ").count(),
        children().len() + 2,
        "{junit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_shards_equal_a_single_run() {
    let sandbox = sandbox(SandboxData::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/tibco/enable-api-access.yaml");
    let store = stored(&dir);
    let locators = sandbox.credentials().tibco.children.clone();
    let single = run(&sandbox, &shipped, &locators, None, &store);
    assert_eq!(single.code, 0, "{}", single.stderr);
    let shards: Vec<Output> = (0..SHARDS)
        .map(|i| run(&sandbox, &shipped, &locators, Some(i), &store))
        .collect();
    for out in &shards {
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    // Every shard had some of the 25 children.
    for out in &shards {
        let n = out.report.as_ref().unwrap()["steps"][1]["iterations"]
            .as_array()
            .unwrap()
            .len();
        assert!(n > 0 && n < locators.len(), "{n} items in a shard");
    }
    let merged = merge(&shards);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    assert!(
        merged
            .stderr
            .contains("warning: the outputs are shard 0's, which computed them"),
        "{}",
        merged.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&merged.read("all.json")).unwrap();
    assert_eq!(
        comparable(report),
        comparable(single.report.clone().unwrap()),
        "the merged report differs from the single run's"
    );
    // Each shard's metrics: its own items, labelled with its shard.
    let text = shards[1].read("whisk.prom");
    let items = shards[1].report.as_ref().unwrap()["steps"][1]["iterations"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        text.contains(&format!(
            "whisk_run_items{{recipe=\"tibco-enable-api-access\",shard=\"1/4\",status=\"succeeded\"}} {items}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("whisk_run_success{recipe=\"tibco-enable-api-access\",shard=\"1/4\"} 1\n")
    );
}

#[test]
fn merge_refuses_reports_that_are_not_one_runs_shards() {
    let whisk = Whisk::new();
    let shard = |index: u32, count: u32| {
        serde_json::json!({
            "whisk_version": "0", "recipe": {"name": "r", "path": "r.yaml"}, "inputs": {},
            "started_at": "2026-12-01T10:00:00Z", "ended_at": "2026-12-01T10:00:01Z",
            "duration_ms": 1, "shard": {"index": index, "count": count},
            "status": "succeeded", "steps": []
        })
        .to_string()
    };
    let a = whisk.file("a.json", &shard(0, 3));
    let b = whisk.file("b.json", &shard(2, 3));
    let bad = whisk.file("bad.json", "{\"whisk_version\": 1}");
    let dir = whisk.dir.path().to_path_buf();
    let args = |files: &[&Path]| {
        let mut args = vec!["report".to_string(), "merge".into()];
        args.extend(files.iter().map(|p| p.display().to_string()));
        args.extend(["-o".into(), dir.join("out.json").display().to_string()]);
        args
    };
    let missing = args(&[&a, &b]);
    let out = Whisk::new().command(&missing.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.code, 2);
    let unreadable = args(&[&a, &bad]);
    let out2 = Whisk::new().command(&unreadable.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out2.code, 2);
    assert!(!dir.join("out.json").exists(), "nothing written");
    let text =
        format!("{}\n{}", out.stderr, out2.stderr).replace(&dir.display().to_string(), "[dir]");
    insta::assert_snapshot!(text);
}

/// A step marked `every_shard` runs in each shard; the other steps outside loops in shard 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shard_steps_run_in_each_shard() {
    let sandbox = sandbox(SandboxData::default()).await;
    let recipe = r#"
version: 1
name: every-shard
inputs:
  base_url: { type: string }
  token_url: { type: string }
  children: { type: array }
secrets:
  client_id: { env: TCI_CLIENT_ID }
  client_secret: { env: TCI_CLIENT_SECRET }
  refresh_token: { env: TCI_REFRESH_TOKEN }
auth:
  tci:
    oauth2:
      grant: refresh_token
      token_url: "{{ inputs.token_url }}"
      client_id: "{{ secrets.client_id }}"
      client_secret: "{{ secrets.client_secret }}"
      refresh_token: "{{ secrets.refresh_token }}"
      store: tibco
defaults: { auth: tci }
steps:
  - id: parent
    every_shard: true
    request: { method: POST, url: "{{ inputs.base_url }}/v1/subscriptions/0/apiservice/access" }
    capture: { first: { jsonpath: "$.organizationName", single: true } }
  - id: once
    request: { url: "{{ inputs.base_url }}/v1/subscriptions/0/apps" }
  - id: enable
    for_each: inputs.children
    request:
      method: POST
      url: "{{ inputs.base_url }}/v1/subscriptions/{{ item }}/apiservice/access"
      headers: { X-First-App: "{{ first }}" }
"#;
    let dir = tempfile::tempdir().unwrap();
    let store = stored(&dir);
    let urls = sandbox.urls();
    let creds = sandbox.credentials().tibco.clone();
    let children = serde_json::to_string(&creds.children[..8]).unwrap();
    for index in 0..2 {
        let out = Whisk::new()
            .input("base_url", &urls.tci_base)
            .input("token_url", &urls.tci_token_url)
            .input("children", &children)
            .env("TCI_CLIENT_ID", &creds.client_id)
            .env("TCI_CLIENT_SECRET", &creds.client_secret)
            .env("TCI_REFRESH_TOKEN", &creds.refresh_token)
            .arg("--token-store")
            .arg(&store)
            .arg("--shard")
            .arg(format!("{index}/2"))
            .run(recipe);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let steps = &out.report.as_ref().unwrap()["steps"];
        assert_eq!(steps[0]["status"], "succeeded");
        let once = if index == 0 { "succeeded" } else { "skipped" };
        assert_eq!(steps[1]["status"], once);
    }
    let stats = sandbox.stats();
    assert_eq!(stats.requests_to("/tci/v1/subscriptions/0/apps"), 1);
    assert_eq!(stats.enables.get("100").copied(), Some(2));
    for child in &creds.children[..8] {
        assert_eq!(stats.enables.get(child).copied(), Some(1), "child {child}");
    }
}
