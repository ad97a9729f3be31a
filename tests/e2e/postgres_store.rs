//! The PostgreSQL token store (`--token-store postgres://…`) against a real PostgreSQL: four
//! shard processes at once, under faults and short-lived tokens, share one rotating refresh
//! token without spending it twice; `whisk auth status` and `logout` read and remove its row;
//! a database that cannot be reached is an auth failure that names it, password never shown.
//!
//! The server: `WHISK_TEST_POSTGRES` (a URL; `.ci/run` sets it from `.ci/postgres start`),
//! else `.ci/postgres start` is tried here. Without PostgreSQL installed these tests say so
//! on stderr and pass — unless `WHISK_REQUIRE_POSTGRES` is set, as `.ci/run` sets it, when
//! they fail.

use std::path::Path;
use std::sync::OnceLock;

use whisk::sandbox::SandboxData;

use crate::fault_matrix::{children, data, each_child_once, recipe, why};
use crate::harness::Whisk;
use crate::oauth_support::{assert_no_secrets, sandbox};

/// The server's URL, once per test process; `None` when there is none (and none required).
fn server() -> Option<&'static str> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("WHISK_TEST_POSTGRES")
            && !url.is_empty()
        {
            return Some(url);
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres");
        let started = std::process::Command::new("bash")
            .arg(&script)
            .arg("start")
            .output();
        match started {
            Ok(out) if out.status.success() => {
                Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
            }
            other => {
                let why = match other {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var_os("WHISK_REQUIRE_POSTGRES").is_none(),
                    "PostgreSQL is required (WHISK_REQUIRE_POSTGRES) but `.ci/postgres start` failed: {why}"
                );
                eprintln!(
                    "NOT TESTED: the PostgreSQL token store; `bash .ci/postgres install` installs PostgreSQL ({why})"
                );
                None
            }
        }
    })
    .as_deref()
}

/// A database of its own for one test, on the server: its URL.
async fn database(server: &str, name: &str) -> String {
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(connection);
    let db = format!("whisk_{name}_{}", std::process::id());
    for statement in [
        format!("DROP DATABASE IF EXISTS {db}"),
        format!("CREATE DATABASE {db}"),
    ] {
        client
            .batch_execute(&statement)
            .await
            .expect("create a database");
    }
    let (base, _) = server.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{db}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_shards_share_one_rotating_refresh_token_through_postgres() {
    let Some(server) = server() else { return };
    let store = database(server, "shards").await;
    let sandbox = sandbox(data(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let recipe = recipe(dir.path());
    let urls = sandbox.urls();
    let creds = sandbox.credentials().tibco.clone();
    let locators = serde_json::to_string(&children()).unwrap();
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..4)
            .map(|index| {
                let (urls, creds, locators, store, recipe) =
                    (&urls, &creds, &locators, &store, &recipe);
                scope.spawn(move || {
                    Whisk::new()
                        .input("base_url", &urls.tci_base)
                        .input("token_url", &urls.tci_token_url)
                        .input("child_locators", locators)
                        .input("concurrency", "4")
                        .env("TCI_CLIENT_ID", &creds.client_id)
                        .env("TCI_CLIENT_SECRET", &creds.client_secret)
                        .env("TCI_REFRESH_TOKEN", &creds.refresh_token)
                        .arg("--token-store")
                        .arg(store.as_str())
                        .arg("--shard")
                        .arg(format!("{index}/4"))
                        .arg("-vv")
                        .run_file(recipe)
                })
            })
            .collect();
        running.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let stats = sandbox.stats();
    for (i, out) in outputs.iter().enumerate() {
        assert_eq!(out.code, 0, "shard {i}:\n{}", why(out));
        assert_no_secrets(&[out], &[&creds.client_secret, &creds.refresh_token]);
    }
    each_child_once("four shards through PostgreSQL", &stats);
    assert_eq!(
        stats.token_errors_for("tibco", "invalid_grant"),
        0,
        "{:?}",
        stats.token_errors
    );
    assert!(stats.token_requests_for("tibco", "refresh_token") >= 1);

    // The row is there, and `whisk auth` reads and removes it.
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/tibco/enable-api-access.yaml");
    let shipped = shipped.display().to_string();
    let status = Whisk::new().command(&["auth", "status", &shipped, "--token-store", &store]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("row: table `whisk_tokens` of "),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("refresh token: held"),
        "{}",
        status.stdout
    );
    assert_no_secrets(&[&status], &[&creds.client_secret, &creds.refresh_token]);
    let logout = Whisk::new().command(&["auth", "logout", &shipped, "--token-store", &store]);
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    let after = Whisk::new().command(&["auth", "status", "--token-store", &store]);
    assert!(
        after.stdout.contains("no stored tokens"),
        "{}",
        after.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_names_it_without_the_password() {
    let sandbox = sandbox(SandboxData::default()).await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let creds = sandbox.credentials().tibco.clone();
    let urls = sandbox.urls();
    let run = |store: String| {
        Whisk::new()
            .input("base_url", &urls.tci_base)
            .input("token_url", &urls.tci_token_url)
            .input("child_locators", r#"["101"]"#)
            .env("TCI_CLIENT_ID", &creds.client_id)
            .env("TCI_CLIENT_SECRET", &creds.client_secret)
            .env("TCI_REFRESH_TOKEN", &creds.refresh_token)
            .env("PGPASSWORD", "pg-secret-password-4711")
            .arg("--token-store")
            .arg(store)
            .run_file(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/tibco/enable-api-access.yaml"),
            )
    };
    let out = run(format!(
        "postgres://whisk:url-secret-0815@127.0.0.1:{port}/whisk"
    ));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "cannot connect to key `tibco` in the token store postgres://whisk@127.0.0.1:{port}/whisk"
        )),
        "{}",
        out.stderr
    );
    assert_no_secrets(&[&out], &["pg-secret-password-4711", "url-secret-0815"]);
    assert_eq!(
        sandbox
            .stats()
            .requests_to("/tci/v1/subscriptions/0/apiservice/access"),
        0
    );
    let bad = run("postgres://whisk@127.0.0.1:notaport/whisk".into());
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("is not a PostgreSQL URL"),
        "{}",
        bad.stderr
    );
}
