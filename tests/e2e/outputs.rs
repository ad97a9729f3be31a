//! Reports for people and machines: JUnit, Markdown (and `$GITHUB_STEP_SUMMARY`), the event
//! stream, the terminal (progress bars, `-v`), JSON diagnostics, completions and the man page.
//! Every file and stream is scanned for the secrets the run used.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::format_example::base64_encode;
use crate::harness::{Output, Whisk, scrub};

const CLIENT_SECRET: &str = "cs-outputs-7d1f";
const API_KEY: &str = "key-outputs-99ab";
const TOKENS: [&str; 2] = ["access-tok-first-1a2b", "access-tok-second-3c4d"];

/// A run with a success, a retry (429 then 200), a token refresh (401 then 200 with a new
/// token), and a loop whose second item fails with an unexpected status.
const RECIPE: &str = r#"
version: 1
name: outputs
inputs:
  base: { type: string }
secrets:
  secret: { env: WHISK_T_SECRET }
  key: { env: WHISK_T_KEY }
auth:
  api:
    oauth2:
      grant: client_credentials
      token_url: "{{ inputs.base }}/token"
      client_id: c
      client_secret: "{{ secrets.secret }}"
      client_auth: body
defaults:
  retry: { attempts: 3, backoff: { initial: 10ms, max: 1s } }
steps:
  - id: hello
    name: Say hello
    request:
      url: "{{ inputs.base }}/hello"
      headers: { X-Api-Key: "{{ secrets.key }}" }
  - id: busy
    request: { url: "{{ inputs.base }}/busy" }
  - id: secure
    auth: api
    request: { url: "{{ inputs.base }}/secure" }
  - id: each
    for_each: "[1, 2, 3]"
    as: n
    request: { url: "{{ inputs.base }}/items/{{ n }}" }
    continue_on_error: true
  - id: after
    request: { url: "{{ inputs.base }}/hello" }
outputs:
  greeting: steps.hello.body.greeting
"#;

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/hello"))
        .respond_with(|req: &Request| {
            // Echo the key back: whisk must mask it wherever it shows the body.
            let key = req
                .headers
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"greeting": "hi", "echo": key}))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/busy"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/busy"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    let issued = AtomicUsize::new(0);
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(move |_: &Request| {
            let n = issued.fetch_add(1, Ordering::SeqCst).min(1);
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"access_token": TOKENS[n], "expires_in": 3600}))
        })
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/secure"))
        .and(header(
            "authorization",
            format!("Bearer {}", TOKENS[0]).as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(serde_json::json!({"error": "invalid_token"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/secure"))
        .and(header(
            "authorization",
            format!("Bearer {}", TOKENS[1]).as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/2"))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(serde_json::json!({"error": "boom"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/items/\d+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    server
}

fn secrets() -> Vec<String> {
    let mut all = vec![
        CLIENT_SECRET.to_string(),
        API_KEY.to_string(),
        base64_encode(CLIENT_SECRET),
    ];
    all.extend(TOKENS.iter().map(|t| t.to_string()));
    all
}

fn assert_no_secrets(what: &str, text: &str) {
    for secret in secrets() {
        assert!(
            !text.contains(&secret),
            "{what}: secret {secret} leaked:\n{text}"
        );
    }
}

/// Runs `RECIPE` against a fresh server with every report asked for.
async fn full_run(extra: &[&str]) -> (Output, MockServer) {
    let server = server().await;
    let mut whisk = Whisk::new()
        .input("base", &server.uri())
        .env("WHISK_T_SECRET", CLIENT_SECRET)
        .env("WHISK_T_KEY", API_KEY)
        .arg("--junit")
        .arg("junit.xml")
        .arg("--summary")
        .arg("summary.md");
    if !extra.contains(&"--events") {
        whisk = whisk.arg("--events").arg("events.jsonl");
    }
    for arg in extra {
        whisk = whisk.arg(*arg);
    }
    (whisk.run(RECIPE), server)
}

fn settings(out: &Output) -> insta::Settings {
    let mut settings = crate::harness::report_settings(out.dir.path());
    settings.add_filter(r#"(timestamp|time)="[^"]*""#, "$1=\"[time]\"");
    settings.add_filter(r#""ts":"[^"]+""#, "\"ts\":\"[ts]\"");
    settings.add_filter(r#""(duration_ms|wait_ms)":\d+"#, "\"$1\":\"[ms]\"");
    settings.add_filter(r#""date":"[^"]+""#, "\"date\":\"[date]\"");
    settings.add_filter(
        r#"name="whisk_version" value="[^"]+""#,
        "name=\"whisk_version\" value=\"[version]\"",
    );
    settings.add_filter(r"\b\d+(\.\d+)?(ms|s)\b", "[TIME]");
    settings
}

#[tokio::test]
async fn junit_report_has_a_case_per_step_and_item() {
    let (out, _server) = full_run(&[]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let xml = out.read("junit.xml");
    assert_no_secrets("junit", &xml);
    let doc = roxmltree::Document::parse(&xml).expect("the JUnit report is XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert_eq!(
        names,
        [
            "hello",
            "busy",
            "secure",
            "each[0] (1)",
            "each[1] (2)",
            "each[2] (3)",
            "after"
        ]
    );
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    assert_eq!(failures, 1);
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a test suite");
    assert_eq!(suite.attribute("tests"), Some("7"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    assert_eq!(cases[3].attribute("classname"), Some("outputs.each"));
    settings(&out).bind(|| insta::assert_snapshot!("junit", xml));
}

#[tokio::test]
async fn markdown_summary_lists_steps_then_failures() {
    let (out, _server) = full_run(&[]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let markdown = out.read("summary.md");
    assert_no_secrets("summary", &markdown);
    assert!(markdown.contains("| `each` | ❌ failed | 2/3 succeeded, 1 failed |"));
    settings(&out).bind(|| insta::assert_snapshot!("summary_md", markdown));
}

#[tokio::test]
async fn event_stream_has_a_timestamped_line_per_event() {
    let (out, _server) = full_run(&[]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let events = out.read("events.jsonl");
    assert_no_secrets("events", &events);
    let lines: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert!(lines.iter().all(|l| l["ts"].is_string()));
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    for kind in [
        "run_started",
        "request_sent",
        "response_received",
        "retry",
        "token_fetched",
        "step_finished",
        "run_finished",
    ] {
        assert!(kinds.contains(&kind), "no `{kind}` event in {kinds:?}");
    }
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert_eq!(kinds.last(), Some(&"outputs"));
    assert_eq!(
        lines.last().map(|l| &l["outputs"]["greeting"]),
        Some(&serde_json::json!("hi"))
    );
    settings(&out).bind(|| insta::assert_snapshot!("events_jsonl", events));
}

#[tokio::test]
async fn every_output_is_masked_even_at_vv() {
    let (out, _server) = full_run(&["-vv"]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let everything = format!(
        "{}\n{}\n{}\n{}",
        out.everything(),
        out.read("junit.xml"),
        out.read("summary.md"),
        out.read("events.jsonl")
    );
    assert_no_secrets("everything", &everything);
    // -vv shows request headers, the credential hidden.
    assert!(
        out.stderr.contains("[secure] > authorization: ***"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("[hello] > x-api-key: ***"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn github_step_summary_is_appended_to() {
    let server = server().await;
    let whisk = Whisk::new();
    let step_summary = whisk.file("step-summary.md", "# earlier step\n");
    let out = whisk
        .input("base", &server.uri())
        .env("WHISK_T_SECRET", CLIENT_SECRET)
        .env("WHISK_T_KEY", API_KEY)
        .env("GITHUB_STEP_SUMMARY", &step_summary.display().to_string())
        .run(RECIPE);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let text = out.read("step-summary.md");
    assert!(
        text.starts_with("# earlier step\n## whisk: `outputs` ❌ failed"),
        "{text}"
    );
    assert!(text.contains("### Failures"), "{text}");
    assert_no_secrets("step summary", &text);
}

#[tokio::test]
async fn events_on_stdout_end_with_the_outputs() {
    let (out, _server) = full_run(&["--events", "-"]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("stdout is JSON Lines"))
        .collect();
    assert_eq!(lines[0]["event"], "run_started");
    let last = lines.last().expect("lines");
    assert_eq!(last["event"], "outputs");
    assert_eq!(last["outputs"]["greeting"], "hi");
    assert_no_secrets("stdout", &out.stdout);
}

/// A recipe whose loop takes about two seconds: long enough for a progress bar to draw.
const SLOW_LOOP: &str = r#"
version: 1
name: slow
inputs:
  base: { type: string }
steps:
  - id: crawl
    for_each: "range(20) | list"
    as: n
    request: { url: "{{ inputs.base }}/slow/{{ n }}" }
"#;

async fn slow_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/slow/\d+$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"ok": true}))
                .set_delay(Duration::from_millis(100)),
        )
        .mount(&server)
        .await;
    server
}

/// Runs whisk under a pseudo-terminal (`script` from util-linux), returning what the terminal
/// showed.
fn under_pty(dir: &std::path::Path, args: &[String], env: &[(&str, &str)]) -> (i32, String) {
    let mut line = format!(
        "stty cols 120 rows 40; exec {}",
        quote(env!("CARGO_BIN_EXE_whisk"))
    );
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    let mut command = std::process::Command::new("script");
    command
        .args(["-qfec", &line, "/dev/null"])
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run `script` (util-linux)");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[tokio::test]
async fn a_terminal_sees_a_progress_bar_per_loop() {
    let server = slow_server().await;
    let whisk = Whisk::new();
    let recipe = whisk.file("recipe.yaml", SLOW_LOOP);
    let args = vec![
        "run".to_string(),
        recipe.display().to_string(),
        "--input".into(),
        format!("base={}", server.uri()),
    ];
    let (code, screen) = under_pty(whisk.dir.path(), &args, &[("NO_COLOR", "1")]);
    assert_eq!(code, 0, "{screen}");
    let bar = regex::Regex::new(r"crawl \[[=> ]{30}\] \d+/20 items").expect("regex");
    assert!(bar.is_match(&screen), "no progress bar in:\n{screen:?}");
    // NO_COLOR: no colour escapes (cursor movement is fine).
    assert!(
        !screen.contains("\u{1b}[36m") && !screen.contains("\u{1b}[1m"),
        "{screen:?}"
    );
    assert!(screen.contains("recipe `slow` succeeded"), "{screen}");
}

#[tokio::test]
async fn without_a_terminal_there_is_no_progress_bar() {
    let server = slow_server().await;
    let out = Whisk::new().input("base", &server.uri()).run(SLOW_LOOP);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("crawl ["), "{}", out.stderr);
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
    assert!(
        out.stderr.contains("20/20 items succeeded"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn verbose_shows_responses_with_headers_and_a_cut_body() {
    let server = MockServer::start().await;
    let big = "x".repeat(3000);
    Mock::given(method("GET"))
        .and(path("/big"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "req-42")
                .set_body_string(big.clone()),
        )
        .mount(&server)
        .await;
    let recipe = r#"
version: 1
name: big
inputs:
  base: { type: string }
steps:
  - id: big
    request: { url: "{{ inputs.base }}/big" }
"#;
    let out = Whisk::new()
        .input("base", &server.uri())
        .arg("-v")
        .run(recipe);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dir = out.dir.path().to_path_buf();
    let text = scrub(&out.stderr, &dir);
    assert!(
        text.contains("[big] > GET http://127.0.0.1:[PORT]/big"),
        "{text}"
    );
    assert!(
        text.contains("[big] < 200 in [TIME] (GET http://127.0.0.1:[PORT]/big)"),
        "{text}"
    );
    assert!(text.contains("[big] < x-request-id: req-42"), "{text}");
    assert!(
        text.contains(&format!("[big] < {}\n", "x".repeat(1024))),
        "{text}"
    );
    assert!(text.contains("[big] < … 1976 more bytes"), "{text}");
    // -vv shows up to 16 KiB.
    let out = Whisk::new()
        .input("base", &server.uri())
        .arg("-vv")
        .run(recipe);
    assert!(out.stderr.contains(&big), "{}", out.stderr);
    // -q shows nothing at all on success.
    let out = Whisk::new()
        .input("base", &server.uri())
        .arg("-q")
        .run(recipe);
    assert_eq!(out.stderr, "");
}

#[test]
fn json_error_format_prints_one_object_per_diagnostic() {
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let recipe = whisk.file(
        "recipe.yaml",
        "version: 1\nname: bad\ninputs:\n  base: { type: string, default: x }\nsteps:\n  - id: a\n    request: { url: \"http://x\" }\n  - id: a\n    request: { url: \"{{ inputs.bse }}\" }\n",
    );
    let out = whisk.arg("--error-format").arg("json").run_file(&recipe);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        for key in ["message", "location", "step", "field", "help"] {
            assert!(line.get(key).is_some(), "no `{key}` in {line}");
        }
    }
    let text = scrub(&out.stderr, &dir);
    insta::assert_snapshot!("error_format_json_run", text);
    // `validate` prints the same objects and nothing else.
    let out = Whisk::new().command(&[
        "validate",
        "--error-format",
        "json",
        &recipe.display().to_string(),
    ]);
    assert_eq!(out.code, 2);
    assert_eq!(scrub(&out.stderr, &dir), text);
}

#[test]
fn completions_and_man_page_come_from_the_command_line_definition() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Whisk::new().command(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for word in ["run", "validate", "junit", "events", "error-format"] {
            assert!(out.stdout.contains(word), "{shell}: no `{word}`");
        }
    }
    let out = Whisk::new().command(&["man"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(".ie") || out.stdout.contains(".TH whisk"),
        "{}",
        out.stdout
    );
    for word in ["run", "validate", "completions"] {
        assert!(out.stdout.contains(word), "man: no `{word}`");
    }
    let out = Whisk::new().command(&["man", "run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("whisk\\-run"), "{}", out.stdout);
    assert!(out.stdout.contains("junit"), "{}", out.stdout);
    let out = Whisk::new().command(&["man", "nope"]);
    assert_eq!(out.code, 2);
}

#[tokio::test]
async fn steps_after_a_failure_are_listed_as_not_run() {
    let server = MockServer::start().await;
    let whisk = crate::harness::Whisk::new();
    let out = whisk
        .arg("--junit")
        .arg("junit.xml")
        .arg("--summary")
        .arg("summary.md")
        .run(&format!(
            "version: 1\nname: stops\nsteps:\n  - id: broken\n    request: {{ url: \"{0}/missing\" }}\n  - id: later\n    request: {{ url: \"{0}/later\" }}\n",
            server.uri()
        ));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        server.received_requests().await.unwrap().len() == 1,
        "the later step ran"
    );
    let report = out.report.as_ref().unwrap();
    assert_eq!(report["steps"][1]["id"], "later");
    assert_eq!(report["steps"][1]["status"], "not_run");
    assert!(
        out.stderr
            .contains("(2 steps: 0 succeeded, 1 failed, 0 skipped, 1 not run)"),
        "{}",
        out.stderr
    );
    let xml = out.read("junit.xml");
    let doc = roxmltree::Document::parse(&xml).expect("the JUnit report is XML");
    let later = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("later"))
        .expect("a case for the step that did not run");
    let skipped = later
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .expect("marked skipped");
    assert_eq!(
        skipped.attribute("message"),
        Some("not run: an earlier step failed and the recipe stopped")
    );
    assert!(out.read("summary.md").contains("| `later` | ⏸️ not run |"));
}

/// A top-level loop's items go to disk as they finish (`result::spool`): items that finish in
/// any order come out in item order in every writer, with their captures, and the failures
/// beyond those kept in memory are counted, not lost. Item 0 answers last; items 3 and 70 fail.
#[tokio::test]
async fn items_finished_out_of_order_are_reported_in_order_by_every_writer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/items/\d+$"))
        .respond_with(|req: &Request| {
            let n: u64 = req.url.path().rsplit('/').next().unwrap().parse().unwrap();
            let template = if n == 3 || n == 70 {
                ResponseTemplate::new(500)
            } else {
                ResponseTemplate::new(200).set_body_json(serde_json::json!({ "n": n * 10 }))
            };
            // Item 0 takes longest; the others finish in a scrambled order.
            let delay = if n == 0 { 300 } else { (n * 37) % 23 };
            template.set_delay(Duration::from_millis(delay))
        })
        .mount(&server)
        .await;
    let out = Whisk::new()
        .input("base", &server.uri())
        .arg("--junit")
        .arg("junit.xml")
        .arg("--summary")
        .arg("summary.md")
        .run(
            r#"
version: 1
name: order
inputs:
  base: { type: string }
steps:
  - id: fan
    for_each: range(100)
    concurrency: 8
    continue_on_error: true
    request: { url: "{{ inputs.base }}/items/{{ item }}" }
    capture:
      n: { jsonpath: "$.n" }
outputs:
  ns: n
  count: steps.fan.succeeded
"#,
        );
    let report = out.report.as_ref().expect("a report");
    assert_eq!(report["steps"][0]["status"], "failed", "{}", out.stderr);
    let iterations = report["steps"][0]["iterations"].as_array().unwrap();
    let indexes: Vec<u64> = iterations
        .iter()
        .map(|i| i["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, (0..100).collect::<Vec<u64>>());
    let ns = report["outputs"]["ns"].as_array().unwrap();
    assert_eq!(ns.len(), 100);
    assert_eq!(ns[0], serde_json::json!([0]));
    assert_eq!(ns[1], serde_json::json!([10]));
    assert!(ns[3].is_null() && ns[70].is_null());
    assert_eq!(ns[99], serde_json::json!([990]));
    assert_eq!(report["outputs"]["count"], 98);
    assert_eq!(report["steps"][0]["failed"], 2);
    let junit = out.read("junit.xml");
    assert_eq!(junit.matches("<testcase").count(), 100, "{junit}");
    assert!(junit.find("fan[0]").unwrap() < junit.find("fan[99]").unwrap());
    let summary = out.read("summary.md");
    assert!(summary.contains("98/100 succeeded, 2 failed"), "{summary}");
    assert!(
        out.stderr.contains("[3] 3:") && out.stderr.contains("[70] 70:"),
        "{}",
        out.stderr
    );
}
