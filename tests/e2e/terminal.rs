//! What a person sees on stderr while a run goes: a line per step as it ends (coloured when
//! asked), retry and failure lines that name the loop item, the failed items of a loop, and
//! with `-vv` the token requests and every redirect hop.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use whisk::sandbox::{SandboxConfig, SandboxData};

use crate::harness::Whisk;

fn recipe(steps: &str) -> String {
    format!("version: 1\nname: term\ninputs:\n  base: {{ type: string }}\nsteps:\n{steps}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_line_comes_when_the_step_ends() {
    let server = MockServer::start().await;
    Mock::given(path("/fast"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(1500)))
        .mount(&server)
        .await;
    let whisk = Whisk::new();
    let file = whisk.file(
        "recipe.yaml",
        &recipe(
            "  - id: fast\n    request: { url: \"{{ inputs.base }}/fast\" }\n  - id: slow\n    request: { url: \"{{ inputs.base }}/slow\" }\n",
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_whisk"))
        .args(["run", file.to_str().unwrap(), "--input"])
        .arg(format!("base={}", server.uri()))
        .env("NO_COLOR", "1")
        .env("WHISK_TOKEN_STORE", whisk.dir.path().join("tokens"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        BufReader::new(stderr)
            .lines()
            .map(|l| (started.elapsed(), l.unwrap()))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(child.wait().unwrap().success());
    let at = |prefix: &str| {
        lines
            .iter()
            .find(|(_, l)| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in {lines:?}"))
            .0
    };
    let (fast, slow) = (at("ok   fast"), at("ok   slow"));
    assert!(
        slow - fast >= Duration::from_millis(1000),
        "the first step's line came {fast:?}, the second's {slow:?}: {lines:?}"
    );
    assert!(at("recipe `term` succeeded") >= slow);
    assert_eq!(
        lines
            .iter()
            .filter(|(_, l)| l.starts_with("ok   fast"))
            .count(),
        1,
        "each step's line once: {lines:?}"
    );
}

#[tokio::test]
async fn colour_when_asked() {
    let server = MockServer::start().await;
    Mock::given(path("/ok"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(path("/broken"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let steps = "  - id: good\n    request: { url: \"{{ inputs.base }}/ok\" }\n  - id: bad\n    request: { url: \"{{ inputs.base }}/broken\" }\n";
    let coloured = Whisk::new()
        .input("base", &server.uri())
        .arg("--color")
        .arg("always")
        .env("NO_COLOR", "")
        .run(&recipe(steps));
    assert_eq!(coloured.code, 1);
    assert!(
        coloured.stderr.contains("\x1b[32mok  \x1b[0m good"),
        "{:?}",
        coloured.stderr
    );
    assert!(
        coloured.stderr.contains("\x1b[1;31mFAIL\x1b[0m bad"),
        "{:?}",
        coloured.stderr
    );
    let plain = Whisk::new()
        .input("base", &server.uri())
        .run(&recipe(steps));
    assert!(!plain.stderr.contains('\x1b'), "{:?}", plain.stderr);
}

#[tokio::test]
async fn retries_and_failures_name_the_item_and_failed_items_are_listed() {
    let server = MockServer::start().await;
    // Item 2 is throttled once; items 3 and up are broken.
    Mock::given(method("GET"))
        .and(path("/items/2"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/items/([3-9]|1[0-9])$"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/items/"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(3)
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).run(&recipe(
        "  - id: fan\n    for_each: \"{{ range(15) | list }}\"\n    retry: { attempts: 2, backoff: { initial: 10ms, max: 10ms } }\n    request: { url: \"{{ inputs.base }}/items/{{ item }}\" }\n",
    ));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("[fan 2] retrying after attempt 1 (status 503)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("     failed items:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("       [3] 3: step `fan`: expected status 2xx, got 500"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("       [12] 12: "), "{}", out.stderr);
    assert!(!out.stderr.contains("       [13] 13: "), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("       ... and 2 more (the JSON report, `--report`, lists them all)"),
        "{}",
        out.stderr
    );
}

/// `-vv`: the token request (URL, grant, status, body with the token masked) and each hop of
/// the Oracle runtime redirect, with whether the Authorization header went along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn very_verbose_shows_token_requests_and_redirect_hops() {
    let sandbox = whisk::sandbox::start(SandboxConfig::new(SandboxData::default()).with_port(0))
        .await
        .expect("sandbox");
    let urls = sandbox.urls();
    let oracle = sandbox.credentials().oracle.clone();
    let recipe = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("recipes/oracle/list-connections.yaml");
    let out = Whisk::new()
        .env("OIC_CLIENT_ID", &oracle.client_id)
        .env("OIC_CLIENT_SECRET", &oracle.client_secret)
        .input("token_url", &urls.oracle_token_url)
        .input("runtime_url", &urls.oracle_runtime_base)
        .input("design_time_host", &sandbox.main_addr().to_string())
        .input("scope", &oracle.scope)
        .arg("-vv")
        .run_file(&recipe);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let token_line = "[auth oic] < 200 in ";
    assert!(out.stderr.contains(token_line), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "(POST {}, client_credentials)",
            urls.oracle_token_url
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("[auth oic] < {\"access_token\":\"***\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "[connections] < 307 redirect to http://{}/ic/api/integration/v1/connections",
            sandbox.main_addr()
        )) && out.stderr.contains("(Authorization forwarded)"),
        "{}",
        out.stderr
    );
    let tokens = regex::Regex::new(r"oic-at-[0-9a-f]{8}").unwrap();
    assert!(!tokens.is_match(&out.everything()), "{}", out.stderr);
    assert!(!out.everything().contains(&oracle.client_secret));
}
