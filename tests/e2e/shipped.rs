//! Every shipped recipe validates, and runs against the embedded sandbox with its report pinned.

use std::path::{Path, PathBuf};

use whisk::sandbox::{Fault, Sandbox, SandboxConfig, SandboxData};

use crate::harness::{Output, Whisk, report_settings};

fn recipes() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes"),
        &mut found,
    );
    found.sort();
    found
}

fn recipe(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("recipes")
        .join(name)
}

async fn sandbox(data: SandboxData) -> Sandbox {
    whisk::sandbox::start(SandboxConfig::new(data).with_port(0))
        .await
        .expect("sandbox starts")
}

fn tibco(whisk: Whisk, sandbox: &Sandbox) -> Whisk {
    let credentials = sandbox.credentials().tibco.clone();
    let urls = sandbox.urls();
    whisk
        .input("base_url", &urls.tci_base)
        .input("token_url", &urls.tci_token_url)
        .env("TCI_CLIENT_ID", &credentials.client_id)
        .env("TCI_CLIENT_SECRET", &credentials.client_secret)
        .env("TCI_REFRESH_TOKEN", &credentials.refresh_token)
}

fn assert_no_secrets(out: &Output, sandbox: &Sandbox) {
    let tibco = &sandbox.credentials().tibco;
    let oracle = &sandbox.credentials().oracle;
    for secret in [
        &tibco.client_secret,
        &tibco.refresh_token,
        &oracle.client_secret,
    ] {
        assert!(
            !out.everything().contains(secret.as_str()),
            "secret leaked: {secret}"
        );
    }
    assert!(
        !out.everything().contains("Bearer "),
        "a bearer token leaked"
    );
}

#[test]
fn every_shipped_recipe_validates() {
    let recipes = recipes();
    assert!(recipes.len() >= 3, "{recipes:?}");
    let mut args = vec!["validate".to_string()];
    args.extend(recipes.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = Whisk::new().command(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tibco_enable_api_access() {
    let mut data = SandboxData::default();
    // The apps listing is throttled twice first: the retry policy honours Retry-After.
    data.faults
        .push(Fault::status("/tci/v1/subscriptions/0/apps", 429, 1).with_retry_after(0));
    let sandbox = sandbox(data).await;
    let children = serde_json::to_string(&sandbox.credentials().tibco.children[..5]).unwrap();
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let out = tibco(whisk, &sandbox)
        .input("child_locators", &children)
        .input("concurrency", "2")
        .run_file(&recipe("tibco/enable-api-access.yaml"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_secrets(&out, &sandbox);
    assert_eq!(out.outputs()["enabled"], 5);
    assert_eq!(
        sandbox.stats().token_requests_for("tibco", "refresh_token"),
        1
    );
    let mut report = out.report.clone().unwrap();
    report["recipe"]["path"] = "recipes/tibco/enable-api-access.yaml".into();
    report_settings(&dir)
        .bind(|| insta::assert_json_snapshot!("shipped_tibco_enable_api_access", report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tibco_enable_api_access_refuses_another_family() {
    let sandbox = sandbox(SandboxData::default()).await;
    let out = tibco(Whisk::new(), &sandbox)
        .input("child_locators", r#"["101","201"]"#)
        .run_file(&recipe("tibco/enable-api-access.yaml"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("1 of 2 iterations of step `enable_children` failed"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("got 403"), "{}", out.stderr);
    assert_no_secrets(&out, &sandbox);
}

/// Unattended runs one after another: the store keeps the rotated refresh token, which the
/// next run and the other TIBCO recipe (same key) refresh with, while the environment still
/// holds the spent seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tibco_recipes_run_again_and_again_with_the_stored_rotating_token() {
    let mut data = SandboxData::default();
    // Tokens run out between the runs, so that each one refreshes.
    data.set_access_token_lifetime(0.3);
    let sandbox = sandbox(data).await;
    let store = tempfile::tempdir().unwrap();
    let store_env = store.path().display().to_string();
    let runs = [
        "tibco/enable-api-access.yaml",
        "tibco/enable-api-access.yaml",
        "tibco/list-apps.yaml",
        "tibco/enable-api-access.yaml",
    ];
    for (n, name) in runs.iter().enumerate() {
        std::thread::sleep(std::time::Duration::from_millis(350));
        let mut whisk = tibco(Whisk::new(), &sandbox).env("WHISK_TOKEN_STORE", &store_env);
        if name.contains("enable") {
            whisk = whisk.input("child_locators", r#"["101","102"]"#);
        }
        let out = whisk.run_file(&recipe(name));
        assert_eq!(out.code, 0, "run {n} of {name}: {}", out.stderr);
        assert_no_secrets(&out, &sandbox);
    }
    let stats = sandbox.stats();
    assert_eq!(stats.token_errors_for("tibco", "invalid_grant"), 0);
    assert_eq!(
        stats.token_requests_for("tibco", "refresh_token"),
        runs.len() as u64,
        "one refresh per run"
    );
}

/// Without `store:`, the second run's refresh token is spent: the message says so and says
/// what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_refresh_token_says_what_to_do() {
    let mut data = SandboxData::default();
    data.tibco.organizations[0].api_access = true;
    let sandbox = sandbox(data).await;
    let text = std::fs::read_to_string(recipe("tibco/list-apps.yaml")).unwrap();
    let without_store = text.replace("      store: tibco\n", "");
    assert_ne!(text, without_store);
    let mut outs = Vec::new();
    for _ in 0..2 {
        outs.push(tibco(Whisk::new(), &sandbox).run(&without_store));
    }
    assert_eq!(outs[0].code, 0, "{}", outs[0].stderr);
    assert_eq!(outs[1].code, 3, "{}", outs[1].stderr);
    let stderr = &outs[1].stderr;
    assert!(
        stderr.contains("refused the `refresh_token` grant with 400 `invalid_grant`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the refresh token was already used or has expired")
            && stderr.contains("add `store: <key>` to auth profile `tci`"),
        "{stderr}"
    );
    for out in &outs {
        assert_no_secrets(out, &sandbox);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tibco_list_apps() {
    let data = SandboxData::parse("tibco:\n  organizations:\n    - locator: \"100\"\n      name: Parent\n      api_access: true\n      apps:\n        - { id: app-1, name: order-sync }\n        - { id: app-2, name: billing }\n", false).unwrap();
    let sandbox = sandbox(data).await;
    let out = tibco(Whisk::new(), &sandbox).run_file(&recipe("tibco/list-apps.yaml"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_secrets(&out, &sandbox);
    assert_eq!(out.outputs()["count"], 2);
    assert_eq!(out.outputs()["apps"][1]["name"], "billing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oracle_list_connections_through_the_runtime_host() {
    let sandbox = sandbox(SandboxData::default()).await;
    let urls = sandbox.urls();
    let oracle = sandbox.credentials().oracle.clone();
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let out = whisk
        .input("token_url", &urls.oracle_token_url)
        .input("runtime_url", &urls.oracle_runtime_base)
        .input("design_time_host", &sandbox.main_addr().to_string())
        .input("scope", &oracle.scope)
        .env("OIC_CLIENT_ID", &oracle.client_id)
        .env("OIC_CLIENT_SECRET", &oracle.client_secret)
        .run_file(&recipe("oracle/list-connections.yaml"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_secrets(&out, &sandbox);
    assert!(
        sandbox
            .stats()
            .last_authorization_for("/ic/api/integration/v1/connections")
            .is_some()
    );
    let mut report = out.report.clone().unwrap();
    report["recipe"]["path"] = "recipes/oracle/list-connections.yaml".into();
    report_settings(&dir)
        .bind(|| insta::assert_json_snapshot!("shipped_oracle_list_connections", report));
}

/// `private_key_jwt`: each token request carries a new RS256 assertion the sandbox verifies
/// with the client's certificate (tokens live 0.3 s, so the run makes several); a key the
/// client did not register is refused, and no key or assertion shows in any output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oracle_list_connections_with_a_private_key_jwt() {
    let mut data = SandboxData::default();
    data.oracle.access_token_lifetime = Some(0.3);
    data.latency_ms = Some(120);
    let sandbox = sandbox(data).await;
    let urls = sandbox.urls();
    let oracle = sandbox.credentials().oracle.clone();
    let key = std::fs::read_to_string(recipe("oracle/examples/sandbox-client-key.pem")).unwrap();
    let run = |key: &str| {
        Whisk::new()
            .input("token_url", &urls.oracle_token_url)
            .input("runtime_url", &urls.oracle_runtime_base)
            .input("design_time_host", &sandbox.main_addr().to_string())
            .input("scope", &oracle.scope)
            .env("OIC_CLIENT_ID", &oracle.client_id)
            .env("OIC_CLIENT_KEY", key)
            .arg("-vv")
            .run_file(&recipe("oracle/list-connections-jwt.yaml"))
    };
    let out = run(&key);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.outputs()["connections"].as_array().unwrap().len(), 4);
    let stats = sandbox.stats();
    assert!(
        stats.token_requests_for("oracle", "client_credentials") >= 2,
        "{:?}",
        stats.token_requests
    );
    assert!(stats.token_errors.is_empty(), "{:?}", stats.token_errors);
    let body = key.lines().nth(1).unwrap();
    assert!(!out.everything().contains(body), "the key leaked");
    assert!(
        !out.everything().contains("client_assertion=ey"),
        "an assertion leaked"
    );
    // Another key: the sandbox refuses it as Identity Domains would.
    let other = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .expect("openssl");
    let other = String::from_utf8(other.stdout).unwrap();
    let refused = run(&other);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("does not verify with the client's certificate"),
        "{}",
        refused.stderr
    );
    assert!(!refused.everything().contains(other.lines().nth(1).unwrap()));
}

#[test]
fn demo_runs_with_no_network_and_no_credentials() {
    let whisk = Whisk::new();
    let out = whisk.command(&["demo"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.outputs()["enabled"], 25);
    assert!(
        out.stderr
            .contains("requesting a token (refresh_token, expiring)"),
        "the token must expire mid-run:\n{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("whisk-demo-secret")
            && !out.stderr.contains("whisk-demo-refresh-token")
    );
}

/// Start an app and wait until it runs: the sandbox answers `Starting` to a few polls, while
/// access tokens live 0.3 s — so they run out between polls and each poll takes a fresh one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tibco_start_app_polls_until_running() {
    let data = SandboxData::parse(
        "access_token_lifetime: 0.3\ntibco:\n  start_polls: 3\n  organizations:\n    - locator: \"100\"\n      name: Parent\n      api_access: true\n      apps:\n        - { id: app-1, name: order-sync, state: Stopped }\n",
        false,
    )
    .unwrap();
    let sandbox = sandbox(data).await;
    let out = tibco(Whisk::new(), &sandbox)
        .input("app_id", "app-1")
        .run_file(&recipe("tibco/start-app.yaml"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_secrets(&out, &sandbox);
    assert_eq!(out.outputs()["state"], "Running");
    let stats = sandbox.stats();
    assert_eq!(
        stats.requests_to("/tci/v1/subscriptions/0/apps/app-1/start"),
        1
    );
    assert_eq!(
        stats.requests_to("/tci/v1/subscriptions/0/apps/app-1"),
        4,
        "three `Starting` answers, then `Running`"
    );
    let polls = &out.report.as_ref().unwrap()["steps"][1]["polls"];
    assert_eq!(polls["count"], 4, "{polls}");
    assert_eq!(polls["outcome"], "satisfied");
    let entries = polls["entries"].as_array().unwrap();
    assert_eq!(entries[0]["captures"]["state"], "Starting");
    assert_eq!(entries[3]["captures"]["state"], "Running");
    assert!(
        entries[1].get("captures").is_none(),
        "unchanged: not repeated"
    );
    assert!(
        stats.token_grants.get("tibco").copied().unwrap_or(0) >= 2,
        "tokens ran out between polls: {:?}",
        stats.token_grants
    );
    assert!(stats.token_errors.is_empty(), "{:?}", stats.token_errors);
}
