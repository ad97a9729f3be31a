//! The token store against the sandbox's TIBCO token endpoint, which rotates refresh tokens and
//! refuses a spent one with `invalid_grant`: persistence across processes, sharing between
//! processes, a kill -9 right after a refresh, seeding, and the file's modes.

use std::time::Duration;

use whisk::sandbox::{Fault, Sandbox, SandboxData};

use crate::harness::Output;
use crate::oauth_support::*;

const SUBSCRIPTIONS: &str = "/tci/v1/subscriptions";
const ACCESS: &str = "/tci/v1/subscriptions/0/apiservice/access";

/// A recipe with the TIBCO profile (`store: tci`) and the given steps.
fn recipe(steps: &str) -> String {
    format!(
        r#"
version: 1
name: tibco-store
inputs:
  base: {{ type: string }}
  token_url: {{ type: string }}
  rounds: {{ type: array, default: [1] }}
secrets:
  client_id: {{ env: TCI_CLIENT_ID }}
  client_secret: {{ env: TCI_CLIENT_SECRET }}
  refresh_token: {{ env: TCI_REFRESH_TOKEN }}
auth:
  tci:
    oauth2:
      grant: refresh_token
      token_url: "{{{{ inputs.token_url }}}}"
      client_id: "{{{{ secrets.client_id }}}}"
      client_secret: "{{{{ secrets.client_secret }}}}"
      refresh_token: "{{{{ secrets.refresh_token }}}}"
      scope: TCI
      store: tci
defaults:
  auth: tci
steps:
{steps}
"#
    )
}

const ONE_STEP: &str = r#"
  - id: subscriptions
    for_each: inputs.rounds
    request: { url: "{{ inputs.base }}/v1/subscriptions" }
"#;

struct Tibco<'a> {
    sandbox: &'a Sandbox,
    space: &'a Workspace,
    recipe: std::path::PathBuf,
    /// The refresh token in the environment (the sandbox's seed unless a test changes it).
    seed: String,
}

impl<'a> Tibco<'a> {
    fn new(sandbox: &'a Sandbox, space: &'a Workspace, steps: &str) -> Tibco<'a> {
        Tibco {
            sandbox,
            space,
            recipe: space.file("recipe.yaml", &recipe(steps)),
            seed: sandbox.credentials().tibco.refresh_token.clone(),
        }
    }

    fn command(&self, report: &str, extra: &[&str]) -> std::process::Command {
        let urls = self.sandbox.urls();
        let creds = &self.sandbox.credentials().tibco;
        let base = format!("base={}", urls.tci_base);
        let token_url = format!("token_url={}", urls.tci_token_url);
        let report = self.space.report(report).display().to_string();
        let recipe = self.recipe.display().to_string();
        let store = self.space.store_arg();
        let mut args = vec![
            "run",
            &recipe,
            "--input",
            &base,
            "--input",
            &token_url,
            "--report",
            &report,
            "--token-store",
            &store,
        ];
        args.extend_from_slice(extra);
        whisk(
            self.space.path(),
            &args,
            &[
                ("TCI_CLIENT_ID", &creds.client_id),
                ("TCI_CLIENT_SECRET", &creds.client_secret),
                ("TCI_REFRESH_TOKEN", &self.seed),
            ],
        )
    }

    fn run(&self, report: &str) -> Output {
        let path = self.space.report(report);
        finish(self.command(report, &[]), Some(&path))
    }

    fn refreshes(&self) -> u64 {
        self.sandbox
            .stats()
            .token_requests_for("tibco", "refresh_token")
    }

    /// Token requests the sandbox refused.
    fn refused_token_requests(&self) -> usize {
        self.sandbox
            .stats()
            .log
            .iter()
            .filter(|r| r.path == "/idm/v1/oauth2/token" && r.status != 200)
            .count()
    }

    fn secrets(&self) -> Vec<String> {
        let creds = &self.sandbox.credentials().tibco;
        let mut secrets = vec![creds.client_secret.clone(), creds.refresh_token.clone()];
        if self.space.store().join("tci.json").exists() {
            secrets.extend(stored_secrets(&self.space.store(), "tci"));
        }
        secrets
    }

    fn assert_no_secrets(&self, outputs: &[&Output]) {
        let secrets = self.secrets();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_secrets(outputs, &secrets);
    }
}

/// Refreshes `refresh_token` directly at the sandbox: (status, `error`).
async fn redeem(sandbox: &Sandbox, refresh_token: &str) -> (u16, String) {
    let creds = &sandbox.credentials().tibco;
    let response = reqwest::Client::new()
        .post(sandbox.urls().tci_token_url)
        .basic_auth(&creds.client_id, Some(&creds.client_secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_process_reuses_a_stored_access_token() {
    let sandbox = sandbox(SandboxData::default()).await;
    let space = Workspace::new();
    let tibco = Tibco::new(&sandbox, &space, ONE_STEP);
    let first = tibco.run("first.json");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = tibco.run("second.json");
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(
        tibco.refreshes(),
        1,
        "the second process used the stored access token"
    );
    let record = stored(&space.store(), "tci");
    assert!(record["expires_at"].as_u64().is_some());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&space.store().join("tci.json")), 0o600);
        assert_eq!(mode(&space.store()), 0o700);
    }
    tibco.assert_no_secrets(&[&first, &second]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_rotation_a_new_process_succeeds_and_the_old_refresh_token_is_refused() {
    let sandbox = sandbox(lifetime(2)).await;
    let space = Workspace::new();
    let tibco = Tibco::new(&sandbox, &space, ONE_STEP);
    let first = tibco.run("first.json");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let rotated = stored_refresh(&space.store(), "tci");
    assert_ne!(rotated, tibco.seed, "the rotated refresh token was stored");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // The environment still holds the spent seed: the store's newer token must win.
    let second = tibco.run("second.json");
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(tibco.refreshes(), 2);
    let newest = stored_refresh(&space.store(), "tci");
    assert_ne!(newest, rotated);
    assert_eq!(tibco.refused_token_requests(), 0);
    assert_eq!(
        redeem(&sandbox, &rotated).await,
        (400, "invalid_grant".to_string())
    );
    assert_eq!(
        redeem(&sandbox, &tibco.seed).await,
        (400, "invalid_grant".to_string())
    );
    tibco.assert_no_secrets(&[&first, &second]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_rotating_refresh_token() {
    let mut data = lifetime(2);
    // Each process runs for about four seconds: both must refresh, more than once.
    data.faults.push(Fault::slow(
        SUBSCRIPTIONS,
        Duration::from_millis(600),
        u32::MAX,
    ));
    let sandbox = sandbox(data).await;
    let space = Workspace::new();
    let tibco = Tibco::new(&sandbox, &space, ONE_STEP);
    let rounds = "rounds=[1,2,3,4,5,6,7]";
    let a = spawn(tibco.command("a.json", &["--input", rounds]));
    let b = spawn(tibco.command("b.json", &["--input", rounds]));
    let a = wait(a, Some(&space.report("a.json")));
    let b = wait(b, Some(&space.report("b.json")));
    assert_eq!(a.code, 0, "first process: {}", a.stderr);
    assert_eq!(b.code, 0, "second process: {}", b.stderr);
    for out in [&a, &b] {
        assert!(
            !out.everything().contains("invalid_grant"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(
        tibco.refused_token_requests(),
        0,
        "no refresh token was spent twice"
    );
    assert!(
        tibco.refreshes() >= 3,
        "the processes refreshed: {}",
        tibco.refreshes()
    );
    tibco.assert_no_secrets(&[&a, &b]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_right_after_a_refresh_loses_nothing() {
    let mut data = lifetime(2);
    // The first step outlives half the token's lifetime, so the second step refreshes first;
    // then its request hangs until the process is killed.
    data.faults
        .push(Fault::slow(SUBSCRIPTIONS, Duration::from_millis(1200), 1));
    data.faults
        .push(Fault::slow(ACCESS, Duration::from_secs(60), 1));
    let sandbox = sandbox(data).await;
    let space = Workspace::new();
    let steps = r#"
  - id: subscriptions
    request: { url: "{{ inputs.base }}/v1/subscriptions" }
  - id: hangs
    request: { url: "{{ inputs.base }}/v1/subscriptions/0/apiservice/access" }
"#;
    let tibco = Tibco::new(&sandbox, &space, steps);
    let mut child = spawn(tibco.command("killed.json", &[]));
    until(
        Duration::from_secs(20),
        "the request after the refresh",
        || sandbox.stats().requests_to(ACCESS) == 1,
    )
    .await;
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert_eq!(tibco.refreshes(), 2, "one refresh at first use, one after");
    let survivor = stored_refresh(&space.store(), "tci");
    let after = Tibco::new(&sandbox, &space, ONE_STEP);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let out = after.run("after.json");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        tibco.refused_token_requests(),
        0,
        "the stored refresh token was the live one"
    );
    assert_ne!(stored_refresh(&space.store(), "tci"), survivor);
    after.assert_no_secrets(&[&out]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_refresh_token_in_the_environment_reseeds_the_store() {
    let sandbox = sandbox(SandboxData::default()).await;
    let space = Workspace::new();
    let mut tibco = Tibco::new(&sandbox, &space, ONE_STEP);
    let first = tibco.run("first.json");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let old_seed_digest = stored(&space.store(), "tci")["seed_sha256"].clone();
    // The person generates a new refresh token and puts it in the environment.
    let creds = &sandbox.credentials().tibco;
    let fresh: serde_json::Value = reqwest::Client::new()
        .post(sandbox.urls().tci_token_url)
        .basic_auth(&creds.client_id, Some(&creds.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("JSON");
    tibco.seed = fresh["refresh_token"]
        .as_str()
        .expect("refresh token")
        .into();
    let second = tibco.run("second.json");
    assert_eq!(second.code, 0, "{}", second.stderr);
    let record = stored(&space.store(), "tci");
    assert_ne!(record["seed_sha256"], old_seed_digest);
    assert_eq!(
        redeem(&sandbox, &tibco.seed).await,
        (400, "invalid_grant".to_string()),
        "the new seed was used"
    );
    let mut secrets = tibco.secrets();
    secrets.push(tibco.seed.clone());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secrets(&[&first, &second], &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_key_of_another_client_is_refused_with_exit_3() {
    let sandbox = sandbox(SandboxData::default()).await;
    let space = Workspace::new();
    let tibco = Tibco::new(&sandbox, &space, ONE_STEP);
    assert_eq!(tibco.run("first.json").code, 0);
    let mut record = stored(&space.store(), "tci");
    record["client_id"] = "someone-else".into();
    std::fs::write(
        space.store().join("tci.json"),
        serde_json::to_string(&record).unwrap(),
    )
    .unwrap();
    let out = tibco.run("second.json");
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("holds tokens of another client"),
        "{}",
        out.stderr
    );
    tibco.assert_no_secrets(&[&out]);
}
