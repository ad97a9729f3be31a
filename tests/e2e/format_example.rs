//! The big example of RECIPE-FORMAT.md, run as written against a stand-in for the TIBCO API.

use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{Whisk, report_settings};

const CLIENT_ID: &str = "tci-client-7f3a";
const CLIENT_SECRET: &str = "s3cr3t-Client-Value";
const REFRESH_TOKEN: &str = "rt-initial-0b9e1c";
const ACCESS_TOKEN: &str = "at-live-91c2d7e4";

async fn tibco() -> MockServer {
    let server = MockServer::start().await;
    let basic = format!(
        "Basic {}",
        base64_encode(&format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    Mock::given(method("POST"))
        .and(path("/idm/v1/oauth2/token"))
        .and(header("authorization", basic.as_str()))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains(REFRESH_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": ACCESS_TOKEN, "expires_in": 28800, "refresh_token": "rt-rotated-2",
            "refresh_token_expires_in": 604800, "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let bearer = format!("Bearer {ACCESS_TOKEN}");
    Mock::given(method("POST"))
        .and(path("/tci/v1/subscriptions/0/apiservice/access"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    for child in ["101", "102", "103", "104", "105"] {
        Mock::given(method("POST"))
            .and(path(format!(
                "/tci/v1/subscriptions/{child}/apiservice/access"
            )))
            .and(header("authorization", bearer.as_str()))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"enabled": true})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/tci/v1/subscriptions/0/apps"))
        .and(header("authorization", bearer.as_str()))
        .and(header("accept", "application/json"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ETag", "\"apps-v7\"")
                .set_body_json(serde_json::json!([{"id": "app-1", "name": "orders"}, {"id": "app-2", "name": "billing"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    server
}

pub fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn the_format_example_runs_as_written() {
    let server = tibco().await;
    let recipe = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/e2e/fixtures/format-example.yaml"
    ))
    .unwrap();
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let store = tempfile::tempdir().unwrap();
    let out = whisk
        .env("WHISK_TOKEN_STORE", &store.path().display().to_string())
        .input("base_url", &format!("{}/tci", server.uri()))
        .input(
            "token_url",
            &format!("{}/idm/v1/oauth2/token", server.uri()),
        )
        .input("child_locators", r#"["101","102","103","104","105"]"#)
        .env("TCI_REGION", "eu-west")
        .env("TCI_CLIENT_ID", CLIENT_ID)
        .env("TCI_CLIENT_SECRET", CLIENT_SECRET)
        .env("TCI_REFRESH_TOKEN", REFRESH_TOKEN)
        .run(&recipe);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(
        out.outputs(),
        serde_json::json!({"apps": ["orders", "billing"], "enabled": 5})
    );
    for secret in [
        CLIENT_SECRET,
        REFRESH_TOKEN,
        ACCESS_TOKEN,
        "rt-rotated-2",
        &base64_encode(&format!("{CLIENT_ID}:{CLIENT_SECRET}")),
    ] {
        assert!(!out.everything().contains(secret), "secret {secret} leaked");
    }
    let report = out.report.unwrap();
    report_settings(&dir).bind(|| insta::assert_json_snapshot!("format_example_report", report));
    let stored: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(store.path().join("tci-parent.json"))
            .expect("`store: tci-parent`"),
    )
    .unwrap();
    assert_eq!(
        stored["refresh_token"], "rt-rotated-2",
        "the rotated refresh token is kept"
    );
}
