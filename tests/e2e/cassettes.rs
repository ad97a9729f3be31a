//! `whisk record` and `whisk test`: record against the sandbox, replay with the sandbox stopped,
//! catch a change to the recipe, accept it with `--update`.

use std::path::Path;
use std::process::Command;

use whisk::sandbox::{Fault, Sandbox, SandboxConfig, SandboxData};

use crate::harness::scrub;

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

fn whisk(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut command = Command::new(env!("CARGO_BIN_EXE_whisk"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("TCI_CLIENT_ID")
        .env_remove("TCI_CLIENT_SECRET")
        .env_remove("TCI_REFRESH_TOKEN")
        .env("WHISK_TOKEN_STORE", dir.join("tokens"));
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run whisk");
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn copy_recipe(name: &str, to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("recipes")
        .join(name);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

/// Secrets of the sandbox and any token it minted.
fn assert_clean(text: &str, sandbox_secrets: &[String]) {
    for secret in sandbox_secrets {
        assert!(
            !text.contains(secret.as_str()),
            "secret leaked: {secret}\n{text}"
        );
    }
    let token = regex::Regex::new(r"(tci|oic|ibm)-(at|rt)-[0-9A-Za-z_-]{8}").unwrap();
    assert!(!token.is_match(text), "a token leaked:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_replay_offline_catch_a_change_and_update() {
    let mut data = SandboxData::default();
    // A throttled answer with a long Retry-After: the replay must not wait for it.
    data.faults.push(
        Fault::status("/tci/v1/subscriptions/102/apiservice/access", 429, 1).with_retry_after(2),
    );
    let sandbox: Sandbox = whisk::sandbox::start(SandboxConfig::new(data).with_port(0))
        .await
        .expect("sandbox starts");
    let urls = sandbox.urls();
    let tibco = sandbox.credentials().tibco.clone();
    let oracle = sandbox.credentials().oracle.clone();
    let secrets = vec![
        tibco.client_id.clone(),
        tibco.client_secret.clone(),
        tibco.refresh_token.clone(),
        oracle.client_secret.clone(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_recipe(
        "tibco/enable-api-access.yaml",
        &root.join("runbooks/enable-api-access.yaml"),
    );
    copy_recipe(
        "oracle/list-connections.yaml",
        &root.join("runbooks/oracle/list-connections.yaml"),
    );

    let mut everything = String::new();
    let recorded = whisk(
        root,
        &[
            "record",
            "runbooks/enable-api-access.yaml",
            "--input",
            &format!("base_url={}", urls.tci_base),
            "--input",
            &format!("token_url={}", urls.tci_token_url),
            "--input",
            r#"child_locators=["101","102","103"]"#,
            "-vv",
        ],
        &[
            ("TCI_CLIENT_ID", &tibco.client_id),
            ("TCI_CLIENT_SECRET", &tibco.client_secret),
            ("TCI_REFRESH_TOKEN", &tibco.refresh_token),
        ],
    );
    assert_eq!(recorded.code, 0, "{}", recorded.stderr);
    assert!(
        recorded
            .stderr
            .contains("recorded 8 exchanges to runbooks/enable-api-access.cassette.json"),
        "{}",
        recorded.stderr
    );
    everything += &recorded.stdout;
    everything += &recorded.stderr;
    // The Oracle recipe: Basic client authentication and a redirect, recorded hop by hop.
    let oracle_recorded = whisk(
        root,
        &[
            "record",
            "runbooks/oracle/list-connections.yaml",
            "--cassette",
            "cassettes/oracle.cassette.json",
            "--input",
            &format!("token_url={}", urls.oracle_token_url),
            "--input",
            &format!("runtime_url={}", urls.oracle_runtime_base),
            "--input",
            &format!("design_time_host={}", sandbox.main_addr()),
            "--input",
            &format!("scope={}", oracle.scope),
        ],
        &[
            ("OIC_CLIENT_ID", &oracle.client_id),
            ("OIC_CLIENT_SECRET", &oracle.client_secret),
        ],
    );
    assert_eq!(oracle_recorded.code, 0, "{}", oracle_recorded.stderr);
    everything += &oracle_recorded.stdout;
    everything += &oracle_recorded.stderr;
    let cassette =
        std::fs::read_to_string(root.join("runbooks/enable-api-access.cassette.json")).unwrap();
    assert!(cassette.contains("\"status\": 429"), "{cassette}");
    assert!(
        cassette.contains("\"authorization\": \"Bearer ***\""),
        "{cassette}"
    );
    let oracle_cassette =
        std::fs::read_to_string(root.join("cassettes/oracle.cassette.json")).unwrap();
    assert!(
        oracle_cassette.contains("\"recipe\": \"../runbooks/oracle/list-connections.yaml\""),
        "{oracle_cassette}"
    );
    assert!(
        oracle_cassette.contains("\"status\": 307"),
        "{oracle_cassette}"
    );
    for file in [
        "runbooks/enable-api-access.cassette.json",
        "runbooks/enable-api-access.snapshot.json",
        "cassettes/oracle.cassette.json",
        "cassettes/oracle.snapshot.json",
    ] {
        everything += &std::fs::read_to_string(root.join(file)).unwrap();
    }

    // Offline: the sandbox is gone, and no secret is in the environment.
    let addr = sandbox.main_addr();
    sandbox.shutdown().await;
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the sandbox still answers"
    );
    let started = std::time::Instant::now();
    let passed = whisk(root, &["test"], &[]);
    assert_eq!(passed.code, 0, "{}\n{}", passed.stdout, passed.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2) * 5,
        "the replay waited"
    );
    insta::assert_snapshot!("whisk_test_pass", passed.stdout);
    everything += &passed.stdout;
    everything += &passed.stderr;

    // A change to the recipe that sends the same requests: a step's name. The report
    // differs; `--update` accepts it.
    let recipe = root.join("runbooks/enable-api-access.yaml");
    let text = std::fs::read_to_string(&recipe).unwrap();
    let renamed = text.replacen(
        "name: Enable API access for the token's own organization",
        "name: Enable API access for the parent organization",
        1,
    );
    assert_ne!(text, renamed);
    std::fs::write(&recipe, &renamed).unwrap();
    let failed = whisk(root, &["test", "runbooks"], &[]);
    assert_eq!(failed.code, 1, "{}\n{}", failed.stdout, failed.stderr);
    insta::assert_snapshot!("whisk_test_mismatch", scrub(&failed.stdout, root));
    everything += &failed.stdout;
    let updated = whisk(root, &["test", "runbooks", "--update"], &[]);
    assert_eq!(updated.code, 0, "{}\n{}", updated.stdout, updated.stderr);
    assert!(
        updated
            .stdout
            .contains("UPDATED runbooks/enable-api-access.snapshot.json"),
        "{}",
        updated.stdout
    );
    everything += &updated.stdout;

    // A change that sends a request the cassette does not hold: the first request gains a
    // query parameter. The replay fails for want of an exchange, and `--update` refuses it:
    // the snapshot stays as it was.
    let snapshot_path = root.join("runbooks/enable-api-access.snapshot.json");
    let accepted = std::fs::read_to_string(&snapshot_path).unwrap();
    let changed = renamed.replacen(
        "url: \"{{ inputs.base_url }}/v1/subscriptions/0/apiservice/access\"",
        "url: \"{{ inputs.base_url }}/v1/subscriptions/0/apiservice/access\"\n      query: { notify: \"true\" }",
        1,
    );
    assert_ne!(renamed, changed);
    std::fs::write(&recipe, changed).unwrap();
    for args in [&["test", "runbooks"][..], &["test", "runbooks", "--update"]] {
        let refused = whisk(root, args, &[]);
        assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
        insta::assert_snapshot!("whisk_test_missing_exchange", scrub(&refused.stdout, root));
        everything += &refused.stdout;
    }
    assert_eq!(std::fs::read_to_string(&snapshot_path).unwrap(), accepted);
    std::fs::write(&recipe, &renamed).unwrap();

    let again = whisk(root, &["test"], &[]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("2 passed, 0 failed"),
        "{}",
        again.stdout
    );
    everything += &again.stdout;
    assert_clean(&everything, &secrets);
}

#[test]
fn test_without_cassettes_or_with_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let none = whisk(dir.path(), &["test"], &[]);
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.contains("no `*.cassette.json` under `.`"),
        "{}",
        none.stderr
    );
    std::fs::write(
        dir.path().join("x.cassette.json"),
        "{\"whisk_cassette\": 1}",
    )
    .unwrap();
    let broken = whisk(dir.path(), &["test"], &[]);
    assert_eq!(broken.code, 1);
    assert!(
        broken.stdout.contains("FAIL    x.cassette.json"),
        "{}",
        broken.stdout
    );
    assert!(
        broken.stderr.contains("is not a whisk cassette"),
        "{}",
        broken.stderr
    );
}

/// Recording a run that fails writes nothing and says so, unless `--allow-failure` asks to
/// keep it; a cassette of a failed run replays as failing and passes `whisk test`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_a_failed_run() {
    let sandbox: Sandbox =
        whisk::sandbox::start(SandboxConfig::new(SandboxData::default()).with_port(0))
            .await
            .expect("sandbox starts");
    let urls = sandbox.urls();
    let tibco = sandbox.credentials().tibco.clone();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // API access is not enabled for the parent yet: list-apps gets 403.
    copy_recipe("tibco/list-apps.yaml", &root.join("list-apps.yaml"));
    let base = format!("base_url={}", urls.tci_base);
    let token = format!("token_url={}", urls.tci_token_url);
    let env = [
        ("TCI_CLIENT_ID", tibco.client_id.as_str()),
        ("TCI_CLIENT_SECRET", tibco.client_secret.as_str()),
        ("TCI_REFRESH_TOKEN", tibco.refresh_token.as_str()),
    ];
    let args = [
        "record",
        "list-apps.yaml",
        "--input",
        &base,
        "--input",
        &token,
    ];
    let refused = whisk(root, &args, &env);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "error: the recorded run failed (exit code 1): no cassette or snapshot written"
        ) && refused.stderr.contains("--allow-failure"),
        "{}",
        refused.stderr
    );
    assert!(!root.join("list-apps.cassette.json").exists());
    assert!(!root.join("list-apps.snapshot.json").exists());

    let kept = whisk(root, &[&args[..], &["--allow-failure"]].concat(), &env);
    assert_eq!(kept.code, 1, "{}", kept.stderr);
    assert!(
        kept.stderr
            .contains("recorded a failed run: 2 exchanges to list-apps.cassette.json"),
        "{}",
        kept.stderr
    );
    let cassette = std::fs::read_to_string(root.join("list-apps.cassette.json")).unwrap();
    assert!(cassette.contains("\"run_failed\": true"), "{cassette}");
    sandbox.shutdown().await;
    let replayed = whisk(root, &["test"], &[]);
    assert_eq!(replayed.code, 0, "{}\n{}", replayed.stdout, replayed.stderr);
    assert!(
        replayed.stdout.contains("PASS    list-apps.cassette.json"),
        "{}",
        replayed.stdout
    );
    let snapshot = std::fs::read_to_string(root.join("list-apps.snapshot.json")).unwrap();
    assert!(snapshot.contains("api_access_not_enabled"), "{snapshot}");
    assert_clean(
        &format!("{}{}{cassette}{snapshot}", refused.stderr, kept.stderr),
        &[tibco.client_secret.clone(), tibco.refresh_token.clone()],
    );
}
