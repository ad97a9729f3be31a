//! Bad input gets a clear error: file, line and column, step and field, what to do. Each case's
//! exit code and stderr are pinned by a snapshot.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{Whisk, scrub};

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!([{"id": 1}, {"id": 2}])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/text"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/broken"))
        .respond_with(ResponseTemplate::new(500).set_body_string("{\"error\":\"boom\"}"))
        .mount(&server)
        .await;
    server
}

const HEAD: &str = "version: 1\nname: bad\ninputs:\n  base: { type: string }\n";

fn step(body: &str) -> String {
    format!("{HEAD}steps:\n{body}")
}

async fn case(name: &str, files: &[(&str, String)], extra: &[&str]) {
    let server = server().await;
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    for (file, text) in files {
        whisk.file(file, text);
    }
    let mut whisk = whisk.input("base", &server.uri());
    for arg in extra {
        whisk = whisk.arg(*arg);
    }
    let out = whisk.run_file(&dir.join(files[0].0));
    assert!(out.code != 0, "{name}: expected a failure");
    let text = format!("exit code: {}\n{}", out.code, scrub(&out.stderr, &dir));
    insta::assert_snapshot!(format!("error_{name}"), text);
}

#[tokio::test]
async fn malformed_yaml() {
    case(
        "malformed_yaml",
        &[("recipe.yaml", format!("{HEAD}steps: [\n  - id: a\n"))],
        &[],
    )
    .await;
}

#[tokio::test]
async fn wrong_type() {
    case("wrong_type", &[("recipe.yaml", step("  - id: a\n    idempotent: maybe\n    request: { url: \"{{ inputs.base }}/items\" }\n"))], &[]).await;
}

#[tokio::test]
async fn unknown_key() {
    case(
        "unknown_key",
        &[(
            "recipe.yaml",
            step("  - id: a\n    reqest: { url: \"{{ inputs.base }}/items\" }\n"),
        )],
        &[],
    )
    .await;
}

#[tokio::test]
async fn undefined_variable() {
    case(
        "undefined_variable",
        &[(
            "recipe.yaml",
            step("  - id: a\n    request: { url: \"{{ inputs.bse }}/items\" }\n"),
        )],
        &[],
    )
    .await;
}

#[tokio::test]
async fn bad_jsonpath() {
    case("bad_jsonpath", &[("recipe.yaml", step("  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n    capture:\n      ids: $[?@.id ==\n"))], &[]).await;
}

#[tokio::test]
async fn duplicate_id() {
    case("duplicate_id", &[("recipe.yaml", step("  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n"))], &[]).await;
}

#[tokio::test]
async fn unknown_auth_profile() {
    let text = format!(
        "{HEAD}auth:\n  tci:\n    bearer: abc\nsteps:\n  - id: a\n    auth: tcj\n    request: {{ url: \"{{{{ inputs.base }}}}/items\" }}\n"
    );
    case("unknown_auth_profile", &[("recipe.yaml", text)], &[]).await;
}

#[tokio::test]
async fn non_json_body() {
    case("non_json_body", &[("recipe.yaml", step("  - id: a\n    request: { url: \"{{ inputs.base }}/text\" }\n    capture:\n      ids: $[*].id\n"))], &[]).await;
}

#[tokio::test]
async fn single_with_no_match() {
    case("single_with_no_match", &[("recipe.yaml", step("  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n    capture:\n      first:\n        jsonpath: $[9].id\n        single: true\n"))], &[]).await;
}

#[tokio::test]
async fn single_with_two_matches() {
    case("single_with_two_matches", &[("recipe.yaml", step("  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n    capture:\n      first:\n        jsonpath: $[*].id\n        single: true\n"))], &[]).await;
}

#[tokio::test]
async fn unexpected_status() {
    case("unexpected_status", &[("recipe.yaml", step("  - id: a\n    request: { url: \"{{ inputs.base }}/broken\" }\n    expect: { status: [200, 204] }\n"))], &[]).await;
}

#[tokio::test]
async fn missing_secret_env() {
    let text = format!(
        "{HEAD}secrets:\n  token: {{ env: WHISK_TEST_UNSET_TOKEN }}\nsteps:\n  - id: a\n    request: {{ url: \"{{{{ inputs.base }}}}/items\" }}\n"
    );
    case("missing_secret_env", &[("recipe.yaml", text)], &[]).await;
}

#[tokio::test]
async fn uses_cycle() {
    let a = step("  - id: call_b\n    uses: b.yaml\n    with: { base: \"{{ inputs.base }}\" }\n");
    let b =
        step("  - id: call_a\n    uses: recipe.yaml\n    with: { base: \"{{ inputs.base }}\" }\n");
    case("uses_cycle", &[("recipe.yaml", a), ("b.yaml", b)], &[]).await;
}

#[tokio::test]
async fn capture_shadows_an_input() {
    case("capture_shadows_an_input", &[("recipe.yaml", step("  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n    capture:\n      base: $[*].id\n"))], &[]).await;
}

#[tokio::test]
async fn bad_expect_status() {
    case("bad_expect_status", &[("recipe.yaml", step("  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n    expect: { status: 2xy }\n"))], &[]).await;
}

#[tokio::test]
async fn missing_required_input() {
    let text = "version: 1\nname: bad\ninputs:\n  base: { type: string }\n  org: { type: string, env: WHISK_TEST_UNSET_ORG }\nsteps:\n  - id: a\n    request: { url: \"{{ inputs.base }}/{{ inputs.org }}\" }\n".to_string();
    case("missing_required_input", &[("recipe.yaml", text)], &[]).await;
}

#[tokio::test]
async fn several_problems_at_once() {
    let text = step(
        "  - id: A\n    request: { url: \"{{ nope }}\", method: FETCH }\n  - id: b\n    auth: ghost\n    request: { url: \"{{ steps.later.status }}\" }\n",
    );
    case("several_problems_at_once", &[("recipe.yaml", text)], &[]).await;
}

#[tokio::test]
async fn input_of_the_wrong_type() {
    let text = "version: 1\nname: bad\ninputs:\n  base: { type: string }\n  count: { type: integer }\nsteps:\n  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n".to_string();
    case(
        "input_of_the_wrong_type",
        &[("recipe.yaml", text)],
        &["--input", "count=many"],
    )
    .await;
}

#[tokio::test]
async fn malformed_json_inputs_file() {
    let recipe =
        step("  - id: list\n    request: { method: GET, url: \"{{ inputs.base }}/items\" }\n");
    case(
        "malformed_json_inputs_file",
        &[
            ("recipe.yaml", recipe),
            ("inputs.json", "{\n  \"ids\": [1, 2,]\n}\n".to_string()),
        ],
        &["--inputs-file", "inputs.json"],
    )
    .await;
}

/// One mistake, one error: a capture whose JSONPath does not parse is still defined, so the
/// steps that read it (and the loop over it) are not reported as well.
#[tokio::test]
async fn bad_jsonpath_does_not_cascade() {
    let text = step(
        "  - id: list\n    request: { url: \"{{ inputs.base }}/items\" }\n    capture:\n      ids: $[?@.id ==\n    check:\n      - that: ids | length > 0\n  - id: each\n    for_each: \"{{ ids }}\"\n    request: { url: \"{{ inputs.base }}/items/{{ item }}\" }\n    capture:\n      names: $.name\n  - id: after\n    request: { url: \"{{ inputs.base }}/items?n={{ steps.each.results | length }}&x={{ names }}\" }\n",
    );
    case(
        "bad_jsonpath_does_not_cascade",
        &[("recipe.yaml", text)],
        &[],
    )
    .await;
}

/// A value of the inputs file that does not fit its input is reported at its line in that
/// file, not in the recipe.
#[tokio::test]
async fn wrong_type_in_a_yaml_inputs_file() {
    let recipe = "version: 1\nname: bad\ninputs:\n  base: { type: string }\n  ids: { type: array }\n  count: { type: integer }\nsteps:\n  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n".to_string();
    case(
        "wrong_type_in_a_yaml_inputs_file",
        &[
            ("recipe.yaml", recipe),
            (
                "inputs.yaml",
                "# the fan-out\nids: [101, 102]\ncount: twelve\n".to_string(),
            ),
        ],
        &["--inputs-file", "inputs.yaml"],
    )
    .await;
}

#[tokio::test]
async fn wrong_type_in_a_json_inputs_file() {
    let recipe = "version: 1\nname: bad\ninputs:\n  base: { type: string }\n  ids: { type: array }\nsteps:\n  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n".to_string();
    case(
        "wrong_type_in_a_json_inputs_file",
        &[
            ("recipe.yaml", recipe),
            ("inputs.json", "{\n  \"ids\": \"101,102\"\n}\n".to_string()),
        ],
        &["--inputs-file", "inputs.json"],
    )
    .await;
}

/// `VAR=` is refused by name: an empty secret is always a mistake (an unset `export`, a
/// CI variable not given to this job).
#[tokio::test]
async fn empty_secret_env() {
    let server = server().await;
    let text = format!(
        "{HEAD}secrets:\n  token: {{ env: WHISK_TEST_EMPTY_TOKEN }}\nauth:\n  api: {{ bearer: \"{{{{ secrets.token }}}}\" }}\nsteps:\n  - id: a\n    auth: api\n    request: {{ url: \"{{{{ inputs.base }}}}/items\" }}\n"
    );
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let out = whisk
        .input("base", &server.uri())
        .env("WHISK_TEST_EMPTY_TOKEN", "")
        .run(&text);
    assert_eq!(out.code, 2, "{}", out.stderr);
    insta::assert_snapshot!(
        "error_empty_secret_env",
        format!("exit code: {}\n{}", out.code, scrub(&out.stderr, &dir))
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

/// A problem caught before sending: exit 2, the snapshot of stderr, and the server saw nothing.
async fn refused_before_sending(name: &str, recipe: &str, extra: &[&str]) {
    let server = server().await;
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    whisk.file("recipe.yaml", recipe);
    let mut whisk = whisk.input("base", &server.uri());
    for arg in extra {
        whisk = whisk.arg(*arg);
    }
    let out = whisk.run_file(&dir.join("recipe.yaml"));
    assert_eq!(out.code, 2, "{name}: {}", out.stderr);
    let text = format!("exit code: {}\n{}", out.code, scrub(&out.stderr, &dir));
    insta::assert_snapshot!(format!("error_{name}"), text);
    let received = server.received_requests().await.unwrap_or_default();
    assert!(received.is_empty(), "{name}: sent {received:?}");
}

#[tokio::test]
async fn url_without_a_scheme_once_rendered() {
    let recipe = step("  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n");
    refused_before_sending(
        "url_without_a_scheme_once_rendered",
        &recipe,
        &["--input", "base=api.example.com/v1"],
    )
    .await;
}

#[tokio::test]
async fn token_url_in_clear_text_once_rendered() {
    let recipe = format!(
        "{HEAD}  idp: {{ type: string, default: 'http://idp.example.com' }}\nauth:\n  api:\n    oauth2:\n      grant: client_credentials\n      token_url: \"{{{{ inputs.idp }}}}/oauth2/token\"\n      client_id: c\n      client_secret: s\nsteps:\n  - id: a\n    auth: api\n    request: {{ url: \"{{{{ inputs.base }}}}/items\" }}\n"
    );
    refused_before_sending("token_url_in_clear_text_once_rendered", &recipe, &[]).await;
}

#[tokio::test]
async fn concurrency_zero_from_an_input() {
    let recipe = format!(
        "{HEAD}  lanes: {{ type: integer, default: 4 }}\nsteps:\n  - id: a\n    for_each: \"{{{{ [1, 2] }}}}\"\n    concurrency: \"{{{{ inputs.lanes }}}}\"\n    request: {{ url: \"{{{{ inputs.base }}}}/items\" }}\n"
    );
    refused_before_sending(
        "concurrency_zero_from_an_input",
        &recipe,
        &["--input", "lanes=0"],
    )
    .await;
}

#[tokio::test]
async fn report_folder_that_does_not_exist() {
    let recipe = step("  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n");
    refused_before_sending(
        "report_folder_that_does_not_exist",
        &recipe,
        &["--junit", "out/whisk.xml", "--summary", "out/summary.md"],
    )
    .await;
}

#[tokio::test]
async fn until_and_paginate_mistakes() {
    let recipe = step(
        "  - id: wait\n    request: { url: \"{{ inputs.base }}/items\" }\n    capture: { state: $.state }\n    until: { that: \"stat == 'done'\", interval: 1s, backoff: { initial: 1s } }\n  - id: list\n    request: { url: \"{{ inputs.base }}/items\" }\n    paginate: { next_url: \"$.links[?@.rel == 'next'\" }\n",
    );
    refused_before_sending("until_and_paginate_mistakes", &recipe, &[]).await;
}

#[tokio::test]
async fn csv_row_of_the_wrong_type() {
    let recipe = "version: 1\nname: bad\ninputs:\n  base: { type: string }\n  children: { type: array, columns: { seats: integer } }\nsteps:\n  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n".to_string();
    case(
        "csv_row_of_the_wrong_type",
        &[
            ("recipe.yaml", recipe),
            (
                "children.csv",
                "locator,seats\n101,5\n102,five\n".to_string(),
            ),
        ],
        &["--inputs-file", "children=children.csv"],
    )
    .await;
}

#[tokio::test]
async fn ndjson_line_that_is_not_json() {
    let recipe = "version: 1\nname: bad\ninputs:\n  base: { type: string }\n  children: { type: array }\nsteps:\n  - id: a\n    request: { url: \"{{ inputs.base }}/items\" }\n".to_string();
    case(
        "ndjson_line_that_is_not_json",
        &[
            ("recipe.yaml", recipe),
            ("children.ndjson", "{\"a\": 1}\n{\"a\": 2\n".to_string()),
        ],
        &["--inputs-file", "children.ndjson"],
    )
    .await;
}
