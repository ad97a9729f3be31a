//! Refreshing within one run: a token that runs out mid-run (before it is sent, or refused by
//! the server) costs exactly one refresh, and 32 iterations refused together cause one refresh.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use whisk::sandbox::Fault;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::harness::Whisk;
use crate::oauth_support::*;

const SUBSCRIPTIONS: &str = "/tci/v1/subscriptions";

fn tibco_recipe(skew: &str) -> String {
    format!(
        r#"
version: 1
name: mid-run
inputs:
  base: {{ type: string }}
  token_url: {{ type: string }}
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
      refresh_skew: {skew}
    refresh_on:
      - status: 401
        body_contains: oauth_access_token_expired
defaults:
  auth: tci
steps:
  - id: first
    request: {{ url: "{{{{ inputs.base }}}}/v1/subscriptions" }}
  - id: second
    request: {{ url: "{{{{ inputs.base }}}}/v1/subscriptions" }}
"#
    )
}

fn run_tibco(sandbox: &whisk::sandbox::Sandbox, skew: &str) -> crate::harness::Output {
    let urls = sandbox.urls();
    let creds = &sandbox.credentials().tibco;
    let out = Whisk::new()
        .input("base", &urls.tci_base)
        .input("token_url", &urls.tci_token_url)
        .env("TCI_CLIENT_ID", &creds.client_id)
        .env("TCI_CLIENT_SECRET", &creds.client_secret)
        .env("TCI_REFRESH_TOKEN", &creds.refresh_token)
        .arg("-vv")
        .run(&tibco_recipe(skew));
    assert_no_secrets(&[&out], &[&creds.client_secret, &creds.refresh_token]);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_run_is_refreshed_once_before_it_is_sent() {
    let mut data = lifetime(2);
    // The first step takes longer than half the token's lifetime.
    data.faults
        .push(Fault::slow(SUBSCRIPTIONS, Duration::from_millis(1200), 1));
    let sandbox = sandbox(data).await;
    let out = run_tibco(&sandbox, "60s");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let stats = sandbox.stats();
    assert_eq!(
        stats.token_requests_for("tibco", "refresh_token"),
        2,
        "the first token, then exactly one refresh"
    );
    assert!(
        stats.log.iter().all(|r| r.status != 401),
        "the expiring token was never sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_server_refuses_as_expired_costs_one_refresh_and_one_resend() {
    let mut data = lifetime(2);
    // The second step's request arrives on time but is checked after the token ran out.
    data.faults
        .push(Fault::slow(SUBSCRIPTIONS, Duration::ZERO, 1));
    data.faults
        .push(Fault::slow(SUBSCRIPTIONS, Duration::from_millis(2300), 1));
    let sandbox = sandbox(data).await;
    let out = run_tibco(&sandbox, "0s");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        sandbox.stats().token_requests_for("tibco", "refresh_token"),
        2
    );
    let report = out.report.expect("report");
    let attempts = &report["steps"][1]["request"]["attempts"];
    assert_eq!(attempts[0]["status"], 401);
    assert_eq!(attempts[0]["outcome"], "token_refresh");
    assert_eq!(attempts[1]["status"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_iterations_refused_together_cause_exactly_one_refresh() {
    let server = MockServer::start().await;
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    // Rotation: `seed` gives `tok-0` and `rt-1`; `rt-1` gives `tok-1` and `rt-2`; anything
    // else (a spent refresh token) is `invalid_grant`.
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(move |req: &Request| {
            let body = String::from_utf8_lossy(&req.body);
            let n = counter.load(Ordering::SeqCst);
            let expected = if n == 0 {
                "refresh_token=seed-rt-0".to_string()
            } else {
                format!("refresh_token=rt-{n}")
            };
            if !body.contains(&expected) {
                return ResponseTemplate::new(400)
                    .set_body_json(serde_json::json!({"error": "invalid_grant"}));
            }
            counter.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": format!("tok-{n}"),
                "refresh_token": format!("rt-{}", n + 1),
                "expires_in": 3600,
            }))
        })
        .mount(&server)
        .await;
    // The first token is refused, slowly, so that all 32 requests are in flight together.
    Mock::given(method("GET"))
        .and(path("/items"))
        .and(header("authorization", "Bearer tok-0"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"error": "invalid_token"}))
                .set_delay(Duration::from_millis(800)),
        )
        .expect(32)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .expect(32)
        .mount(&server)
        .await;
    let items: Vec<u32> = (1..=32).collect();
    let out = Whisk::new()
        .input("base", &server.uri())
        .input("items", &serde_json::to_string(&items).unwrap())
        .env("WHISK_T_RT", "seed-rt-0")
        .run(
            r#"
version: 1
name: single-flight
inputs:
  base: { type: string }
  items: { type: array }
secrets:
  refresh_token: { env: WHISK_T_RT }
auth:
  api:
    oauth2:
      grant: refresh_token
      token_url: "{{ inputs.base }}/token"
      client_id: c
      client_secret: s3cr3t-sf
      refresh_token: "{{ secrets.refresh_token }}"
defaults:
  auth: api
steps:
  - id: fan_out
    for_each: inputs.items
    concurrency: 32
    request: { url: "{{ inputs.base }}/items" }
"#,
        );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let token_requests = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/token")
        .count();
    assert_eq!(
        token_requests, 2,
        "one token at first use and exactly one refresh"
    );
    let refreshes_with_rt1 = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            r.url.path() == "/token"
                && String::from_utf8_lossy(&r.body).contains("refresh_token=rt-1")
        })
        .count();
    assert_eq!(refreshes_with_rt1, 1);
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    assert_eq!(
        out.report.as_ref().expect("report")["steps"][0]["succeeded"],
        32,
        "every iteration succeeded after the one refresh"
    );
    assert_no_secrets(&[&out], &["s3cr3t-sf", "seed-rt-0", "rt-1", "rt-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_error_page_exits_3_with_the_token_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(502)
                .set_body_string("<html><body>Bad Gateway</body></html>")
                .insert_header("content-type", "text/html"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let out = Whisk::new()
        .input("base", &server.uri())
        .env("WHISK_T_CS", "cs-page-9")
        .run(
            r#"
version: 1
name: error-page
inputs:
  base: { type: string }
secrets:
  secret: { env: WHISK_T_CS }
auth:
  api:
    oauth2:
      grant: client_credentials
      token_url: "{{ inputs.base }}/oauth/token"
      client_id: c
      client_secret: "{{ secrets.secret }}"
defaults:
  auth: api
steps:
  - id: items
    request: { url: "{{ inputs.base }}/items" }
"#,
        );
    assert_eq!(out.code, 3, "{}", out.stderr);
    let expected = format!(
        "the token endpoint {}/oauth/token refused the `client_credentials` grant with 502 and a non-JSON body",
        server.uri()
    );
    assert!(out.stderr.contains(&expected), "{}", out.stderr);
    assert!(out.stderr.contains("Bad Gateway"), "{}", out.stderr);
    assert_no_secrets(&[&out], &["cs-page-9"]);
}

/// A token endpoint that rotates: `seed-rt` gives `tok-1` and `rt-1`, `rt-1` gives `tok-2`
/// and `rt-2`, and so on; a spent refresh token is `invalid_grant`. Tokens live `lifetime`.
async fn rotating_token_endpoint(server: &MockServer, lifetime: f64) -> Arc<AtomicUsize> {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(move |req: &Request| {
            let body = String::from_utf8_lossy(&req.body);
            let n = counter.load(Ordering::SeqCst);
            let expected = if n == 0 {
                "refresh_token=seed-rt".to_string()
            } else {
                format!("refresh_token=rt-{n}")
            };
            if !body.contains(&expected) {
                return ResponseTemplate::new(400)
                    .set_body_json(serde_json::json!({"error": "invalid_grant"}));
            }
            counter.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": format!("tok-{}", n + 1),
                "refresh_token": format!("rt-{}", n + 1),
                "expires_in": lifetime,
            }))
        })
        .mount(server)
        .await;
    issued
}

const TWO_ITEMS: &str = r#"
version: 1
name: stale-after-wait
inputs:
  base: { type: string }
secrets:
  refresh_token: { env: WHISK_T_RT }
auth:
  api:
    oauth2:
      grant: refresh_token
      token_url: "{{ inputs.base }}/token"
      client_id: c
      client_secret: s3cr3t-stale
      refresh_token: "{{ secrets.refresh_token }}"
defaults:
  auth: api
  retry: { attempts: 4, on_status: [429, 503], backoff: { initial: 100ms, max: 5s } }
steps:
  - id: items
    for_each: '["a", "b"]'
    as: name
    concurrency: 2
    request: { url: "{{ inputs.base }}/items/{{ name }}" }
"#;

/// The issue's schedule: item `a` is refused with token 1, refreshes to token 2, gets a 503
/// and waits; meanwhile item `b`, refused with tokens 1 and 2, makes token 3. `a`'s retry must
/// go out with token 3 (the newest), not with token 2, which the server now refuses too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_wait_sends_the_token_another_item_refreshed_meanwhile() {
    let server = MockServer::start().await;
    let issued = rotating_token_endpoint(&server, 3600.0).await;
    let refuse =
        || ResponseTemplate::new(401).set_body_json(serde_json::json!({"error": "invalid_token"}));
    for token in ["tok-1", "tok-2"] {
        // `b`'s first answer comes late, after `a` made token 2.
        let delay = if token == "tok-1" { 300 } else { 0 };
        Mock::given(method("GET"))
            .and(path("/items/b"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(refuse().set_delay(Duration::from_millis(delay)))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(refuse())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    // Token 2 is dead once token 3 exists: a stale resend is refused.
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(refuse())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    let out = Whisk::new()
        .input("base", &server.uri())
        .env("WHISK_T_RT", "seed-rt")
        .arg("--threads")
        .arg("1")
        .run(TWO_ITEMS);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        issued.load(Ordering::SeqCst),
        3,
        "tokens 1, 2 and 3, no more"
    );
    let received = server.received_requests().await.unwrap_or_default();
    let sent: Vec<(String, String)> = received
        .iter()
        .filter(|r| r.url.path().starts_with("/items/"))
        .map(|r| {
            let auth = r
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            (r.url.path().to_string(), auth.replace("Bearer ", ""))
        })
        .collect();
    let of = |item: &str| -> Vec<&str> {
        sent.iter()
            .filter(|(p, _)| p == item)
            .map(|(_, t)| t.as_str())
            .collect()
    };
    assert_eq!(of("/items/a"), ["tok-1", "tok-2", "tok-3"], "{sent:?}");
    assert_eq!(of("/items/b"), ["tok-1", "tok-2", "tok-3"], "{sent:?}");
    let report = out.report.clone().expect("report");
    let a = &report["steps"][0]["iterations"][0]["request"]["attempts"];
    let outcomes: Vec<_> = a
        .as_array()
        .expect("attempts")
        .iter()
        .map(|t| (t["status"].as_u64(), t["outcome"].as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Some(401), Some("token_refresh")),
            (Some(503), Some("retry")),
            (Some(200), None)
        ]
    );
    assert_no_secrets(
        &[&out],
        &["s3cr3t-stale", "seed-rt", "rt-1", "rt-2", "rt-3"],
    );
}

/// A token that runs out during a `Retry-After` wait is refreshed before the retry is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_runs_out_during_a_wait_is_refreshed_before_the_retry() {
    let server = MockServer::start().await;
    // Tokens live 1.2 s; the wait is 1 s, which leaves less than half the lifetime.
    let issued = rotating_token_endpoint(&server, 1.2).await;
    Mock::given(method("GET"))
        .and(path("/items/a"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    let out = Whisk::new()
        .input("base", &server.uri())
        .env("WHISK_T_RT", "seed-rt")
        .run(&TWO_ITEMS.replace(r#"'["a", "b"]'"#, r#"'["a"]'"#));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        issued.load(Ordering::SeqCst),
        2,
        "the first token and one refresh"
    );
    let received = server.received_requests().await.unwrap_or_default();
    let tokens: Vec<String> = received
        .iter()
        .filter(|r| r.url.path() == "/items/a")
        .filter_map(|r| {
            r.headers
                .get("authorization")?
                .to_str()
                .ok()
                .map(String::from)
        })
        .collect();
    assert_eq!(tokens, ["Bearer tok-1", "Bearer tok-2"]);
}
