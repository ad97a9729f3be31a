//! Loops whose items are shared between threads (`--threads`): the report is the one a single
//! thread writes, the concurrency stays a run-wide bound, and a token refused mid-loop is
//! refreshed from the loop's threads.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use crate::harness::Whisk;

#[derive(Clone, Default)]
struct Seen {
    items: Arc<Mutex<Vec<String>>>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    tokens: Arc<AtomicUsize>,
}

async fn item(
    State(seen): State<Seen>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, axum::Json<serde_json::Value>) {
    let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    seen.peak.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2)).await;
    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // The first token is refused, as an expired one would be.
    if bearer == "Bearer token-1" {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": "invalid_token"})),
        );
    }
    seen.items.lock().unwrap().push(id.clone());
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({"id": id, "square": id.parse::<u64>().unwrap_or(0).pow(2)})),
    )
}

/// Fails every item whose id ends a run of 50 at 7 (7, 57, 107, ...).
async fn flaky(Path(id): Path<u64>) -> (StatusCode, axum::Json<serde_json::Value>) {
    if id % 50 == 7 {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(serde_json::json!({"error": format!("item {id} broke")})),
        );
    }
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({"square": id * id})),
    )
}

async fn token(State(seen): State<Seen>) -> axum::Json<serde_json::Value> {
    let n = seen.tokens.fetch_add(1, Ordering::SeqCst) + 1;
    axum::Json(serde_json::json!({
        "access_token": format!("token-{n}"),
        "token_type": "Bearer",
        "expires_in": 3600
    }))
}

async fn server() -> (String, Seen) {
    let seen = Seen::default();
    let app = axum::Router::new()
        .route("/items/{id}", post(item).get(item))
        .route("/token", post(token))
        .route("/flaky/{id}", axum::routing::get(flaky))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}"), seen)
}

const LOOP: &str = r#"version: 1
name: threads
inputs:
  base: { type: string }
steps:
  - id: each
    for_each: "{{ range(300) | list }}"
    as: n
    concurrency: 6
    request: { method: GET, url: "{{ inputs.base }}/items/{{ n }}" }
    capture:
      square: { jsonpath: $.square, single: true }
    check:
      - that: square == n * n
  - id: after
    request: { method: GET, url: "{{ inputs.base }}/items/{{ steps.each.results | length }}" }
outputs:
  squares: square
  total: square | sum
"#;

/// The report without what differs between any two runs.
fn stable(mut report: serde_json::Value) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for key in ["duration_ms", "started_at", "ended_at"] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut report);
    // Each run has its own folder.
    report["recipe"]["path"] = serde_json::Value::Null;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_shared_between_threads_reports_what_one_thread_does() {
    let (base, seen) = server().await;
    let one = Whisk::new()
        .input("base", &base)
        .arg("--threads")
        .arg("1")
        .run(LOOP);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let peak_one = seen.peak.swap(0, Ordering::SeqCst);
    let three = Whisk::new()
        .input("base", &base)
        .env("WHISK_THREADS", "3")
        .run(LOOP);
    assert_eq!(three.code, 0, "{}", three.stderr);
    let peak_three = seen.peak.load(Ordering::SeqCst);

    let squares: Vec<u64> = (0..300).map(|n: u64| n * n).collect();
    assert_eq!(three.outputs()["squares"], serde_json::json!(squares));
    assert_eq!(three.outputs()["total"], squares.iter().sum::<u64>());
    assert!(
        stable(three.report.clone().unwrap()) == stable(one.report.clone().unwrap()),
        "the same report, item for item and in item order"
    );
    // Each item once per run, and the loop's concurrency bounds the requests in flight
    // across all threads.
    let items = seen.items.lock().unwrap().clone();
    assert_eq!(items.len(), 2 * 301);
    assert_eq!(items.iter().collect::<HashSet<_>>().len(), 301);
    assert!(peak_one <= 6 && peak_three <= 6, "{peak_one} {peak_three}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_mid_loop_is_refreshed_from_the_loop_threads() {
    let (base, seen) = server().await;
    let recipe = r#"version: 1
name: refresh-on-threads
inputs:
  base: { type: string }
auth:
  api:
    oauth2:
      grant: client_credentials
      token_url: "{{ inputs.base }}/token"
      client_id: threads-client
      client_secret: threads-secret
defaults:
  auth: api
steps:
  - id: each
    for_each: "{{ range(120) | list }}"
    concurrency: 8
    request: { method: POST, url: "{{ inputs.base }}/items/{{ item }}" }
"#;
    let out = Whisk::new()
        .input("base", &base)
        .arg("--threads")
        .arg("2")
        .run(recipe);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.report.as_ref().unwrap();
    assert_eq!(report["steps"][0]["succeeded"], 120);
    // The refused first token is replaced once, whichever thread saw the refusal first.
    assert_eq!(seen.tokens.load(Ordering::SeqCst), 2);
    assert!(!out.everything().contains("threads-secret"));
    assert!(!out.everything().contains("token-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_in_a_shared_loop_are_reported_as_one_thread_reports_them() {
    let (base, _) = server().await;
    let recipe = r#"version: 1
name: flaky
inputs:
  base: { type: string }
steps:
  - id: each
    for_each: "{{ range(200) | list }}"
    concurrency: 8
    continue_on_error: true
    request: { method: GET, url: "{{ inputs.base }}/flaky/{{ item }}" }
    capture:
      square: { jsonpath: $.square, single: true }
  - id: after
    request: { method: GET, url: "{{ inputs.base }}/flaky/1" }
outputs:
  squares: square
"#;
    let run = |threads: &str| {
        Whisk::new()
            .input("base", &base)
            .arg("--threads")
            .arg(threads)
            .run(recipe)
    };
    let (one, two) = (run("1"), run("2"));
    for out in [&one, &two] {
        assert_eq!(out.code, 1, "{}", out.stderr);
        let report = out.report.as_ref().unwrap();
        assert_eq!(report["steps"][0]["failed"], 4);
        assert_eq!(report["steps"][1]["status"], "succeeded");
        let error = report["steps"][0]["error"]["message"].as_str().unwrap();
        assert!(
            error.starts_with("4 of 200 iterations of step `each` failed; the first:")
                && error.contains("/flaky/7"),
            "{error}"
        );
    }
    assert!(
        stable(two.report.clone().unwrap()) == stable(one.report.clone().unwrap()),
        "the same report, failures included"
    );
}
