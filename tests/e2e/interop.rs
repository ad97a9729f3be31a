//! Interoperability with an independently written, OpenID-certified OAuth 2.0 server:
//! panva/oidc-provider from npm, started on 127.0.0.1 by `interop/run.sh`, which passes its
//! issuer URL in `WHISK_OIDC_URL`. Without that variable every test here says why it skips.
//!
//! The server (`interop/oidc-provider/server.mjs`) has a client-credentials client with
//! `client_secret_basic`, a code client with `client_secret_post` and required PKCE,
//! 4-second access tokens and refresh tokens that rotate on every use; its development login
//! and consent pages are driven here with plain HTTP and a small cookie jar.

use std::io::Write;
use std::time::Duration;

use crate::harness::Output;
use crate::oauth_support::*;

const CC_ID: &str = "whisk-cc";
const CC_SECRET: &str = "whisk-cc-secret-7f3a9c1e5b";
const CODE_ID: &str = "whisk-code";
const CODE_SECRET: &str = "whisk-code-secret-2d8e6b4f0a";
const REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";
const TOKEN_TTL: Duration = Duration::from_secs(4);

/// The issuer URL, or `None` after saying loudly (past the test harness's capture) why not.
fn issuer(test: &str) -> Option<String> {
    match std::env::var("WHISK_OIDC_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_string()),
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED interop::{test}: WHISK_OIDC_URL is not set; `bash interop/run.sh` starts oidc-provider on 127.0.0.1 and runs these tests against it"
            );
            None
        }
    }
}

fn run(space: &Workspace, recipe: &std::path::Path, issuer: &str, secret: (&str, &str)) -> Output {
    let report = space.report("report.json");
    let args = [
        "run",
        &recipe.display().to_string(),
        "--input",
        &format!("issuer={issuer}"),
        "--token-store",
        &space.store_arg(),
        "--report",
        &report.display().to_string(),
        "-v",
    ]
    .map(|s| s.to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    finish(whisk(space.path(), &args, &[secret]), Some(&report))
}

const CC_RECIPE: &str = r#"
version: 1
name: oidc-client-credentials
inputs:
  issuer: { type: string }
  rounds: { type: array, default: [1, 2] }
secrets:
  client_secret: { env: OIDC_CC_SECRET }
auth:
  cc:
    oauth2:
      grant: client_credentials
      token_url: "{{ inputs.issuer }}/token"
      client_id: whisk-cc
      client_secret: "{{ secrets.client_secret }}"
      client_auth: basic
      scope: [api:read]
      params: { resource: "urn:whisk:api" }
defaults:
  auth: cc
steps:
  - id: whoami
    for_each: inputs.rounds
    request: { url: "{{ inputs.issuer }}/api/whoami" }
    capture:
      client: { jsonpath: $.client_id, single: true }
      audience: { jsonpath: $.aud, single: true }
      scope: { jsonpath: $.scope, single: true }
outputs:
  client: client
  audience: audience
  scope: scope
"#;

#[test]
fn interop_client_credentials_with_basic_auth_scope_and_resource() {
    let Some(issuer) = issuer("interop_client_credentials_with_basic_auth_scope_and_resource")
    else {
        return;
    };
    let space = Workspace::new();
    let recipe = space.file("cc.yaml", CC_RECIPE);
    let out = run(&space, &recipe, &issuer, ("OIDC_CC_SECRET", CC_SECRET));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.outputs(),
        serde_json::json!({
            "client": [CC_ID, CC_ID],
            "audience": ["urn:whisk:api", "urn:whisk:api"],
            "scope": ["api:read", "api:read"],
        })
    );
    assert_no_secrets(&[&out], &[CC_SECRET]);
}

#[test]
fn interop_token_endpoint_errors_exit_3_with_the_rfc_6749_code() {
    let Some(issuer) = issuer("interop_token_endpoint_errors_exit_3_with_the_rfc_6749_code") else {
        return;
    };
    let space = Workspace::new();
    let recipe = space.file("cc.yaml", CC_RECIPE);
    let wrong = "not-the-secret-5e1d";
    let out = run(&space, &recipe, &issuer, ("OIDC_CC_SECRET", wrong));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("`invalid_client`"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("{issuer}/token")),
        "{}",
        out.stderr
    );
    assert_no_secrets(&[&out], &[wrong]);
}

const CODE_RECIPE: &str = r#"
version: 1
name: oidc-authorization-code
inputs:
  issuer: { type: string }
secrets:
  client_secret: { env: OIDC_CODE_SECRET }
auth:
  oidc:
    oauth2:
      grant: authorization_code
      authorization_url: "{{ inputs.issuer }}/auth"
      token_url: "{{ inputs.issuer }}/token"
      redirect_uri: http://127.0.0.1:8765/callback
      client_id: whisk-code
      client_secret: "{{ secrets.client_secret }}"
      client_auth: body
      scope: [openid, offline_access]
      authorization_params: { prompt: consent }
      store: oidc-code
defaults:
  auth: oidc
steps:
  - id: me
    request: { url: "{{ inputs.issuer }}/me" }
    capture:
      sub: { jsonpath: $.sub, single: true }
outputs:
  sub: sub
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interop_authorization_code_with_pkce_then_rotating_refresh() {
    let Some(issuer) = issuer("interop_authorization_code_with_pkce_then_rotating_refresh") else {
        return;
    };
    let space = Workspace::new();
    let recipe = space.file("code.yaml", CODE_RECIPE);
    let secret = ("OIDC_CODE_SECRET", CODE_SECRET);
    let recipe_arg = recipe.display().to_string();
    let input = format!("issuer={issuer}");
    let store = space.store_arg();
    let mut login = Login::start(whisk(
        space.path(),
        &[
            "auth",
            "login",
            &recipe_arg,
            "oidc",
            "--input",
            &input,
            "--token-store",
            &store,
            "--paste",
        ],
        &[secret],
    ));
    let url = login.url();
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let redirect = sign_in_and_consent(&url).await;
    let signed_in = login.paste(&redirect);
    assert_eq!(signed_in.code, 0, "{}", signed_in.stderr);
    let first_refresh = stored_refresh(&space.store(), "oidc-code");
    let mut seen = stored_secrets(&space.store(), "oidc-code");

    let mut outputs = vec![signed_in];
    let mut refresh_tokens = vec![first_refresh.clone()];
    for round in 0..2 {
        // Let the stored access token run out, so that the run must refresh.
        tokio::time::sleep(TOKEN_TTL + Duration::from_millis(300)).await;
        let out = run(&space, &recipe, &issuer, secret);
        assert_eq!(out.code, 0, "run {round}: {}", out.stderr);
        assert_eq!(out.outputs(), serde_json::json!({"sub": "dana"}));
        let rotated = stored_refresh(&space.store(), "oidc-code");
        assert!(
            !refresh_tokens.contains(&rotated),
            "run {round} stored a rotated refresh token"
        );
        refresh_tokens.push(rotated);
        seen.extend(stored_secrets(&space.store(), "oidc-code"));
        outputs.push(out);
    }
    // The first refresh token was spent: the server refuses it (and, as it should on reuse,
    // revokes the grant, so this comes last).
    let answer = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", first_refresh.as_str()),
            ("client_id", CODE_ID),
            ("client_secret", CODE_SECRET),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_grant");
    let mut secrets: Vec<&str> = seen.iter().map(String::as_str).collect();
    secrets.push(CODE_SECRET);
    let outputs: Vec<&Output> = outputs.iter().collect();
    assert_no_secrets(&outputs, &secrets);
}

/// Drives the development login and consent pages from the authorize URL to the redirect
/// back to `REDIRECT_URI`, which it returns.
async fn sign_in_and_consent(authorize_url: &str) -> String {
    walk_pages(authorize_url, Some(REDIRECT_URI))
        .await
        .unwrap_or_else(|| panic!("oidc-provider did not redirect back to {REDIRECT_URI}"))
}

/// Follows oidc-provider's pages from `start`, posting back each page's form (every input
/// but `abort`; the development login as `dana`), until a redirect to `until` (returned) or a
/// "Sign-in Success" page (`None`).
async fn walk_pages(start: &str, until: Option<&str>) -> Option<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut jar = Jar::default();
    let mut next = start.to_string();
    let mut form: Option<Vec<(String, String)>> = None;
    let inputs = regex::Regex::new(r"<input[^>]*>").unwrap();
    for _ in 0..20 {
        let request = match form.take() {
            Some(fields) => client.post(&next).form(&fields),
            None => client.get(&next),
        };
        let response = request
            .header("cookie", jar.header())
            .send()
            .await
            .expect("request to oidc-provider");
        jar.keep(response.headers());
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .expect("a Location");
            next = reqwest::Url::parse(&next)
                .and_then(|base| base.join(location))
                .expect("a URL")
                .to_string();
            if until.is_some_and(|until| next.starts_with(until)) {
                return Some(next);
            }
            continue;
        }
        let status = response.status();
        let page = response.text().await.unwrap_or_default();
        if page.contains("Sign-in Success") {
            return None;
        }
        let action = capture(&page, r#"<form[^>]*action="([^"]+)""#)
            .unwrap_or_else(|| panic!("no form in a {status} page:\n{page}"));
        let mut fields: Vec<(String, String)> = Vec::new();
        for tag in inputs.find_iter(&page) {
            let tag = tag.as_str();
            let Some(name) = capture(tag, r#"name="([^"]*)""#) else {
                continue;
            };
            if name == "abort" || name == "login" || name == "password" {
                continue;
            }
            let value = capture(tag, r#"value="([^"]*)""#).unwrap_or_default();
            fields.push((name, value));
        }
        if fields.iter().any(|(n, v)| n == "prompt" && v == "login") {
            fields.push(("login".into(), "dana".into()));
            fields.push(("password".into(), "any-password".into()));
        }
        form = Some(fields);
        next = reqwest::Url::parse(&next)
            .and_then(|base| base.join(&action.replace("&amp;", "&")))
            .expect("a URL")
            .to_string();
    }
    panic!("oidc-provider's pages went on for more than 20 steps");
}

fn capture(text: &str, pattern: &str) -> Option<String> {
    regex::Regex::new(pattern)
        .ok()?
        .captures(text)?
        .get(1)
        .map(|m| m.as_str().to_string())
}

/// Cookies by name, the newest value winning; sent to every path (the pages ignore extras).
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, headers: &reqwest::header::HeaderMap) {
        for value in headers.get_all("set-cookie") {
            let Some(pair) = value.to_str().ok().and_then(|v| v.split(';').next()) else {
                continue;
            };
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            self.0.retain(|(n, _)| n != name.trim());
            if !value.is_empty() {
                self.0.push((name.trim().to_string(), value.to_string()));
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

const DEVICE_RECIPE: &str = r#"
version: 1
name: oidc-device
inputs:
  issuer: { type: string }
auth:
  device:
    oauth2:
      grant: device_code
      device_authorization_url: "{{ inputs.issuer }}/device/auth"
      token_url: "{{ inputs.issuer }}/token"
      client_id: whisk-device
      scope: [openid, offline_access, "api:read"]
      params: { resource: "urn:whisk:api" }
      store: oidc-device
defaults:
  auth: device
steps:
  - id: whoami
    request: { url: "{{ inputs.issuer }}/api/whoami" }
    capture:
      sub: { jsonpath: $.sub, single: true }
outputs:
  sub: sub
"#;

/// `whisk auth login --device`: whisk prints the address and the code and polls (slowly
/// enough for the server's `interval`); the person approves on "another device" (plain HTTP
/// here); runs then use the stored, rotating refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interop_device_authorization_grant() {
    use std::io::BufRead;
    let Some(issuer) = issuer("interop_device_authorization_grant") else {
        return;
    };
    let space = Workspace::new();
    let recipe = space.file("device.yaml", DEVICE_RECIPE);
    let recipe_arg = recipe.display().to_string();
    let input = format!("issuer={issuer}");
    let store = space.store_arg();
    let mut command = whisk(
        space.path(),
        &[
            "auth",
            "login",
            &recipe_arg,
            "device",
            "--input",
            &input,
            "--token-store",
            &store,
            "--device",
            "--timeout",
            "60s",
        ],
        &[],
    );
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("whisk starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    let complete = loop {
        let line = lines
            .next()
            .expect("whisk printed where to sign in")
            .expect("a line");
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("(or open ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let code = printed
        .iter()
        .map(|l| l.trim())
        .find(|l| l.len() == 9 && l.as_bytes()[4] == b'-')
        .unwrap_or_else(|| panic!("no user code in {printed:?}"))
        .to_string();
    assert!(
        complete.contains(&code.replace('-', "")) || complete.contains(&code),
        "{complete}"
    );
    approve_device(&complete).await;
    let signed_in = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .expect("whisk ends");
    let stderr = String::from_utf8_lossy(&signed_in.stderr).into_owned();
    assert_eq!(signed_in.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("signed in"), "{stderr}");
    let stored = stored(&space.store(), "oidc-device");
    assert_eq!(stored["obtained_by"], "device_code");
    let first_refresh = stored_refresh(&space.store(), "oidc-device");
    for round in 0..2 {
        let out = run(&space, &recipe, &issuer, ("UNUSED", "x"));
        assert_eq!(out.code, 0, "run {round}: {}", out.stderr);
        assert_eq!(out.outputs(), serde_json::json!({"sub": "dana"}));
        // The next run refreshes: the access token lives 4 s.
        tokio::time::sleep(TOKEN_TTL + Duration::from_millis(300)).await;
    }
    assert_ne!(
        stored_refresh(&space.store(), "oidc-device"),
        first_refresh,
        "rotated"
    );
}

/// Approves a device code on the server's pages: the code's page, its confirmation, then
/// the development login and consent, to "Sign-in Success".
async fn approve_device(complete_uri: &str) {
    assert!(walk_pages(complete_uri, None).await.is_none());
}
