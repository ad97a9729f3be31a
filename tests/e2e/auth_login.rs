//! `whisk auth login|status|logout` with the shipped IBM recipe against the sandbox's IBM
//! emulation (authorization code with PKCE S256 and state), then unattended runs.

use std::time::Duration;

use whisk::sandbox::{Sandbox, SandboxData};

use crate::harness::Output;
use crate::oauth_support::*;

const KEY: &str = "ibm-connections";

struct Ibm<'a> {
    sandbox: &'a Sandbox,
    space: Workspace,
    redirect_uri: String,
}

impl<'a> Ibm<'a> {
    fn new(sandbox: &'a Sandbox) -> Ibm<'a> {
        Ibm {
            sandbox,
            space: Workspace::new(),
            redirect_uri: sandbox.credentials().ibm.redirect_uri.clone(),
        }
    }

    fn inputs(&self) -> Vec<String> {
        let urls = self.sandbox.urls();
        [
            ("authorization_url", urls.ibm_authorize_url),
            ("token_url", urls.ibm_token_url),
            ("identity_url", urls.ibm_user_identity_url),
            ("redirect_uri", self.redirect_uri.clone()),
        ]
        .into_iter()
        .flat_map(|(k, v)| ["--input".to_string(), format!("{k}={v}")])
        .collect()
    }

    fn command(&self, head: &[&str], tail: &[&str]) -> std::process::Command {
        let creds = &self.sandbox.credentials().ibm;
        let store = self.space.store_arg();
        let inputs = self.inputs();
        let mut args: Vec<&str> = head.to_vec();
        args.extend(inputs.iter().map(String::as_str));
        args.extend_from_slice(&["--token-store", &store]);
        args.extend_from_slice(tail);
        whisk(
            self.space.path(),
            &args,
            &[
                ("IBM_CLIENT_ID", &creds.client_id),
                ("IBM_CLIENT_SECRET", &creds.client_secret),
            ],
        )
    }

    fn login(&self, extra: &[&str]) -> Login {
        Login::start(self.command(&["auth", "login", IBM_RECIPE, "ibm"], extra))
    }

    /// Signs in in paste mode, passing the redirect through `tamper` on its way back.
    async fn sign_in(&self, tamper: impl Fn(&str) -> String) -> Output {
        let mut login = self.login(&["--paste"]);
        let url = login.url();
        let location = authorize(&url).await;
        login.paste(&tamper(&location))
    }

    fn run(&self, report: &str) -> Output {
        let report = self.space.report(report);
        let report_arg = report.display().to_string();
        finish(
            self.command(&["run", IBM_RECIPE], &["--report", &report_arg]),
            Some(&report),
        )
    }

    fn auth(&self, args: &[&str]) -> Output {
        let store = self.space.store_arg();
        let mut all = vec!["auth"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--token-store", &store]);
        finish(whisk(self.space.path(), &all, &[]), None)
    }

    fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![self.sandbox.credentials().ibm.client_secret.clone()];
        if self.space.store().join(format!("{KEY}.json")).exists() {
            secrets.extend(stored_secrets(&self.space.store(), KEY));
        }
        secrets
    }

    fn assert_no_secrets(&self, outputs: &[&Output]) {
        let secrets = self.secrets();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_secrets(outputs, &secrets);
    }
}

/// Follows the authorize URL one hop (the sandbox approves at once) and returns the redirect.
async fn authorize(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client.get(url).send().await.expect("authorize request");
    assert_eq!(response.status(), 302, "{:?}", response.text().await);
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location")
        .to_string()
}

fn query(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .expect("URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ibm_recipe_signs_in_once_then_runs_unattended() {
    let sandbox = sandbox(SandboxData::default()).await;
    let ibm = Ibm::new(&sandbox);
    let mut login = ibm.login(&["--paste"]);
    let url = login.url();
    let params = query(&url);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("response_type").as_deref(), Some("code"));
    assert_eq!(get("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(get("redirect_uri"), Some(ibm.redirect_uri.clone()));
    assert_eq!(get("state").map(|s| s.len()), Some(43));
    assert_eq!(get("code_challenge").map(|s| s.len()), Some(43));
    let location = authorize(&url).await;
    let code = query(&location)
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .expect("a code");
    let signed_in = login.paste(&location);
    assert_eq!(signed_in.code, 0, "{}", signed_in.stderr);
    assert!(
        signed_in.stderr.contains("signed in"),
        "{}",
        signed_in.stderr
    );
    let record = stored(&ibm.space.store(), KEY);
    assert_eq!(record["obtained_by"], "authorization_code");
    assert!(record["refresh_token"].is_string());

    let first = ibm.run("first.json");
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        first.outputs(),
        serde_json::json!({
            "name": "Dana Sandbox",
            "email": "dana.sandbox@example.com",
            "subscriber_id": "20000001",
            "customer_id": "10000001",
        })
    );
    let second = ibm.run("second.json");
    assert_eq!(second.code, 0, "{}", second.stderr);
    let stats = sandbox.stats();
    assert_eq!(stats.token_requests_for("ibm", "authorization_code"), 1);
    assert_eq!(
        stats.token_requests_for("ibm", "refresh_token"),
        0,
        "both runs reused the stored access token"
    );
    ibm.assert_no_secrets(&[&signed_in, &first, &second]);
    assert_no_secrets(&[&signed_in, &first, &second], &[&code]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_runs_refresh_with_the_stored_refresh_token() {
    let sandbox = sandbox(lifetime(1)).await;
    let ibm = Ibm::new(&sandbox);
    let signed_in = ibm.sign_in(str::to_string).await;
    assert_eq!(signed_in.code, 0, "{}", signed_in.stderr);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = ibm.run("run.json");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        sandbox.stats().token_requests_for("ibm", "refresh_token"),
        1
    );
    ibm.assert_no_secrets(&[&signed_in, &out]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_receives_the_redirect_on_a_loopback_redirect_uri() {
    let sandbox = sandbox(SandboxData::default()).await;
    let mut ibm = Ibm::new(&sandbox);
    let port = free_port();
    // The sandbox matches loopback callbacks on any port (RFC 8252 §7.3).
    ibm.redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let mut login = ibm.login(&["--timeout", "30s"]);
    let url = login.url();
    let location = authorize(&url).await;
    assert!(location.starts_with(&ibm.redirect_uri), "{location}");
    let page = reqwest::get(&location).await.expect("whisk answers");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap_or_default().contains("Signed in"));
    let out = login.wait();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let run = ibm.run("run.json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    ibm.assert_no_secrets(&[&out, &run]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_with_another_state_is_refused_with_exit_3() {
    let sandbox = sandbox(SandboxData::default()).await;
    let ibm = Ibm::new(&sandbox);
    let out = ibm
        .sign_in(|location| location.replace("state=", "state=forged"))
        .await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`state` of the redirect does not match"),
        "{}",
        out.stderr
    );
    assert!(!ibm.space.store().join(format!("{KEY}.json")).exists());
    assert_eq!(
        sandbox
            .stats()
            .token_requests_for("ibm", "authorization_code"),
        0,
        "the code was not exchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_before_any_sign_in_exits_3_and_says_how_to_sign_in() {
    let sandbox = sandbox(SandboxData::default()).await;
    let ibm = Ibm::new(&sandbox);
    let out = ibm.run("run.json");
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("whisk auth login"), "{}", out.stderr);
    assert!(out.stderr.contains(KEY), "{}", out.stderr);
    assert_eq!(
        sandbox.stats().requests_to("/manage/oauth/getUserIdentity"),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_what_is_stored_and_logout_removes_it() {
    let sandbox = sandbox(SandboxData::default()).await;
    let ibm = Ibm::new(&sandbox);
    let before = ibm.auth(&["status", IBM_RECIPE]);
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert!(
        before.stdout.contains("nothing stored"),
        "{}",
        before.stdout
    );
    let signed_in = ibm.sign_in(str::to_string).await;
    assert_eq!(signed_in.code, 0, "{}", signed_in.stderr);
    let status = ibm.auth(&["status", IBM_RECIPE]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    for expected in [
        "profile `ibm`, key `ibm-connections`",
        "refresh token: held",
        "access token: valid until",
        "obtained by: authorization_code",
    ] {
        assert!(status.stdout.contains(expected), "{}", status.stdout);
    }
    // The sandbox's two-hour token, in hours and minutes (a second may have passed).
    assert!(
        status.stdout.contains("(for 2 h)") || status.stdout.contains("(for 1 h 59 min)"),
        "{}",
        status.stdout
    );
    let all = ibm.auth(&["status"]);
    assert!(
        all.stdout.contains("key `ibm-connections`"),
        "{}",
        all.stdout
    );
    ibm.assert_no_secrets(&[&status, &all]);
    let logout = ibm.auth(&["logout", IBM_RECIPE, "ibm"]);
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(logout.stderr.contains("removed"), "{}", logout.stderr);
    assert!(!ibm.space.store().join(format!("{KEY}.json")).exists());
    let run = ibm.run("run.json");
    assert_eq!(run.code, 3, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rejects_a_profile_without_the_code_grant() {
    let sandbox = sandbox(SandboxData::default()).await;
    let ibm = Ibm::new(&sandbox);
    let out = finish(
        ibm.command(&["auth", "login", IBM_RECIPE, "nope"], &["--paste"]),
        None,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("has no auth profile `nope`"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_recipe_records_and_replays_without_its_stored_tokens() {
    let sandbox = sandbox(SandboxData::default()).await;
    let ibm = Ibm::new(&sandbox);
    let signed_in = ibm.sign_in(str::to_string).await;
    assert_eq!(signed_in.code, 0, "{}", signed_in.stderr);
    let cassette = ibm.space.path().join("ibm.cassette.json");
    let cassette_arg = cassette.display().to_string();
    let recorded = finish(
        ibm.command(&["record", IBM_RECIPE], &["--cassette", &cassette_arg]),
        None,
    );
    assert_eq!(recorded.code, 0, "{}", recorded.stderr);
    let text = std::fs::read_to_string(&cassette).expect("a cassette");
    assert!(text.contains("refresh_token=***"), "{text}");
    // With neither the store nor the client's secrets, and without asking the sandbox.
    let before = sandbox.stats().token_requests_for("ibm", "refresh_token");
    let replayed = finish(whisk(ibm.space.path(), &["test", &cassette_arg], &[]), None);
    assert_eq!(replayed.code, 0, "{}\n{}", replayed.stdout, replayed.stderr);
    assert_eq!(
        sandbox.stats().token_requests_for("ibm", "refresh_token"),
        before,
        "the replay asked the sandbox"
    );
    assert!(
        replayed.stdout.contains("1 passed, 0 failed"),
        "{}",
        replayed.stdout
    );
    let secrets = ibm.secrets();
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "the cassette holds a secret"
        );
    }
    ibm.assert_no_secrets(&[&signed_in, &recorded, &replayed]);
}
