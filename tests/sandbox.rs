//! The embedded sandbox over real HTTP on 127.0.0.1: each platform's flows and errors,
//! injected faults, the data file, the log hook and the counters.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Response, StatusCode, header, redirect};
use serde_json::Value;
use sha2::{Digest, Sha256};
use whisk::sandbox::{self, Fault, LogSink, Sandbox, SandboxConfig, SandboxData};

const APPS_0: &str = "/tci/v1/subscriptions/0/apps";
const CONNECTIONS: &str = "/ic/api/integration/v1/connections";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// ---------------------------------------------------------------- helpers

async fn start(data: SandboxData) -> Sandbox {
    sandbox::start(SandboxConfig::new(data))
        .await
        .expect("the sandbox starts")
}

async fn demo() -> Sandbox {
    start(SandboxData::default()).await
}

/// A client that does not follow redirects, so that tests see them.
fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("a client")
}

async fn body(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

async fn status_and_body(response: Response) -> (StatusCode, Value) {
    (response.status(), body(response).await)
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn tibco_tokens(sb: &Sandbox) -> Value {
    let creds = &sb.credentials().tibco;
    let response = client()
        .post(sb.urls().tci_token_url)
        .basic_auth(&creds.client_id, Some(&creds.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "TCI")])
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), StatusCode::OK);
    body(response).await
}

async fn tibco_token(sb: &Sandbox) -> String {
    let tokens = tibco_tokens(sb).await;
    tokens["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn tci(sb: &Sandbox, method: reqwest::Method, path: &str, token: &str) -> Response {
    client()
        .request(method, format!("{}{path}", sb.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("api request")
}

async fn oracle_token(sb: &Sandbox) -> String {
    let creds = &sb.credentials().oracle;
    let response = client()
        .post(sb.urls().oracle_token_url)
        .basic_auth(&creds.client_id, Some(&creds.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", &creds.scope),
        ])
        .send()
        .await
        .expect("token request");
    let (status, tokens) = status_and_body(response).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// `/authorize` with the demo client and PKCE, plus `extra` pairs; returns the raw response.
async fn ibm_authorize(sb: &Sandbox, extra: &[(&str, &str)]) -> Response {
    let creds = &sb.credentials().ibm;
    let challenge = challenge(VERIFIER);
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", creds.client_id.as_str()),
        ("redirect_uri", creds.redirect_uri.as_str()),
        ("state", "xyz 1/2"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    query.extend_from_slice(extra);
    client()
        .get(sb.urls().ibm_authorize_url)
        .query(&query)
        .send()
        .await
        .expect("authorize request")
}

/// The `code` of a successful authorization.
async fn ibm_code(sb: &Sandbox) -> String {
    let response = ibm_authorize(sb, &[]).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii");
    let url = reqwest::Url::parse(location).expect("a URL");
    let code = url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v);
    code.expect("a code").into_owned()
}

async fn ibm_exchange(sb: &Sandbox, code: &str, verifier: &str) -> Response {
    let creds = &sb.credentials().ibm;
    client()
        .post(sb.urls().ibm_token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &creds.redirect_uri),
            ("client_id", &creds.client_id),
            ("client_secret", &creds.client_secret),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token request")
}

async fn ibm_identity(sb: &Sandbox, token: &str) -> Response {
    client()
        .get(sb.urls().ibm_user_identity_url)
        .bearer_auth(token)
        .send()
        .await
        .expect("identity request")
}

// ---------------------------------------------------------------- TIBCO

/// A client secret, a form, and the expected status and `error`.
type TokenCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    StatusCode,
    &'static str,
);

#[tokio::test]
async fn tibco_client_credentials_with_basic_or_body_auth() {
    let sb = demo().await;
    let tokens = tibco_tokens(&sb).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 28_800);
    assert_eq!(tokens["refresh_token_expires_in"], 604_800);
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );

    let url = sb.urls().tci_token_url;
    let form_auth = client()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "whisk-demo-client"),
            ("client_secret", "whisk-demo-secret"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(form_auth.status(), StatusCode::OK);

    let cases: [TokenCase; 4] = [
        (
            "wrong-secret",
            &[("grant_type", "client_credentials")],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "whisk-demo-secret",
            &[("grant_type", "password")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            "whisk-demo-secret",
            &[("grant_type", "client_credentials"), ("scope", "ADMIN")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            "whisk-demo-secret",
            &[("scope", "TCI")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (secret, form, status, error) in cases {
        let response = client()
            .post(&url)
            .basic_auth("whisk-demo-client", Some(secret))
            .form(form)
            .send()
            .await
            .expect("request");
        let (got, json) = status_and_body(response).await;
        assert_eq!(
            (got, json["error"].as_str()),
            (status, Some(error)),
            "{form:?}: {json}"
        );
        assert!(json["error_description"].is_string());
    }
    assert_eq!(
        sb.stats().token_requests_for("tibco", "client_credentials"),
        4
    );
}

#[tokio::test]
async fn tibco_refresh_tokens_rotate_and_die_after_use() {
    let sb = demo().await;
    let creds = sb.credentials().tibco.clone();
    let refresh = |token: String| {
        let url = sb.urls().tci_token_url;
        let creds = creds.clone();
        async move {
            let response = client()
                .post(url)
                .basic_auth(&creds.client_id, Some(&creds.client_secret))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
                .send()
                .await
                .expect("refresh request");
            status_and_body(response).await
        }
    };
    let (status, first) = refresh(creds.refresh_token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let next = first["refresh_token"]
        .as_str()
        .expect("a new refresh token")
        .to_owned();
    assert_ne!(next, creds.refresh_token);

    let (status, reused) = refresh(creds.refresh_token.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reused["error"], "invalid_grant");

    let (status, second) = refresh(next.clone()).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let token = second["access_token"].as_str().expect("access token");
    let enabled = tci(
        &sb,
        reqwest::Method::POST,
        "/tci/v1/subscriptions/0/apiservice/access",
        token,
    )
    .await;
    assert_eq!(enabled.status(), StatusCode::OK);

    let (status, _) = refresh(next).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(sb.stats().token_requests_for("tibco", "refresh_token"), 4);
}

#[tokio::test]
async fn tibco_api_access_must_be_enabled_per_organization_within_the_family() {
    let sb = demo().await;
    let token = tibco_token(&sb).await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let (status, json) = status_and_body(tci(&sb, get.clone(), APPS_0, &token).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json["error"], "api_access_not_enabled");

    let (status, json) = status_and_body(
        tci(
            &sb,
            post.clone(),
            "/tci/v1/subscriptions/0/apiservice/access",
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, &json["subscriptionLocator"]),
        (StatusCode::OK, &Value::from("100"))
    );
    assert_eq!(json["apiAccessEnabled"], true);

    let apps = tci(&sb, get.clone(), APPS_0, &token).await;
    assert_eq!(apps.status(), StatusCode::OK);
    assert_eq!(
        apps.headers()[header::LINK],
        "</tci/v1/subscriptions/0/apps?offset=2&limit=2>; rel=\"next\""
    );
    let etag = apps.headers()[header::ETAG]
        .to_str()
        .expect("ascii")
        .to_owned();
    let apps = body(apps).await;
    let names: Vec<&str> = apps
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["order-sync", "invoice-export"], "a page of two");
    assert!(apps[0]["id"].is_string());
    let rest = client()
        .get(format!("{}{APPS_0}?offset=2&limit=2", sb.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert!(rest.headers().get(header::LINK).is_none(), "the last page");
    assert_eq!(body(rest).await[0]["name"], "customer-api");
    let cached = client()
        .get(format!("{}{APPS_0}", sb.base_url()))
        .bearer_auth(&token)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    let child_apps = "/tci/v1/subscriptions/101/apps";
    let (status, json) = status_and_body(tci(&sb, get.clone(), child_apps, &token).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let message = json["error_description"].as_str().expect("a message");
    assert!(
        message.contains("API access is not enabled for the organization"),
        "{message}"
    );
    let enable_child = "/tci/v1/subscriptions/101/apiservice/access";
    assert_eq!(
        tci(&sb, post.clone(), enable_child, &token).await.status(),
        StatusCode::OK
    );
    let (status, json) = status_and_body(tci(&sb, get.clone(), child_apps, &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json[0]["name"], "child-101-worker");

    let other_family = "/tci/v1/subscriptions/201/apiservice/access";
    let (status, json) = status_and_body(tci(&sb, post.clone(), other_family, &token).await).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let unknown = "/tci/v1/subscriptions/999/apiservice/access";
    assert_eq!(
        tci(&sb, post, unknown, &token).await.status(),
        StatusCode::NOT_FOUND
    );

    let family = body(tci(&sb, get, "/tci/v1/subscriptions", &token).await).await;
    assert_eq!(family.as_array().map(Vec::len), Some(26));
    assert_eq!(
        sb.stats().requests_to(APPS_0),
        4,
        "two pages, a 304, a refusal"
    );
    assert_eq!(
        sb.stats().last_authorization_for(APPS_0),
        Some(format!("Bearer {token}").as_str())
    );
}

#[tokio::test]
async fn tibco_expired_and_invalid_tokens_get_distinct_401s() {
    let mut data = SandboxData::default();
    data.set_access_token_lifetime(1.0);
    let sb = start(data).await;
    let tokens = tibco_tokens(&sb).await;
    assert_eq!(tokens["expires_in"], 1);
    let token = tokens["access_token"].as_str().expect("token");
    let path = "/tci/v1/subscriptions/0/apiservice/access";
    assert_eq!(
        tci(&sb, reqwest::Method::POST, path, token).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let response = tci(&sb, reqwest::Method::GET, APPS_0, token).await;
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    let (status, json) = status_and_body(response).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("oauth_access_token_expired"))
    );
    let (status, json) =
        status_and_body(tci(&sb, reqwest::Method::GET, APPS_0, "bogus").await).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
}

// ---------------------------------------------------------------- IBM

#[tokio::test]
async fn ibm_authorization_code_flow_with_pkce() {
    let sb = demo().await;
    let response = ibm_authorize(&sb, &[]).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii");
    assert!(
        location.starts_with("http://127.0.0.1:8765/callback?code="),
        "{location}"
    );
    assert!(location.ends_with("&state=xyz+1%2F2"), "{location}");
    let code = ibm_code(&sb).await;

    let (status, tokens) = status_and_body(ibm_exchange(&sb, &code, VERIFIER).await).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(
        (tokens["token_type"].as_str(), tokens["expires_in"].as_u64()),
        (Some("Bearer"), Some(7200))
    );
    let access = tokens["access_token"].as_str().expect("access token");
    let (status, user) = status_and_body(ibm_identity(&sb, access).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["subscriberid"], "20000001");
    assert_eq!(user["customerid"], "10000001");
    assert_eq!(user["email"], "dana.sandbox@example.com");
    assert!(user["name"].is_string());

    let (status, reused) = status_and_body(ibm_exchange(&sb, &code, VERIFIER).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reused["error_description"], "oauth_invalid_parameters code");

    let creds = &sb.credentials().ibm;
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let response = client()
        .post(sb.urls().ibm_token_url)
        .basic_auth(&creds.client_id, Some(&creds.client_secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .expect("refresh");
    let (status, refreshed) = status_and_body(response).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_ne!(refreshed["access_token"], tokens["access_token"]);
    let stats = sb.stats();
    assert_eq!(stats.token_requests_for("ibm", "authorization_code"), 2);
    assert_eq!(stats.token_requests_for("ibm", "refresh_token"), 1);
}

#[tokio::test]
async fn ibm_refuses_a_wrong_verifier_and_a_loopback_port_change_is_fine() {
    let sb = demo().await;
    let code = ibm_code(&sb).await;
    let wrong = "x".repeat(43);
    let (status, json) = status_and_body(ibm_exchange(&sb, &code, &wrong).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"], "oauth_invalid_parameters");
    assert_eq!(json["parameters"][0], "code_verifier");

    let other_port = [("redirect_uri", "http://127.0.0.1:40123/callback")];
    let creds = &sb.credentials().ibm;
    let challenge = challenge(VERIFIER);
    let response = client()
        .get(sb.urls().ibm_authorize_url)
        .query(&[
            ("response_type", "code"),
            ("client_id", creds.client_id.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .query(&other_port)
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii");
    assert!(
        location.starts_with("http://127.0.0.1:40123/callback?code="),
        "{location}"
    );
}

/// One request per documented error code, with the status the seed gives it.
#[tokio::test]
async fn ibm_answers_every_documented_error_code() {
    let sb = demo().await;
    let callback = "redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback";
    let pkce = format!(
        "code_challenge={}&code_challenge_method=S256",
        challenge(VERIFIER)
    );
    let cases = [
        (
            format!("response_type=code&{callback}&{pkce}"),
            400,
            "oauth_absent_parameters",
            "oauth_absent_parameters: client_id",
        ),
        (
            format!(
                "response_type=code&client_id=whisk-ibm-client&state=a&state=b&{callback}&{pkce}"
            ),
            400,
            "oauth_duplicated_parameters",
            "oauth_duplicated_parameters: state",
        ),
        (
            format!("response_type=code&client_id=whisk-ibm-client&prompt=none&{callback}&{pkce}"),
            400,
            "oauth_unsupported_parameters",
            "oauth_unsupported_parameters: prompt",
        ),
        (
            format!(
                "response_type=code&client_id=whisk-ibm-client&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&{pkce}"
            ),
            400,
            "oauth_invalid_parameters",
            "oauth_invalid_parameters redirect_uri",
        ),
        (
            format!("response_type=code&client_id=nobody&{callback}&{pkce}"),
            401,
            "Service Component not found",
            "The application associated with the credentials that were passed with the request cannot be found in Connections Cloud.",
        ),
        (
            format!("response_type=code&client_id=whisk-ibm-unsubscribed&{callback}&{pkce}"),
            401,
            "oauth_consumer_missing_subscription",
            "The user is not subscribed to this application.",
        ),
    ];
    for (query, status, error, description) in cases {
        let url = format!("{}?{query}", sb.urls().ibm_authorize_url);
        let (got, json) = status_and_body(client().get(url).send().await.expect("request")).await;
        assert_eq!(got.as_u16(), status, "{query}: {json}");
        assert_eq!(json["error"], error, "{query}");
        assert_eq!(json["error_description"], description, "{query}");
    }

    let (status, json) = status_and_body(ibm_identity(&sb, "ibm-at-bogus").await).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("oauth_invalid_accesstoken"))
    );
    let response = client()
        .get(sb.urls().ibm_user_identity_url)
        .send()
        .await
        .expect("request");
    let (status, json) = status_and_body(response).await;
    assert_eq!(
        (status, json["error_description"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("oauth_absent_parameters: access_token")
        )
    );
    let duplicated = format!(
        "{}?access_token=a&access_token=b",
        sb.urls().ibm_user_identity_url
    );
    let (status, json) =
        status_and_body(client().get(duplicated).send().await.expect("request")).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("oauth_duplicated_parameters"))
    );
}

#[tokio::test]
async fn ibm_expired_token_disabled_oauth_and_failed_flow() {
    let mut data = SandboxData::default();
    data.ibm.access_token_lifetime = Some(1.0);
    data.faults
        .push(Fault::status("/manage/oauth2/token", 500, 1));
    let sb = start(data).await;
    let code = ibm_code(&sb).await;
    let (status, json) = status_and_body(ibm_exchange(&sb, &code, VERIFIER).await).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("oauth_request_failed")
        )
    );
    let (status, tokens) = status_and_body(ibm_exchange(&sb, &code, VERIFIER).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the fault is spent and the code was not: {tokens}"
    );
    let access = tokens["access_token"].as_str().expect("token");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, json) = status_and_body(ibm_identity(&sb, access).await).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("oauth_access_token_expired"))
    );

    let mut data = SandboxData::default();
    data.ibm.oauth_enabled = false;
    let off = start(data).await;
    let (status, json) = status_and_body(ibm_authorize(&off, &[]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json["error_description"],
        "OAuth 2.0 is not supported at this time. Contact your administrator."
    );
}

// ---------------------------------------------------------------- Oracle

#[tokio::test]
async fn oracle_client_credentials_need_basic_auth_and_the_exact_scope() {
    let sb = demo().await;
    let creds = sb.credentials().oracle.clone();
    let token = oracle_token(&sb).await;
    let response = client()
        .get(format!(
            "{}{CONNECTIONS}",
            sb.urls().oracle_design_time_base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    let (status, json) = status_and_body(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["totalResults"], 4);
    assert_eq!(json["items"][0]["id"], "REST_TRIGGER");
    assert!(json["items"][0]["status"].is_string());

    let url = sb.urls().oracle_token_url;
    let wrong_scope = client()
        .post(&url)
        .basic_auth(&creds.client_id, Some(&creds.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "urn:opc:resource:consumer::all"),
        ])
        .send()
        .await
        .expect("request");
    let (status, json) = status_and_body(wrong_scope).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    let in_body = client()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", &creds.scope),
            ("client_id", &creds.client_id),
            ("client_secret", &creds.client_secret),
        ])
        .send()
        .await
        .expect("request");
    let (status, json) = status_and_body(in_body).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
}

#[tokio::test]
async fn oracle_runtime_redirect_works_only_when_authorization_is_forwarded() {
    let sb = demo().await;
    let token = oracle_token(&sb).await;
    let runtime_url = format!("{}{CONNECTIONS}?limit=2", sb.oracle_runtime_url());

    let redirect = client()
        .get(&runtime_url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(redirect.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = redirect.headers()[header::LOCATION]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(location, format!("{}{CONNECTIONS}?limit=2", sb.base_url()));
    assert_ne!(sb.base_url(), sb.oracle_runtime_url());

    let forwarded = client()
        .get(&location)
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    let (status, json) = status_and_body(forwarded).await;
    assert_eq!((status, json["count"].as_u64()), (StatusCode::OK, Some(2)));
    assert_eq!(json["hasMore"], true);

    let following = Client::new();
    let stripped = following
        .get(&runtime_url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(stripped.status(), StatusCode::UNAUTHORIZED);
    let stats = sb.stats();
    assert_eq!(stats.runtime_requests.get(CONNECTIONS), Some(&2));
    assert_eq!(stats.requests_to(CONNECTIONS), 2);
    assert_eq!(stats.last_authorization_for(CONNECTIONS), None);
    let runtime_auth = stats
        .runtime_last_authorization
        .get(CONNECTIONS)
        .cloned()
        .flatten();
    assert_eq!(runtime_auth, Some(format!("Bearer {token}")));
}

// ---------------------------------------------------------------- faults, data, log, stats

#[tokio::test]
async fn faults_answer_the_first_n_requests_then_let_them_through() {
    let data = SandboxData {
        faults: vec![
            Fault::status(CONNECTIONS, 429, 2).with_retry_after(1),
            Fault::status(CONNECTIONS, 503, 1),
            Fault::slow("/oauth2/v1/token", Duration::from_millis(300), 1),
        ],
        ..SandboxData::default()
    };
    let sb = start(data).await;
    let started = Instant::now();
    let token = oracle_token(&sb).await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the slow fault delays"
    );
    let url = format!("{}{CONNECTIONS}", sb.base_url());
    let mut seen = Vec::new();
    for _ in 0..4 {
        let response = client()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap_or("?").to_owned());
        seen.push((response.status().as_u16(), retry_after));
    }
    let one = Some("1".to_owned());
    assert_eq!(
        seen,
        [(429, one.clone()), (429, one), (503, None), (200, None)]
    );
    let stats = sb.stats();
    assert_eq!(stats.faults_served, 4);
    assert_eq!(stats.log.iter().filter(|r| r.fault).count(), 4);
}

#[tokio::test]
async fn resets_hangs_and_revocations_as_a_client_sees_them() {
    let data = SandboxData {
        faults: vec![
            Fault::reset(CONNECTIONS, 1),
            Fault::hang(CONNECTIONS, 1),
            Fault::revoke(CONNECTIONS, 1),
        ],
        ..SandboxData::default()
    };
    let sb = start(data).await;
    let token = oracle_token(&sb).await;
    let url = format!("{}{CONNECTIONS}", sb.base_url());
    let get = || {
        client()
            .get(&url)
            .bearer_auth(&token)
            .timeout(Duration::from_millis(500))
            .send()
    };
    let reset = get().await.expect_err("a reset gives no answer");
    assert!(!reset.is_timeout(), "a reset, not a timeout: {reset:?}");
    let source = format!("{:?}", std::error::Error::source(&reset));
    assert!(
        source.contains("reset") || source.contains("closed"),
        "{source}"
    );
    let started = Instant::now();
    let hang = get().await.expect_err("a hang gives no answer");
    assert!(hang.is_timeout(), "{hang:?}");
    assert!(started.elapsed() >= Duration::from_millis(500));
    let (status, body) = status_and_body(get().await.expect("an answer")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked: {body}");
    assert_eq!(
        body["error_description"],
        "the access token has been revoked"
    );
    let fresh = oracle_token(&sb).await;
    let response = client()
        .get(&url)
        .bearer_auth(&fresh)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK, "a new token works");
    let stats = sb.stats();
    assert_eq!(stats.revocations, 1);
    assert_eq!(stats.requests_to(CONNECTIONS), 4);
    let statuses: Vec<u16> = stats
        .log
        .iter()
        .filter(|r| r.path == CONNECTIONS)
        .map(|r| r.status)
        .collect();
    // No status for the reset; the hang is still held, and logged only when it ends.
    assert_eq!(statuses, [0, 401, 200]);
    // The revoked token was due when the new one was made; the first token was the first.
    assert_eq!(
        whisk::sandbox::Stats::of(&stats.token_expiries, "oracle"),
        1
    );
    assert_eq!(whisk::sandbox::Stats::of(&stats.early_grants, "oracle"), 0);
    assert_eq!(whisk::sandbox::Stats::of(&stats.token_grants, "oracle"), 2);
    // Shutdown does not wait for a hanging request.
    let started = Instant::now();
    let held = tokio::spawn({
        let url = url.clone();
        let fresh = fresh.clone();
        async move { client().get(&url).bearer_auth(&fresh).send().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    sb.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let _ = held.await;
}

#[tokio::test]
async fn a_seeded_schedule_repeats_and_spares_the_token_endpoint() {
    let run = |seed| async move {
        let data = SandboxData {
            fault_schedule: Some(sandbox::FaultSchedule {
                kinds: vec![
                    sandbox::FaultKind::Unavailable,
                    sandbox::FaultKind::RateLimited,
                ],
                ..sandbox::FaultSchedule::new(seed, 0.3)
            }),
            ..SandboxData::default()
        };
        let sb = start(data).await;
        let token = oracle_token(&sb).await;
        let url = format!("{}{CONNECTIONS}", sb.base_url());
        let mut statuses = Vec::new();
        for _ in 0..40 {
            let response = client()
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("request");
            statuses.push(response.status().as_u16());
        }
        statuses
    };
    let first = run(11).await;
    assert_eq!(first, run(11).await, "the same seed, the same schedule");
    assert_ne!(first, run(12).await);
    let faults = first.iter().filter(|s| **s != 200).count();
    assert!(
        (4..=20).contains(&faults),
        "{faults} of 40 at rate 0.3: {first:?}"
    );
    assert!(
        first.iter().all(|s| [200, 429, 503].contains(s)),
        "{first:?}"
    );
}

#[tokio::test]
async fn a_yaml_data_file_overrides_knobs_and_seed_data() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("sandbox.yaml");
    let yaml = r#"
access_token_lifetime: 2
tibco:
  client_id: acme-ci
  client_secret: s3cret
  token_org: "P1"
  organizations:
    - { locator: "P1", name: Parent One, api_access: true, apps: [{ id: "1", name: billing }] }
    - { locator: "C1", name: Child One, parent: "P1" }
oracle:
  connections:
    - { id: ONLY, name: Only One, status: CONFIGURED }
faults:
  - { path: /tci/v1/*, method: GET, status: 503, count: 1 }
"#;
    std::fs::write(&path, yaml).expect("write");
    let data = SandboxConfig::from_data_file(&path).expect("a valid data file");
    let sb = start(data).await;
    let response = client()
        .post(sb.urls().tci_token_url)
        .basic_auth("acme-ci", Some("s3cret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("request");
    let (status, tokens) = status_and_body(response).await;
    assert_eq!(
        (status, tokens["expires_in"].as_u64()),
        (StatusCode::OK, Some(2))
    );
    let token = tokens["access_token"].as_str().expect("token");
    let apps = || tci(&sb, reqwest::Method::GET, APPS_0, token);
    assert_eq!(apps().await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (status, json) = status_and_body(apps().await).await;
    assert_eq!(
        (status, &json[0]["name"]),
        (StatusCode::OK, &Value::from("billing"))
    );
    assert_eq!(sb.credentials().tibco.children, ["C1"]);
    let oracle = oracle_token(&sb).await;
    let url = format!("{}{CONNECTIONS}", sb.base_url());
    let json = body(
        client()
            .get(url)
            .bearer_auth(oracle)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(json["totalResults"], 1);

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "tibco:\n  token_org: nowhere\n").expect("write");
    let error = SandboxConfig::from_data_file(&bad)
        .expect_err("an invalid file")
        .to_string();
    assert!(
        error.contains("tibco.token_org") && error.contains("nowhere"),
        "{error}"
    );
    let json = dir.path().join("data.json");
    std::fs::write(&json, r#"{"ibm": {"require_pkce": false}}"#).expect("write");
    let data = SandboxConfig::from_data_file(&json).expect("a valid JSON file");
    assert!(!data.ibm.require_pkce);
}

#[tokio::test]
async fn the_log_hook_stats_route_banner_and_shutdown() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let config = SandboxConfig::new(SandboxData::default()).with_log(LogSink::channel(tx));
    let sb = sandbox::start(config).await.expect("the sandbox starts");
    let _ = tibco_token(&sb).await;
    let record = rx.recv().await.expect("a log record");
    assert_eq!(
        (record.method.as_str(), record.path.as_str(), record.status),
        ("POST", "/idm/v1/oauth2/token", 200)
    );

    let stats = body(
        client()
            .get(sb.urls().stats_url)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(stats["token_requests"]["tibco/client_credentials"], 1);
    assert_eq!(stats["requests"]["/idm/v1/oauth2/token"], 1);
    assert!(stats["requests"].get("/_sandbox/stats").is_none());

    let banner = sb.banner();
    assert!(banner.contains(&sb.urls().tci_token_url) && banner.contains(&sb.oracle_runtime_url()));
    assert!(banner.contains("whisk-demo-secret"));
    let url = sb.urls().tci_token_url;
    sb.shutdown().await;
    assert!(
        client().post(url).send().await.is_err(),
        "nothing listens after shutdown"
    );
}

#[tokio::test]
async fn a_started_tibco_app_is_starting_for_a_few_polls_then_running() {
    let sb = start(SandboxData::parse(
        "tibco:\n  start_polls: 2\n  organizations:\n    - { locator: \"100\", name: P, api_access: true, apps: [{ id: a1, name: one, state: Stopped }] }\n",
        false,
    )
    .expect("data"))
    .await;
    let token = tibco_token(&sb).await;
    let get = reqwest::Method::GET;
    let app = "/tci/v1/subscriptions/0/apps/a1";
    let (_, before) = status_and_body(tci(&sb, get.clone(), app, &token).await).await;
    assert_eq!(before["state"], "Stopped");
    let started = tci(&sb, reqwest::Method::POST, &format!("{app}/start"), &token).await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let mut states = Vec::new();
    for _ in 0..4 {
        let (_, json) = status_and_body(tci(&sb, get.clone(), app, &token).await).await;
        states.push(json["state"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(states, ["Starting", "Starting", "Running", "Running"]);
    let missing = tci(&sb, get, "/tci/v1/subscriptions/0/apps/nope", &token).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
