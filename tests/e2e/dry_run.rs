//! `whisk run --dry-run`: every request as a runnable `curl` command, token requests included,
//! secrets as environment-variable references; nothing sent. The printed script is then run
//! with `sh` (curl and jq) against a real server, which must see the requests whisk would send.

use wiremock::matchers::{body_json, body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{Whisk, scrub};

const CLIENT_ID: &str = "dry-client-41";
const CLIENT_SECRET: &str = "dry-S3cret value'with quote";
const API_KEY: &str = "k3y-8a7b6c";
const ACCESS_TOKEN: &str = "at-dry-5d4c3b";

const RECIPE: &str = r#"
version: 1
name: dry-run-demo
inputs:
  base_url: { type: string }
  token_url: { type: string }
  ids: { type: array, default: ["a1", "b 2"] }
  verbose: { type: boolean, default: false }
secrets:
  client_id: { env: DRY_CLIENT_ID }
  client_secret: { env: DRY_CLIENT_SECRET }
  api_key: { env: DRY_API_KEY }
auth:
  oidc:
    oauth2:
      grant: client_credentials
      token_url: "{{ inputs.token_url }}"
      client_id: "{{ secrets.client_id }}"
      client_secret: "{{ secrets.client_secret }}"
      scope: [read, write]
defaults:
  auth: oidc
steps:
  - id: create
    for_each: inputs.ids
    as: id
    request:
      method: POST
      url: "{{ inputs.base_url }}/items/{{ id | urlencode }}"
      headers: { X-Api-Key: "key {{ secrets.api_key }}" }
      json: { id: "{{ id }}", note: "it's number {{ loop.index }}" }
  - id: trace
    when: inputs.verbose
    request:
      url: "{{ inputs.base_url }}/trace"
  - id: list
    request:
      url: "{{ inputs.base_url }}/items"
    capture:
      names: $[*].name
  - id: show
    for_each: names
    as: name
    request:
      url: "{{ inputs.base_url }}/items/{{ name }}/detail"
      query: { q: "{{ name }}" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_runnable_curl_and_sends_nothing() {
    let server = MockServer::start().await;
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let out = whisk
        .arg("--dry-run")
        .input("base_url", &server.uri())
        .input("token_url", &format!("{}/token", server.uri()))
        .env("DRY_CLIENT_ID", CLIENT_ID)
        .env("DRY_CLIENT_SECRET", CLIENT_SECRET)
        .env("DRY_API_KEY", API_KEY)
        .command_with_recipe(RECIPE);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a dry run sent a request"
    );
    for secret in [CLIENT_ID, CLIENT_SECRET, API_KEY, "k3y", "S3cret"] {
        assert!(
            !out.everything().contains(secret),
            "secret leaked: {secret}"
        );
    }
    insta::assert_snapshot!("dry_run_script", scrub(&out.stdout, &dir));

    // The script runs: the server sees the token request and every request whisk would send.
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(BasicClient)
        .and(body_string(
            "grant_type=client_credentials&scope=read+write",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600
        })))
        .expect(1)
        .mount(&server)
        .await;
    for (id, encoded, n) in [("a1", "a1", 1), ("b 2", "b%202", 2)] {
        Mock::given(method("POST"))
            .and(path(format!("/items/{encoded}")))
            .and(header(
                "authorization",
                format!("Bearer {ACCESS_TOKEN}").as_str(),
            ))
            .and(header("x-api-key", format!("key {API_KEY}").as_str()))
            .and(header("content-type", "application/json"))
            .and(body_json(
                serde_json::json!({"id": id, "note": format!("it's number {n}")}),
            ))
            .respond_with(ResponseTemplate::new(201))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!([{"name": "zed"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/zed/detail"))
        .and(query_param("q", "zed"))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let script = dir.join("dry-run.sh");
    std::fs::write(&script, &out.stdout).unwrap();
    let ran = std::process::Command::new("sh")
        .arg(&script)
        .env("DRY_CLIENT_ID", CLIENT_ID)
        .env("DRY_CLIENT_SECRET", CLIENT_SECRET)
        .env("DRY_API_KEY", API_KEY)
        // The loop over a capture is shown once, its item as $NAME.
        .env("NAME", "zed")
        .output()
        .expect(
            "the dry run's script runs with sh (it needs curl and jq: apt-get install curl jq)",
        );
    assert!(
        ran.status.success(),
        "the script failed:\n{}\n{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    server.verify().await;
}

/// A Basic client credential whose halves, form-decoded, are the client id and secret
/// (RFC 6749 §2.3.1: each half is form-encoded before base64).
struct BasicClient;

impl wiremock::Match for BasicClient {
    fn matches(&self, request: &wiremock::Request) -> bool {
        use base64::Engine;
        let Some(value) = request.headers.get("authorization") else {
            return false;
        };
        let Some(encoded) = value.to_str().ok().and_then(|v| v.strip_prefix("Basic ")) else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            return false;
        };
        let text = String::from_utf8_lossy(&decoded).into_owned();
        let Some((id, secret)) = text.split_once(':') else {
            return false;
        };
        let decode = |s: &str| -> String {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        // Encoded, not raw: a raw space or quote would not survive a form-decoding server.
        !secret.contains(' ') && decode(id) == CLIENT_ID && decode(secret) == CLIENT_SECRET
    }
}

#[test]
fn dry_run_needs_no_secret_and_refuses_report_flags() {
    let out = Whisk::new()
        .arg("--dry-run")
        .input("base_url", "http://127.0.0.1:9")
        .input("token_url", "http://127.0.0.1:9/token")
        .command_with_recipe(RECIPE);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(
            r#"-u "$(form_encode "$DRY_CLIENT_ID")":"$(form_encode "$DRY_CLIENT_SECRET")""#
        ),
        "{}",
        out.stdout
    );
    let refused = Whisk::new()
        .arg("--dry-run")
        .arg("--report")
        .arg("r.json")
        .command_with_recipe(RECIPE);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("cannot be used with"),
        "{}",
        refused.stderr
    );
}

/// The dry run's script sends what whisk sends, byte for byte, for a secret full of characters
/// that need encoding: raw in the URL's path and query (encoded as the URL standard does),
/// `urlencode` in the URL, JSON escapes in a body, a header as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_sends_byte_identical_requests_for_awkward_secrets() {
    const AWKWARD: &str = "Ab3+Xy/9 ~\"q\\u'z&=<\u{e4}>%";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let recipe = r#"
version: 1
name: awkward
inputs:
  base: { type: string }
secrets:
  key: { env: AWKWARD_KEY }
steps:
  - id: probe
    request:
      method: POST
      url: "{{ inputs.base }}/p/{{ secrets.key }}?k={{ secrets.key | urlencode }}&raw={{ secrets.key }}&plain=1"
      headers: { X-Key: "{{ secrets.key }}" }
      json: { key: "{{ secrets.key }}", note: "a {{ secrets.key | urlencode }} b" }
"#;
    let real = Whisk::new()
        .input("base", &server.uri())
        .env("AWKWARD_KEY", AWKWARD)
        .run(recipe);
    assert_eq!(real.code, 0, "{}", real.stderr);
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let dry = whisk
        .arg("--dry-run")
        .input("base", &server.uri())
        .command_with_recipe(recipe);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let script = dir.join("dry-run.sh");
    std::fs::write(&script, &dry.stdout).unwrap();
    let ran = std::process::Command::new("sh")
        .arg(&script)
        .env("AWKWARD_KEY", AWKWARD)
        .output()
        .expect("sh runs the script");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    // The script's `whisk_url` writes a URL as whisk's URL parser (the URL standard) does.
    let function = dry
        .stdout
        .lines()
        .find(|l| l.starts_with("whisk_url()"))
        .expect("the script defines whisk_url");
    for raw in [
        "http://h/a b/\\c\"d<e>`{}'?q=1 2\"'<>`{}\\&x=\u{e4}\u{7f}#frag ment",
        "http://h/p?first?second#x#y",
        "http://h/%41%zz/\u{1f600}",
    ] {
        let ran = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{function}\nwhisk_url \"$1\""))
            .arg("sh")
            .arg(raw)
            .output()
            .expect("sh runs whisk_url");
        let mut expected = url::Url::parse(raw).unwrap();
        expected.set_fragment(None);
        assert_eq!(
            String::from_utf8_lossy(&ran.stdout).trim_end(),
            expected.as_str(),
            "{raw}"
        );
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let (a, b) = (&requests[0], &requests[1]);
    assert_eq!(a.url.path(), b.url.path(), "the path differs");
    assert!(a.url.path().contains("%20"), "{}", a.url.path());
    assert_eq!(a.url.query(), b.url.query(), "the query differs");
    assert_eq!(
        String::from_utf8_lossy(&a.body),
        String::from_utf8_lossy(&b.body),
        "the body differs"
    );
    assert_eq!(
        a.headers.get("x-key"),
        b.headers.get("x-key"),
        "the header differs"
    );
}

/// A value computed from a secret in a way the script cannot repeat (`upper`): the script says
/// so and stops there instead of sending the masked value; the dry run warns.
#[test]
fn a_secret_the_script_cannot_compute_stops_the_script() {
    let recipe = r#"
version: 1
name: derived
secrets:
  key: { env: DERIVED_KEY }
steps:
  - id: shout
    request:
      url: "http://127.0.0.1:9/p?k={{ secrets.key | upper }}"
"#;
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let dry = whisk.arg("--dry-run").command_with_recipe(recipe);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("step `shout` sends a value computed from a secret"),
        "{}",
        dry.stderr
    );
    assert!(!dry.stdout.contains("curl -sS -X GET"), "{}", dry.stdout);
    let script = dir.join("dry-run.sh");
    std::fs::write(&script, &dry.stdout).unwrap();
    let ran = std::process::Command::new("sh")
        .arg(&script)
        .env("DERIVED_KEY", "lower-case-key-1")
        .output()
        .expect("sh runs the script");
    assert_eq!(ran.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&ran.stderr).contains("cannot compute"),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
}
