//! The recipe features, each against a real server on 127.0.0.1.

use wiremock::matchers::{body_string_contains, header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::format_example::base64_encode;
use crate::harness::Whisk;

fn json(value: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(value)
}

#[tokio::test]
async fn nested_block_loop_collects_captures_in_item_order() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orgs"))
        .respond_with(json(
            serde_json::json!({"orgs": [{"locator": "a"}, {"locator": "b"}, {"locator": "c"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex_any("/orgs/[abc]/enable"))
        .respond_with(|req: &Request| {
            let org = req
                .url
                .path()
                .split('/')
                .nth(2)
                .unwrap_or_default()
                .to_string();
            // Later items answer faster, so that completion order differs from item order.
            let delay = match org.as_str() {
                "a" => 150,
                "b" => 80,
                _ => 0,
            };
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"org": org, "ok": true}))
                .set_delay(std::time::Duration::from_millis(delay))
        })
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex_any("/orgs/[abc]/apps"))
        .respond_with(|req: &Request| {
            let org = req
                .url
                .path()
                .split('/')
                .nth(2)
                .unwrap_or_default()
                .to_string();
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!([{"name": format!("{org}-app")}]))
        })
        .expect(3)
        .mount(&server)
        .await;
    let recipe = r#"
version: 1
name: nested
inputs:
  base: { type: string }
steps:
  - id: list
    request: { url: "{{ inputs.base }}/orgs" }
    capture:
      locators: $.orgs[*].locator
  - id: per_org
    for_each: locators
    as: org
    concurrency: 3
    steps:
      - id: enable
        request:
          method: POST
          url: "{{ inputs.base }}/orgs/{{ org }}/enable"
          json: { position: "{{ loop.index }}", org: "{{ org }}" }
        capture:
          enabled_org: { jsonpath: $.org, single: true }
      - id: apps
        request: { url: "{{ inputs.base }}/orgs/{{ steps.enable.body.org }}/apps" }
        capture:
          app: { jsonpath: "$[0].name", single: true }
outputs:
  orgs: enabled_org
  apps: app
  count: steps.per_org.succeeded
"#;
    let out = Whisk::new().input("base", &server.uri()).run(recipe);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.outputs(),
        serde_json::json!({"orgs": ["a", "b", "c"], "apps": ["a-app", "b-app", "c-app"], "count": 3})
    );
    let report = out.report.unwrap();
    let iterations = report["steps"][1]["iterations"].as_array().unwrap();
    assert_eq!(iterations.len(), 3);
    assert_eq!(iterations[2]["steps"][0]["captures"]["enabled_org"], "c");
    let requests = server.received_requests().await.unwrap();
    let first_enable = requests
        .iter()
        .find(|r| r.url.path() == "/orgs/a/enable")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&first_enable.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"position": 1, "org": "a"}),
        "single expressions keep native values"
    );
}

fn path_regex_any(pattern: &str) -> wiremock::matchers::PathRegexMatcher {
    wiremock::matchers::path_regex(format!("^{pattern}$"))
}

#[tokio::test]
async fn uses_runs_a_sub_recipe_whose_outputs_become_captures() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/whoami"))
        .and(query_param("org", "o-1"))
        .respond_with(json(serde_json::json!({"user": "ada"})))
        .expect(1)
        .mount(&server)
        .await;
    let whisk = Whisk::new();
    whisk.file(
        "lib/whoami.yaml",
        r#"
version: 1
name: whoami
inputs:
  base: { type: string }
  org: { type: string }
steps:
  - id: ask
    request:
      url: "{{ inputs.base }}/whoami"
      query: { org: "{{ inputs.org }}" }
    capture:
      user: { jsonpath: $.user, single: true }
outputs:
  user: user
"#,
    );
    let out = whisk.input("base", &server.uri()).run(
        r#"
version: 1
name: parent
inputs:
  base: { type: string }
steps:
  - id: who
    uses: lib/whoami.yaml
    with: { base: "{{ inputs.base }}", org: o-1 }
outputs:
  greeting: "hello {{ user }}"
"#,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.outputs(), serde_json::json!({"greeting": "hello ada"}));
    assert_eq!(out.report.unwrap()["steps"][0]["steps"][0]["id"], "ask");
}

#[tokio::test]
async fn when_skips_and_continue_on_error_goes_on() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/after"))
        .respond_with(json(serde_json::json!({"ok": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/never"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).run(
        r#"
version: 1
name: flow
inputs:
  base: { type: string }
  deep: { type: boolean, default: false }
steps:
  - id: flaky
    request: { url: "{{ inputs.base }}/flaky" }
    continue_on_error: true
  - id: skipped
    when: inputs.deep
    request: { url: "{{ inputs.base }}/never" }
  - id: after
    when: "{{ steps.flaky.status == 500 }}"
    request: { url: "{{ inputs.base }}/after" }
"#,
    );
    assert_eq!(out.code, 1, "the run still ends failed: {}", out.stderr);
    let report = out.report.unwrap();
    let statuses: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "skipped", "succeeded"]);
    assert_eq!(report["status"], "failed");
}

#[tokio::test]
async fn every_capture_kind_and_checks() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path("/apps"))
        .respond_with(json(serde_json::json!({"apps": [{"id": 7, "name": "orders"}, {"id": 9, "name": "billing"}]}))
            .insert_header("ETag", "\"v42\"").insert_header("X-Request-Id", "req-123"))
        .mount(&server).await;
    let out = Whisk::new().input("base", &server.uri()).run(
        r#"
version: 1
name: captures
inputs:
  base: { type: string }
steps:
  - id: apps
    request: { url: "{{ inputs.base }}/apps" }
    capture:
      names: $.apps[*].name
      first_id: { jsonpath: "$.apps[0].id", single: true }
      missing: { jsonpath: "$.apps[5].id", single: true, default: -1 }
      absent: { header: X-Not-There, optional: true }
      etag: { header: ETag }
      request_number: { regex: "req-([0-9]+)", optional: true }
      billing_id: { regex: '"id":(\d+),"name":"billing"' }
    check:
      - that: names | length == 2
        message: two apps expected
      - that: first_id == 7 and missing == -1 and absent is none
outputs:
  names: names
  etag: etag
  billing_id: billing_id
  request_number: request_number
"#,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.outputs(),
        serde_json::json!({"names": ["orders", "billing"], "etag": "\"v42\"", "billing_id": "9", "request_number": null})
    );
    let checks = &out.report.unwrap()["steps"][0]["checks"];
    assert_eq!(checks[0]["passed"], true);
    assert_eq!(checks[1]["passed"], true);
}

#[tokio::test]
async fn failing_check_fails_the_step_with_its_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/apps"))
        .respond_with(json(serde_json::json!([])))
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).run(
        r#"
version: 1
name: checks
inputs:
  base: { type: string }
steps:
  - id: list_apps
    request: { url: "{{ inputs.base }}/apps" }
    capture:
      app_names: $[*].name
    check:
      - that: app_names | length > 0
        message: the parent organization has no apps
"#,
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("check failed: the parent organization has no apps"),
        "{}",
        out.stderr
    );
}

const ORACLE_ID: &str = "oic-client-1";
const ORACLE_SECRET: &str = "oic-Secret-Value-9";
const ORACLE_TOKEN: &str = "eyJ4NXQjG-oracle-token";

async fn oracle(design: &MockServer) -> MockServer {
    let identity = MockServer::start().await;
    let basic = format!(
        "Basic {}",
        base64_encode(&format!("{ORACLE_ID}:{ORACLE_SECRET}"))
    );
    Mock::given(method("POST")).and(path("/oauth2/v1/token"))
        .and(header("authorization", basic.as_str()))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("scope=https%3A%2F%2Fdesign.example%3A443urn%3Aopc%3Aresource%3Aconsumer%3A%3Aall"))
        .respond_with(json(serde_json::json!({"access_token": ORACLE_TOKEN, "token_type": "Bearer", "expires_in": 3600})))
        .expect(1..=2).mount(&identity).await;
    let bearer = format!("Bearer {ORACLE_TOKEN}");
    Mock::given(method("GET")).and(path("/ic/api/integration/v1/connections")).and(header("authorization", bearer.as_str()))
        .respond_with(json(serde_json::json!({"items": [{"id": "REST_1", "status": "CONFIGURED"}], "totalResults": 1})))
        .mount(design).await;
    Mock::given(method("GET"))
        .and(path("/ic/api/integration/v1/connections"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(serde_json::json!({"error": "invalid_token"})),
        )
        .mount(design)
        .await;
    identity
}

fn oracle_recipe(forward: bool) -> String {
    format!(
        r#"
version: 1
name: oracle-connections
inputs:
  identity: {{ type: string }}
  runtime_url: {{ type: string }}
  design_host: {{ type: string }}
secrets:
  client_id: {{ env: OIC_CLIENT_ID }}
  client_secret: {{ env: OIC_CLIENT_SECRET }}
auth:
  oic:
    oauth2:
      grant: client_credentials
      token_url: "{{{{ inputs.identity }}}}/oauth2/v1/token"
      client_id: "{{{{ secrets.client_id }}}}"
      client_secret: "{{{{ secrets.client_secret }}}}"
      scope: "https://design.example:443urn:opc:resource:consumer::all"
defaults:
  auth: oic
  redirects:
    forward_auth_to: {}
steps:
  - id: connections
    request: {{ url: "{{{{ inputs.runtime_url }}}}/ic/api/integration/v1/connections" }}
    capture:
      ids: $.items[*].id
outputs:
  ids: ids
"#,
        if forward {
            r#"["{{ inputs.design_host }}"]"#
        } else {
            "[]"
        }
    )
}

async fn run_oracle(forward: bool) -> (crate::harness::Output, MockServer) {
    let design = MockServer::start().await;
    let identity = oracle(&design).await;
    let runtime = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ic/api/integration/v1/connections"))
        .respond_with(ResponseTemplate::new(307).insert_header(
            "Location",
            format!("{}/ic/api/integration/v1/connections", design.uri()).as_str(),
        ))
        .mount(&runtime)
        .await;
    let design_host = design.uri().trim_start_matches("http://").to_string();
    let out = Whisk::new()
        .input("identity", &identity.uri())
        .input("runtime_url", &runtime.uri())
        .input("design_host", &design_host)
        .env("OIC_CLIENT_ID", ORACLE_ID)
        .env("OIC_CLIENT_SECRET", ORACLE_SECRET)
        .arg("-vv")
        .run(&oracle_recipe(forward));
    for secret in [
        ORACLE_SECRET,
        ORACLE_TOKEN,
        &base64_encode(&format!("{ORACLE_ID}:{ORACLE_SECRET}")),
    ] {
        assert!(
            !out.everything().contains(secret),
            "secret {secret} leaked:\n{}",
            out.everything()
        );
    }
    (out, design)
}

#[tokio::test]
async fn oracle_client_credentials_through_the_runtime_redirect() {
    let (out, design) = run_oracle(true).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.outputs(), serde_json::json!({"ids": ["REST_1"]}));
    let hops = &out.report.unwrap()["steps"][0]["request"]["attempts"][0]["redirects"];
    assert_eq!(hops[0]["status"], 307);
    assert_eq!(hops[0]["auth_forwarded"], true);
    let seen = design.received_requests().await.unwrap();
    assert!(seen.iter().all(|r| r.headers.contains_key("authorization")));
}

#[tokio::test]
async fn authorization_is_dropped_when_a_redirect_leaves_the_host() {
    let (out, design) = run_oracle(false).await;
    assert_eq!(
        out.code, 3,
        "the API refuses the request even after a refresh: {}",
        out.stderr
    );
    let seen = design.received_requests().await.unwrap();
    assert!(
        !seen.is_empty()
            && seen
                .iter()
                .all(|r| !r.headers.contains_key("authorization"))
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_request_resent() {
    let server = MockServer::start().await;
    let first = std::sync::atomic::AtomicUsize::new(0);
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(move |_: &Request| {
            let n = first.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"access_token": format!("tok-{n}"), "expires_in": 3600}),
            )
        })
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .and(header("authorization", "Bearer tok-0"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"error": "oauth_access_token_expired"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).env("WHISK_T_SECRET", "cs-value-1").run(r#"
version: 1
name: refresh
inputs:
  base: { type: string }
  items: { type: array, default: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32] }
secrets:
  secret: { env: WHISK_T_SECRET }
auth:
  api:
    oauth2:
      grant: client_credentials
      token_url: "{{ inputs.base }}/token"
      client_id: c
      client_secret: "{{ secrets.secret }}"
      client_auth: body
    refresh_on:
      - status: 401
        body_contains: oauth_access_token_expired
defaults:
  auth: api
steps:
  - id: warm
    request: { url: "{{ inputs.base }}/items" }
  - id: fan_out
    for_each: inputs.items
    concurrency: 32
    request: { url: "{{ inputs.base }}/items" }
"#);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let attempts = &out.report.unwrap()["steps"][0]["request"]["attempts"];
    assert_eq!(attempts[0]["outcome"], "token_refresh");
    assert_eq!(attempts[1]["status"], 200);
}

/// A client-credentials recipe against a server whose token endpoint gives tokens living
/// `lifetime` seconds (expecting `grants` token requests) and whose `/items` refuses every token
/// with `401 code` after `delay` (expecting `tries` requests): the run's output.
async fn refused_every_time(
    lifetime: u64,
    grants: u64,
    code: &str,
    delay: std::time::Duration,
    tries: u64,
) -> crate::harness::Output {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(json(
            serde_json::json!({"access_token": "tok-abcdef123", "expires_in": lifetime}),
        ))
        .expect(grants)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .and(header_exists("authorization"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string(format!("UNAUTHORIZED (401): {code}"))
                .set_delay(delay),
        )
        .expect(tries)
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).run(r#"
version: 1
name: refused
inputs:
  base: { type: string }
auth:
  api:
    oauth2: { grant: client_credentials, token_url: "{{ inputs.base }}/token", client_id: c, client_secret: s3cr3t-xyz }
steps:
  - id: items
    auth: api
    request: { url: "{{ inputs.base }}/items" }
"#);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains(code), "{}", out.stderr);
    assert!(
        out.stderr.contains("refused again after refreshing"),
        "{}",
        out.stderr
    );
    assert!(!out.everything().contains("s3cr3t-xyz"));
    let report = out.report.as_ref().expect("a report");
    let sent = report["steps"][0]["request"]["attempts"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(sent as u64, tries, "{report:#}");
    out
}

#[tokio::test]
async fn a_refused_refreshed_token_fails_with_the_provider_code_and_exit_3() {
    refused_every_time(
        3600,
        2,
        "oauth_invalid_accesstoken",
        std::time::Duration::ZERO,
        2,
    )
    .await;
}

/// A refusal that comes after the token sent had run out by whisk's clock (here: every answer
/// takes longer than half the token's life) lets the attempt obtain another, up to three more
/// times; then the step fails as any refused-again request does. Counted by the server.
#[tokio::test]
async fn tokens_that_run_out_in_transit_are_replaced_a_bounded_number_of_times() {
    refused_every_time(
        1,
        5,
        "oauth_access_token_expired",
        std::time::Duration::from_millis(600),
        5,
    )
    .await;
}

#[tokio::test]
async fn token_endpoint_errors_exit_3_with_the_rfc_6749_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "invalid_client", "error_description": "client authentication failed"})))
        .mount(&server).await;
    let out = Whisk::new().input("base", &server.uri()).run(r#"
version: 1
name: denied
inputs:
  base: { type: string }
auth:
  api:
    oauth2: { grant: client_credentials, token_url: "{{ inputs.base }}/token", client_id: c, client_secret: wrong-secret-1 }
defaults: { auth: api }
steps:
  - id: items
    request: { url: "{{ inputs.base }}/items" }
"#);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`invalid_client`: client authentication failed"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("/token"));
}

#[tokio::test]
async fn retries_honour_retry_after_and_record_every_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/busy"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/busy"))
        .respond_with(json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).run(
        r#"
version: 1
name: busy
inputs:
  base: { type: string }
defaults:
  retry: { attempts: 4, backoff: { initial: 10ms, max: 1s } }
steps:
  - id: busy
    request: { url: "{{ inputs.base }}/busy" }
"#,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let attempts = out.report.unwrap()["steps"][0]["request"]["attempts"]
        .as_array()
        .unwrap()
        .clone();
    let statuses: Vec<u64> = attempts
        .iter()
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [429, 429, 200]);
    assert_eq!(attempts[0]["outcome"], "retry");
}

#[tokio::test]
async fn basic_and_header_secrets_never_appear_in_any_output() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/private"))
        .respond_with(|req: &Request| {
            // Echo the credentials back: whisk must still mask them everywhere.
            let auth = req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let key = req
                .headers
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            ResponseTemplate::new(500)
                .set_body_json(serde_json::json!({"you_sent": auth, "key": key}))
        })
        .mount(&server)
        .await;
    let out = Whisk::new()
        .input("base", &server.uri())
        .env("WHISK_T_PASSWORD", "pa55-Word-Secret")
        .env("WHISK_T_KEY", "key-0f9e8d7c")
        .arg("-vv")
        .run(r#"
version: 1
name: leaks
inputs:
  base: { type: string }
secrets:
  password: { env: WHISK_T_PASSWORD }
  key: { env: WHISK_T_KEY }
auth:
  basic:
    basic: { username: admin, password: "{{ secrets.password }}" }
steps:
  - id: private
    auth: basic
    request:
      url: "{{ inputs.base }}/private?k={{ secrets.key }}"
      headers: { X-Api-Key: "{{ secrets.key }}", X-Token: "{{ ('admin:' ~ secrets.password) | b64encode }}" }
    continue_on_error: true
outputs:
  leaked: "{{ secrets.key }}"
"#);
    assert_eq!(out.code, 1);
    let everything = out.everything();
    for secret in [
        "pa55-Word-Secret",
        "key-0f9e8d7c",
        &base64_encode("admin:pa55-Word-Secret"),
    ] {
        assert!(
            !everything.contains(secret),
            "secret {secret} leaked:\n{everything}"
        );
    }
    assert!(everything.contains("***"));
}

#[tokio::test]
async fn inputs_files_in_yaml_and_json_give_the_same_values() {
    let recipe = "version: 1\nname: inputs\ninputs:\n  names: { type: array }\n  limit: { type: integer }\n  label: { type: string }\nsteps: []\noutputs:\n  names: inputs.names\n  limit: inputs.limit\n  label: inputs.label\n";
    let yaml = Whisk::new();
    let path = yaml.file(
        "in.yaml",
        "names: [a, \"b c\"]\nlimit: 3\nlabel: \"x: y\"\n",
    );
    let from_yaml = yaml
        .arg("--inputs-file")
        .arg(path.display().to_string())
        .run(recipe);
    assert_eq!(from_yaml.code, 0, "{}", from_yaml.stderr);
    let json = Whisk::new();
    let path = json.file(
        "in.json",
        r#"{"names": ["a", "b c"], "limit": 3, "label": "x: y"}"#,
    );
    let from_json = json
        .arg("--inputs-file")
        .arg(path.display().to_string())
        .run(recipe);
    assert_eq!(from_json.code, 0, "{}", from_json.stderr);
    assert_eq!(from_json.outputs(), from_yaml.outputs());
    assert_eq!(
        from_json.outputs(),
        serde_json::json!({"names": ["a", "b c"], "limit": 3, "label": "x: y"})
    );
}

#[tokio::test]
async fn a_loop_step_value_is_its_last_item_whether_or_not_results_are_read() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex_any("/items/[0-9]+"))
        .respond_with(|req: &Request| {
            let n: u64 = req.url.path()[7..].parse().unwrap_or_default();
            // The last item answers first: "last" means last in item order.
            ResponseTemplate::new(200)
                .insert_header("x-item", n.to_string().as_str())
                .set_body_json(serde_json::json!({ "n": n }))
                .set_delay(std::time::Duration::from_millis(40 * (3 - n)))
        })
        .mount(&server)
        .await;
    let recipe = |outputs: &str| {
        format!(
            r#"
version: 1
name: loop values
inputs:
  base: {{ type: string }}
steps:
  - id: each
    for_each: "[1, 2, 3]"
    as: n
    concurrency: 3
    request: {{ url: "{{{{ inputs.base }}}}/items/{{{{ n }}}}" }}
outputs:
{outputs}
"#
        )
    };
    let outputs_of = |outputs: &str| {
        let out = Whisk::new()
            .input("base", &server.uri())
            .run(&recipe(outputs));
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.outputs()
    };
    // No template reads `results`: only the last item's response is kept for `steps.each`.
    assert_eq!(
        outputs_of(
            "  status: steps.each.status\n  n: steps.each.body.n\n  header: steps.each.headers['x-item']\n  succeeded: steps.each.succeeded"
        ),
        serde_json::json!({"status": 200, "n": 3, "header": "3", "succeeded": 3})
    );
    // Reading `results` keeps every item's.
    assert_eq!(
        outputs_of(
            "  ns: steps.each.results | map(attribute='body') | map(attribute='n') | list\n  items: steps.each.results | map(attribute='item') | list\n  second: steps.each.results[1].headers['x-item']\n  n: steps.each.body.n"
        ),
        serde_json::json!({"ns": [1, 2, 3], "items": [1, 2, 3], "second": "2", "n": 3})
    );
    // So does reading the whole step value.
    assert_eq!(
        outputs_of(
            "  ns: steps.each | attr('results') | map(attribute='body') | map(attribute='n') | list"
        ),
        serde_json::json!({"ns": [1, 2, 3]})
    );
}

/// A list capture that matches nothing, and a loop over it that runs nothing, succeed — with a
/// warning on stderr and in the report; `min: 1` makes the same emptiness fail the step.
#[tokio::test]
async fn empty_captures_warn_and_min_fails() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orgs"))
        .respond_with(json(serde_json::json!({"organizations": [{"id": "a"}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/a"))
        .respond_with(json(serde_json::json!({"name": "A"})))
        .mount(&server)
        .await;
    // `orgs` is a typo of `organizations`: it matches nothing.
    let recipe = |capture: &str| {
        format!(
            "version: 1\nname: warn\ninputs:\n  base: {{ type: string }}\nsteps:\n  - id: list\n    request: {{ url: \"{{{{ inputs.base }}}}/orgs\" }}\n    capture:\n{capture}\n  - id: each\n    for_each: ids\n    request: {{ url: \"{{{{ inputs.base }}}}/orgs/{{{{ item }}}}\" }}\n  - id: names\n    for_each: [\"a\", \"a\"]\n    request: {{ url: \"{{{{ inputs.base }}}}/orgs/{{{{ item }}}}\" }}\n    capture:\n      tags: $.tags[*]\n"
        )
    };
    let out = Whisk::new()
        .input("base", &server.uri())
        .run(&recipe("      ids: $.orgs[*].id"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    for expected in [
        "warning: capture `ids`: JSONPath `$.orgs[*].id` matched nothing (add `min: 1` to fail the step, or `optional: true` if that may happen)",
        "warning: `for_each` gave no items: step `each` sent nothing",
        "warning: capture `tags`: JSONPath `$.tags[*]` matched nothing (add `min: 1` to fail the step, or `optional: true` if that may happen), in 2 of 2 items (index 0, 1)",
    ] {
        assert!(out.stderr.contains(expected), "{expected}\n{}", out.stderr);
    }
    let report = out.report.as_ref().expect("report");
    let warnings = |step: usize| {
        report["steps"][step]["warnings"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(
        (warnings(0), warnings(1), warnings(2)),
        (1, 1, 1),
        "{report}"
    );

    let quiet = Whisk::new().input("base", &server.uri()).run(&recipe(
        "      ids: { jsonpath: \"$.orgs[*].id\", optional: true }",
    ));
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(!quiet.stderr.contains("capture `ids`"), "{}", quiet.stderr);

    let strict = Whisk::new()
        .input("base", &server.uri())
        .run(&recipe("      ids: { jsonpath: \"$.orgs[*].id\", min: 1 }"));
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert!(
        strict.stderr.contains(
            "capture `ids`: JSONPath `$.orgs[*].id` matched 0 values, but `min: 1` needs at least 1"
        ),
        "{}",
        strict.stderr
    );
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.url.path() == "/orgs/a")
            .count(),
        4,
        "the `names` loop ran twice in each of the two runs that reached it"
    );
}

/// Rows from a CSV file (typed by the input's `columns`) and from an NDJSON file drive a
/// loop; every row reaches the server once, with its typed values. 1,500 rows: a file that
/// long is read in place (a row is parsed when asked for), and the report names the file
/// instead of copying its rows.
#[tokio::test]
async fn csv_and_ndjson_rows_feed_an_array_input() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let recipe = "version: 1\nname: rows\ninputs:\n  base: { type: string }\n  children:\n    type: array\n    columns: { seats: integer, active: boolean }\nsteps:\n  - id: enable\n    for_each: \"{{ inputs.children | selectattr('active') | list }}\"\n    as: child\n    concurrency: 8\n    request:\n      method: POST\n      url: \"{{ inputs.base }}/orgs/{{ child.locator }}\"\n      json: { seats: \"{{ child.seats }}\", note: \"{{ child.note }}\" }\n";
    let mut csv = String::from("locator,seats,active,note\n");
    for i in 0..1500 {
        csv.push_str(&format!(
            "{},{},{},\"row {i}, quoted\"\n",
            1000 + i,
            i % 7,
            i % 3 != 0
        ));
    }
    let whisk = Whisk::new();
    whisk.file("children.csv", &csv);
    let out = whisk
        .input("base", &server.uri())
        .arg("--inputs-file")
        .arg("children=children.csv")
        .run(recipe);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1000, "the active rows: two of three");
    let echoed = &out.report.as_ref().unwrap()["inputs"]["children"];
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(csv.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        *echoed,
        serde_json::json!({"file": "children.csv", "rows": 1500, "sha256": digest})
    );
    let mut seen = std::collections::HashSet::new();
    for request in &received {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let locator: u32 = request.url.path()["/orgs/".len()..].parse().unwrap();
        let i = locator - 1000;
        assert_eq!(body["seats"], i % 7, "typed as an integer");
        assert_eq!(body["note"], format!("row {i}, quoted"));
        assert!(seen.insert(locator), "each row once");
    }

    // NDJSON, and the file named without the input (the recipe has one array input).
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let whisk = Whisk::new();
    whisk.file(
        "children.ndjson",
        "{\"locator\": \"a\", \"seats\": 1, \"active\": true, \"note\": \"x\"}\n\n{\"locator\": \"b\", \"seats\": 2, \"active\": false, \"note\": \"y\"}\n",
    );
    let out = whisk
        .input("base", &server.uri())
        .arg("--inputs-file")
        .arg("children.ndjson")
        .run(recipe);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].url.path(), "/orgs/a");
}

/// A large rows file is bound to the report by its digest: `--resume` with the file edited
/// is refused before anything is sent, and with the file as it was, nothing is sent again.
#[tokio::test]
async fn resuming_with_an_edited_rows_file_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let recipe = "version: 1\nname: rows\ninputs:\n  base: { type: string }\n  children: { type: array }\nsteps:\n  - id: put\n    for_each: inputs.children\n    as: child\n    concurrency: 4\n    request:\n      method: PUT\n      url: \"{{ inputs.base }}/orgs/{{ child.id }}\"\n";
    let rows: String = (0..1100).map(|i| format!("{{\"id\": {i}}}\n")).collect();
    let whisk = Whisk::new();
    whisk.file("children.ndjson", &rows);
    let out = whisk
        .input("base", &server.uri())
        .arg("--inputs-file")
        .arg("children.ndjson")
        .run(recipe);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received_requests().await.unwrap().len(), 1100);
    let resume = |dir: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_whisk"))
            .args(["run", "recipe.yaml", "--input"])
            .arg(format!("base={}", server.uri()))
            .args([
                "--inputs-file",
                "children.ndjson",
                "--resume",
                "report.json",
            ])
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let same = resume(out.dir.path());
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1100,
        "all carried over"
    );
    std::fs::write(
        out.dir.path().join("children.ndjson"),
        rows.replace("{\"id\": 7}", "{\"id\": 70}"),
    )
    .unwrap();
    let edited = resume(out.dir.path());
    let stderr = String::from_utf8_lossy(&edited.stderr);
    assert_eq!(edited.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("input `children`"), "{stderr}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1100,
        "nothing sent"
    );
}
