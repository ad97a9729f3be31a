//! `until` and `paginate` against real servers on 127.0.0.1: what the server saw decides.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use whisk::sandbox::{SandboxConfig, SandboxData};

use crate::harness::Whisk;

fn recipe(steps: &str) -> String {
    format!("version: 1\nname: flow\ninputs:\n  base: {{ type: string }}\nsteps:\n{steps}")
}

/// A job whose status is `Pending` for `pending` polls, then `final_state`.
async fn job(pending: usize, final_state: &'static str) -> (MockServer, Arc<AtomicUsize>) {
    let server = MockServer::start().await;
    let polls = Arc::new(AtomicUsize::new(0));
    let seen = polls.clone();
    Mock::given(method("GET"))
        .and(path("/jobs/7"))
        .respond_with(move |_: &Request| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let state = if n < pending { "Pending" } else { final_state };
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"state": state}))
        })
        .mount(&server)
        .await;
    (server, polls)
}

const POLL: &str = "  - id: wait\n    request: { url: \"{{ inputs.base }}/jobs/7\" }\n    capture:\n      state: { jsonpath: $.state, single: true }\n";

#[tokio::test]
async fn until_polls_until_the_condition_holds() {
    let (server, polls) = job(2, "Done").await;
    let out = Whisk::new().input("base", &server.uri()).run(&recipe(&format!(
        "{POLL}    until: {{ that: \"state == 'Done'\", interval: 20ms, timeout: 5s }}\n    check:\n      - that: state == 'Done'\n  - id: after\n    request: {{ url: \"{{{{ inputs.base }}}}/jobs/7?state={{{{ state }}}}\" }}\n"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Three polls, then the next step.
    assert_eq!(polls.load(Ordering::SeqCst), 4);
    let report = out.report.unwrap();
    let polled = &report["steps"][0]["polls"];
    assert_eq!(
        (polled["count"].as_u64(), polled["outcome"].as_str()),
        (Some(3), Some("satisfied"))
    );
    assert_eq!(polled["entries"][0]["wait_ms"], 20);
    assert_eq!(report["steps"][0]["captures"]["state"], "Done");
    assert!(out.stderr.contains("(3 polls)"), "{}", out.stderr);
}

#[tokio::test]
async fn fail_if_stops_at_once_and_timeout_gives_up() {
    let (server, polls) = job(1, "Failed").await;
    let out = Whisk::new().input("base", &server.uri()).run(&recipe(&format!(
        "{POLL}    until: {{ that: \"state == 'Done'\", fail_if: \"state == 'Failed'\", interval: 10ms }}\n"
    )));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    assert!(
        out.stderr.contains(
            "step `wait`: `fail_if: state == 'Failed'` held at poll 2; last: state=\"Failed\""
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.report.unwrap()["steps"][0]["polls"]["outcome"],
        "failed_if"
    );

    let (server, polls) = job(usize::MAX, "never").await;
    let started = Instant::now();
    let out = Whisk::new()
        .input("base", &server.uri())
        .run(&recipe(&format!(
            "{POLL}    until: {{ that: \"state == 'Done'\", interval: 50ms, timeout: 300ms }}\n"
        )));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
    let report = out.report.unwrap();
    let polled = &report["steps"][0]["polls"];
    assert_eq!(polled["outcome"], "timed_out");
    assert_eq!(
        polled["count"].as_u64().unwrap() as usize,
        polls.load(Ordering::SeqCst),
        "every poll the server saw is in the report"
    );
    assert!(
        out.stderr
            .contains("`state == 'Done'` still false after 300ms ("),
        "{}",
        out.stderr
    );

    let (server, polls) = job(usize::MAX, "never").await;
    let out = Whisk::new()
        .input("base", &server.uri())
        .run(&recipe(&format!(
            "{POLL}    until: {{ that: \"state == 'Done'\", interval: 10ms, max_polls: 3 }}\n"
        )));
    assert_eq!(out.code, 1);
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    assert!(
        out.stderr.contains("still false after 3 polls"),
        "{}",
        out.stderr
    );
}

/// A `Retry-After` on a poll's answer sets the wait (here: none, against a 10 s interval).
#[tokio::test]
async fn retry_after_sets_the_wait_between_polls() {
    let server = MockServer::start().await;
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    Mock::given(path("/jobs/7"))
        .respond_with(move |_: &Request| {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let state = if n < 2 { "Pending" } else { "Done" };
            ResponseTemplate::new(202)
                .insert_header("Retry-After", "0")
                .set_body_json(serde_json::json!({"state": state}))
        })
        .mount(&server)
        .await;
    let started = Instant::now();
    let out = Whisk::new()
        .input("base", &server.uri())
        .run(&recipe(&format!(
            "{POLL}    until: {{ that: \"state == 'Done'\", interval: 10s }}\n"
        )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the 10 s interval was waited"
    );
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert_eq!(
        out.report.unwrap()["steps"][0]["polls"]["entries"][0]["wait_ms"],
        0
    );
}

/// SIGINT while waiting between polls ends the run at once, with the polls so far reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_polling_cleanly() {
    let (server, polls) = job(usize::MAX, "never").await;
    let whisk = Whisk::new();
    let file = whisk.file(
        "recipe.yaml",
        &recipe(&format!(
            "{POLL}    until: {{ that: \"state == 'Done'\", interval: 30s }}\n"
        )),
    );
    let report = whisk.dir.path().join("report.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_whisk"))
        .args([
            "run",
            file.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ])
        .arg("--input")
        .arg(format!("base={}", server.uri()))
        .env("WHISK_TOKEN_STORE", whisk.dir.path().join("tokens"))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    while polls.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it waited out the interval"
    );
    assert_eq!(polls.load(Ordering::SeqCst), 1);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["status"], "interrupted");
    assert_eq!(report["steps"][0]["polls"]["outcome"], "interrupted");
}

/// Every page of a list, through the four forms, with list captures gathered in order and a
/// loop over them.
#[tokio::test]
async fn paginate_by_next_url_and_cursor_then_loop_over_the_items() {
    let server = MockServer::start().await;
    // next_url: three pages linked from the body, the last with `next: null`.
    for (page, next) in [
        ("1", Some("/orgs?page=2")),
        ("2", Some("/orgs?page=3")),
        ("3", None),
    ] {
        Mock::given(path("/orgs"))
            .and(query_param("page", page))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "items": [{"id": format!("o{page}a")}, {"id": format!("o{page}b")}],
                "next": next,
                "total": 6,
            })))
            .mount(&server)
            .await;
    }
    // cursor: two pages, the first request without a cursor.
    Mock::given(path("/users"))
        .and(query_param("cursor", "c2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"users": ["carol"], "next_cursor": ""})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"users": ["ann", "bob"], "next_cursor": "c2"})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(path_prefix("/orgs/"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).run(&recipe(
        "  - id: orgs\n    request: { url: \"{{ inputs.base }}/orgs?page=1\" }\n    paginate: { next_url: $.next }\n    capture:\n      ids: $.items[*].id\n      total: { jsonpath: $.total, single: true }\n  - id: users\n    request: { url: \"{{ inputs.base }}/users\" }\n    paginate: { cursor: { from: $.next_cursor } }\n    capture:\n      names: $.users[*]\n  - id: each\n    for_each: ids\n    concurrency: 3\n    request: { method: POST, url: \"{{ inputs.base }}/orgs/{{ item }}\" }\noutputs:\n  ids: ids\n  names: names\n  total: total\n  pages: steps.orgs.pages\n",
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let outputs = out.outputs();
    assert_eq!(
        outputs["ids"],
        serde_json::json!(["o1a", "o1b", "o2a", "o2b", "o3a", "o3b"])
    );
    assert_eq!(outputs["names"], serde_json::json!(["ann", "bob", "carol"]));
    assert_eq!(
        (outputs["total"].as_u64(), outputs["pages"].as_u64()),
        (Some(6), Some(3))
    );
    let received = server.received_requests().await.unwrap();
    let posts = received
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 6, "the loop ran over every page's items");
    let report = out.report.unwrap();
    assert_eq!(report["steps"][0]["pages"].as_array().unwrap().len(), 2);
    assert!(out.stderr.contains("(3 pages)"), "{}", out.stderr);
}

fn path_prefix(prefix: &'static str) -> impl wiremock::Match {
    wiremock::matchers::path_regex(format!("^{prefix}"))
}

/// A next page on another host gets no credential (unless a redirect there would), a page
/// that points back is an error, and `max_pages` fails the step or, with `on_max: stop`,
/// keeps the first pages with a warning.
#[tokio::test]
async fn credentials_loops_and_the_page_cap() {
    let other = MockServer::start().await;
    Mock::given(path("/more"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"items": [3]})))
        .mount(&other)
        .await;
    let server = MockServer::start().await;
    let elsewhere = format!("{}/more", other.uri().replace("127.0.0.1", "localhost"));
    Mock::given(path("/first"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", format!("<{elsewhere}>; rel=\"next\"").as_str())
                .set_body_json(serde_json::json!({"items": [1, 2]})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/loop"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", "</loop?again=1>; rel=next")
                .set_body_json(serde_json::json!({"items": [1]})),
        )
        .mount(&server)
        .await;
    let auth = "auth:\n  api: { bearer: \"s3cr3t-token\" }\ndefaults:\n  auth: api\n";
    let steps = |step: &str| {
        format!("version: 1\nname: flow\ninputs:\n  base: {{ type: string }}\n{auth}steps:\n{step}")
    };
    let out = Whisk::new().input("base", &server.uri()).run(&steps(
        "  - id: list\n    request: { url: \"{{ inputs.base }}/first\" }\n    paginate: { link: next }\n    capture:\n      items: $.items[*]\noutputs:\n  items: items\n",
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.outputs()["items"], serde_json::json!([1, 2, 3]));
    let first = server.received_requests().await.unwrap();
    assert!(first[0].headers.contains_key("authorization"));
    let there = other.received_requests().await.unwrap();
    assert_eq!(there.len(), 1);
    assert!(
        !there[0].headers.contains_key("authorization"),
        "the credential went to another host"
    );

    let looped = Whisk::new().input("base", &server.uri()).run(&steps(
        "  - id: list\n    request: { url: \"{{ inputs.base }}/loop\" }\n    paginate: { link: next }\n",
    ));
    assert_eq!(looped.code, 1, "{}", looped.stderr);
    assert!(
        looped.stderr.contains("page 3 (") && looped.stderr.contains("is a page already read"),
        "{}",
        looped.stderr
    );

    let capped = Whisk::new().input("base", &server.uri()).run(&steps(
        "  - id: list\n    request: { url: \"{{ inputs.base }}/first\" }\n    paginate: { link: next, max_pages: 1 }\n",
    ));
    assert_eq!(capped.code, 1, "{}", capped.stderr);
    assert!(
        capped.stderr.contains("more than `max_pages: 1` pages"),
        "{}",
        capped.stderr
    );
    let kept = Whisk::new().input("base", &server.uri()).run(&steps(
        "  - id: list\n    request: { url: \"{{ inputs.base }}/first\" }\n    paginate: { link: next, max_pages: 1, on_max: stop }\n    capture:\n      items: $.items[*]\noutputs:\n  items: items\n",
    ));
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert_eq!(kept.outputs()["items"], serde_json::json!([1, 2]));
    assert!(
        kept.stderr
            .contains("warning: stopped after `max_pages: 1`"),
        "{}",
        kept.stderr
    );
    for run in [&out, &looped, &capped, &kept] {
        assert!(!run.everything().contains("s3cr3t-token"));
    }
}

/// Offset paging against the sandbox's Oracle connections (two per page), through the runtime
/// host's redirect, with the page size asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginate_by_offset_through_a_redirect() {
    let sandbox = whisk::sandbox::start(SandboxConfig::new(SandboxData::default()).with_port(0))
        .await
        .unwrap();
    let urls = sandbox.urls();
    let oracle = sandbox.credentials().oracle.clone();
    let recipe = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("recipes/oracle/list-connections.yaml"),
    )
    .unwrap()
    .replace(
        "offset: { items: $.items, has_more: $.hasMore, total: $.totalResults }",
        "offset: { items: $.items, has_more: $.hasMore, limit: 3 }",
    );
    let out = Whisk::new()
        .input("token_url", &urls.oracle_token_url)
        .input("runtime_url", &urls.oracle_runtime_base)
        .input("design_time_host", &sandbox.main_addr().to_string())
        .input("scope", &oracle.scope)
        .env("OIC_CLIENT_ID", &oracle.client_id)
        .env("OIC_CLIENT_SECRET", &oracle.client_secret)
        .run(&recipe);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.outputs()["connections"].as_array().unwrap().len(), 4);
    let report = out.report.unwrap();
    assert_eq!(
        report["steps"][0]["request"]["url"]
            .as_str()
            .unwrap()
            .rsplit('?')
            .next(),
        Some("limit=3")
    );
    assert!(
        report["steps"][0]["pages"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("?offset=3&limit=3"),
        "{report}"
    );
    let stats = sandbox.stats();
    assert_eq!(
        stats.runtime_requests.values().sum::<u64>(),
        2,
        "two pages of three: {stats:?}"
    );
}
