//! Probes of issue 18, kept so that they stay answered: secrets masked in every encoding they
//! take on the way out (in every output, cassettes included), redirects to other schemes
//! refused, excerpts masked before they are cut, a `rate_limit` wait that a signal ends, and
//! files that are not regular files refused.

use std::time::Duration;

use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{Output, Whisk};

const KEY: &str = "Ab3+Xy/9Qzk7Lm2Pq==";
const ODD: &str = "Zq9-x/L mP+&=<b>\u{e4}\"";

/// The forms the issue found leaking, and more: each must be absent from every output.
fn forms() -> Vec<&'static str> {
    vec![
        KEY,
        "Ab3%2BXy/9Qzk7Lm2Pq%3D%3D",   // urlencode
        "Ab3%2BXy%2F9Qzk7Lm2Pq%3D%3D", // component
        "ab3%2bxy%2f9qzk7lm2pq%3d%3d",
        "AB3+XY/9QZK7LM2PQ==", // upper
        "ab3+xy/9qzk7lm2pq==", // lower
        "==qP2mL7kzQ9/yX+3bA", // reverse
        "Ab3+Xy/9Qz",          // a slice
        ODD,
        "Zq9-x/L%20mP+&=%3Cb%3E%C3%A4%22",
        "Zq9-x%2FL%20mP%2B%26%3D%3Cb%3E%C3%A4%22",
        "Zq9-x/L mP+\\u0026=\\u003cb\\u003e\\u00e4",
        "Zq9-x/L mP+\\u0026=\\u003cb\\u003e\u{e4}",
        "Zq9-x/L mP+&=<b>\u{e4}\\\"",
    ]
}

const RECIPE: &str = r#"
version: 1
name: leaks
inputs:
  base: { type: string }
secrets:
  key: { env: LEAK_KEY }
  odd: { env: LEAK_ODD }
steps:
  - id: probe
    request:
      method: POST
      url: "{{ inputs.base }}/p/{{ secrets.key }}?k={{ secrets.key | urlencode }}&o={{ secrets.odd | urlencode }}&u={{ secrets.key | upper }}"
      headers:
        X-Lower: "{{ secrets.key | lower }}"
        X-Reverse: "{{ secrets.key | reverse }}"
        X-Slice: "{{ secrets.key[:10] }}"
      json:
        odd: "{{ secrets.odd }}"
        raw: "{{ secrets.odd | tojson }}"
    expect: { status: [200] }
"#;

fn echo_body() -> String {
    // What a server that echoes its request would answer: every form at once.
    format!("{{\"echo\": {:?}}}", forms().join(" | "))
}

fn assert_clean(outs: &[&Output], extra: &[String]) {
    for out in outs {
        let mut everything = out.everything();
        for text in extra {
            everything.push_str(text);
        }
        for form in forms() {
            assert!(!everything.contains(form), "`{form}` leaked:\n{everything}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_masked_in_every_encoding_and_output() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/p/.*"))
        .respond_with(ResponseTemplate::new(500).set_body_string(echo_body()))
        .mount(&server)
        .await;
    let whisk = Whisk::new()
        .input("base", &server.uri())
        .env("LEAK_KEY", KEY)
        .env("LEAK_ODD", ODD)
        .arg("-vv")
        .arg("--junit")
        .arg("r.xml")
        .arg("--summary")
        .arg("r.md")
        .arg("--events")
        .arg("r.jsonl");
    let out = whisk.run(RECIPE);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let files: Vec<String> = ["r.xml", "r.md", "r.jsonl"]
        .iter()
        .map(|f| out.read(f))
        .collect();
    assert_clean(&[&out], &files);
    // A cassette of the same run.
    let recorder = Whisk::new().env("LEAK_KEY", KEY).env("LEAK_ODD", ODD);
    let path = recorder.file("leaks.yaml", RECIPE);
    let recorded = recorder.command(&[
        "record",
        path.to_str().unwrap(),
        "--input",
        &format!("base={}", server.uri()),
        "--allow-failure",
    ]);
    let cassette =
        std::fs::read_to_string(path.with_file_name("leaks.cassette.json")).unwrap_or_default();
    assert!(!cassette.is_empty(), "{}", recorded.stderr);
    assert_clean(&[&recorded], &[cassette]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_at_the_cut_of_an_excerpt_is_masked_whole() {
    let server = MockServer::start().await;
    let mut body = "x".repeat(115);
    body.push_str(KEY);
    Mock::given(method("POST"))
        .and(path_regex("^/p/.*"))
        .respond_with(ResponseTemplate::new(500).set_body_string(body))
        .mount(&server)
        .await;
    let out = Whisk::new()
        .input("base", &server.uri())
        .env("LEAK_KEY", KEY)
        .env("LEAK_ODD", ODD)
        .run(RECIPE);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.everything().contains("Ab3+X"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_other_schemes_are_refused_before_anything_is_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = MockServer::start().await;
    for (i, scheme) in ["ws", "ftp", "gopher"].iter().enumerate() {
        Mock::given(method("GET"))
            .and(path_regex(format!("^/r{i}$")))
            .respond_with(
                ResponseTemplate::new(307)
                    .insert_header("Location", format!("{scheme}://127.0.0.1:{port}/x")),
            )
            .mount(&server)
            .await;
    }
    let recipe = r#"
version: 1
name: schemes
inputs:
  base: { type: string }
secrets:
  key: { env: LEAK_KEY }
auth:
  b: { bearer: "{{ secrets.key }}" }
defaults: { auth: b }
steps:
  - id: r0
    request: { url: "{{ inputs.base }}/r0" }
    continue_on_error: true
  - id: r1
    request: { url: "{{ inputs.base }}/r1" }
    continue_on_error: true
  - id: r2
    request: { url: "{{ inputs.base }}/r2" }
"#;
    let out = Whisk::new()
        .input("base", &server.uri())
        .env("LEAK_KEY", KEY)
        .run(recipe);
    assert_eq!(out.code, 1, "{}", out.stderr);
    for scheme in ["ws", "ftp", "gopher"] {
        assert!(
            out.stderr.contains(&format!("redirects to `{scheme}:`")),
            "{}",
            out.stderr
        );
    }
    assert!(
        listener.accept().is_err(),
        "whisk connected to the other scheme"
    );
    assert_clean(&[&out], &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_ends_a_rate_limit_wait() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let whisk = Whisk::new();
    let path = whisk.file(
        "slow.yaml",
        &format!(
            "version: 1\nname: slow\nsteps:\n  - id: s\n    for_each: '[1, 2, 3]'\n    rate_limit: 1/m\n    request: {{ url: '{}/x' }}\n",
            server.uri()
        ),
    );
    let report = whisk.dir.path().join("report.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_whisk"))
        .args(["run", path.to_str().unwrap(), "--grace", "1s", "--report"])
        .arg(&report)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    // The wait for the second slot is a minute; the signal ends it long before.
    let started = std::time::Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the wait ignored the signal"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(130));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["status"], "interrupted");
}

#[cfg(unix)]
#[test]
fn files_that_are_not_regular_files_are_refused() {
    let whisk = Whisk::new();
    let path = whisk.file(
        "r.yaml",
        "version: 1\nname: r\nsecrets:\n  k: { file: /dev/zero }\nsteps:\n  - id: s\n    request: { url: 'http://127.0.0.1:9/{{ secrets.k }}' }\n",
    );
    let out = Whisk::new().command(&["run", path.to_str().unwrap(), "--env-file", "/dev/zero"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
    let out = Whisk::new().command(&["run", path.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
    let out = Whisk::new().command(&["run", "/dev/zero"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
}

/// A POST abandoned in flight has an unknown outcome: `--resume` does not send it again (the
/// server counts one), unless `--resend-unknown`; a report of other inputs is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_never_resends_an_abandoned_post_unless_asked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/items/3$"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&server)
        .await;
    let whisk = Whisk::new();
    let recipe = whisk.file(
        "post.yaml",
        "version: 1\nname: post\ninputs:\n  base: { type: string }\nsteps:\n  - id: send\n    for_each: '[1, 2, 3, 4, 5]'\n    concurrency: 5\n    request: { method: POST, url: '{{ inputs.base }}/items/{{ item }}' }\n",
    );
    let dir = whisk.dir.path().to_path_buf();
    let base = format!("base={}", server.uri());
    let run = |report: &str, extra: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_whisk"));
        command
            .args([
                "run",
                recipe.to_str().unwrap(),
                "--input",
                &base,
                "--grace",
                "1s",
            ])
            .arg("--report")
            .arg(dir.join(report))
            .args(extra)
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        command
    };
    let child = run("first.json", &[]).spawn().unwrap();
    while server.received_requests().await.unwrap_or_default().len() < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let first = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = run("second.json", &["--resume", "first.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("whether the server acted on it is unknown"),
        "{stderr}"
    );
    assert_eq!(hits_of(&server, "/items/3").await, 1, "not sent again");
    let third = run(
        "third.json",
        &["--resume", "first.json", "--resend-unknown"],
    )
    .output()
    .unwrap();
    assert_eq!(
        third.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    assert_eq!(hits_of(&server, "/items/3").await, 2, "sent when asked");
    for item in ["/items/1", "/items/2", "/items/4", "/items/5"] {
        assert_eq!(hits_of(&server, item).await, 1, "{item} carried over");
    }
    // Another base URL: the report's items went elsewhere.
    let other = std::process::Command::new(env!("CARGO_BIN_EXE_whisk"))
        .args([
            "run",
            recipe.to_str().unwrap(),
            "--input",
            "base=http://127.0.0.1:9",
        ])
        .args(["--resume", "first.json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("input `base`"));
}

/// Requests the server received for `path`.
async fn hits_of(server: &MockServer, path: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == path)
        .count()
}

#[test]
fn a_runaway_template_stops_with_a_clear_error() {
    let out = Whisk::new().run(
        "version: 1\nname: loop\nsteps:\n  - id: s\n    request:\n      url: \"http://127.0.0.1:9/{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\"\n",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("field `request.url`: the template ran more than 10 million instructions"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_template_that_doubles_a_string_stops_with_a_clear_error_not_an_abort() {
    // Each form grows a string past 1 GiB in a few hundred instructions, far inside the fuel:
    // a namespace doubled in a loop, `replace` by a long string, twice (an expression, not a
    // text template), unrolled `set`s.
    let unrolled = "{% set s = s ~ s %}".repeat(40);
    let recipe = format!(
        r#"version: 1
name: doubling
steps:
  - id: loop
    continue_on_error: true
    request:
      url: "http://127.0.0.1:9/{{% set ns = namespace(s='ab') %}}{{% for i in range(40) %}}{{% set ns.s = ns.s ~ ns.s %}}{{% endfor %}}{{{{ ns.s }}}}"
  - id: replace
    continue_on_error: true
    request:
      url: "{{{{ ('ab' * 1000) | replace('a', 'ab' * 1000) | replace('a', 'ab' * 1000) }}}}"
  - id: unrolled
    request:
      url: "http://127.0.0.1:9/{{% set s = 'ab' %}}{unrolled}{{{{ s }}}}"
"#
    );
    let out = Whisk::new().run(&recipe);
    assert_eq!(out.code, 1, "{}", out.stderr);
    for step in ["loop", "replace"] {
        let said = format!(
            "step `{step}`, field `request.url`: the template needs more than 64 MiB of memory"
        );
        assert!(out.stderr.contains(&said), "{}", out.stderr);
    }
    // Two renders stopped: the third is refused, so stopped threads hold at most 2 × 64 MiB.
    assert!(
        out.stderr.contains(
            "step `unrolled`, field `request.url`: not rendered: 2 renders of this run already"
        ),
        "{}",
        out.stderr
    );
}
