//! OAuth2 profiles that cannot work are refused before anything is sent (exit 2), with every
//! problem at once; the shipped IBM recipe validates.

use crate::harness::{Whisk, scrub};
use crate::oauth_support::IBM_RECIPE;

#[test]
fn oauth2_profiles_that_cannot_work_are_refused_before_anything_is_sent() {
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let out = whisk.run(
        r#"
version: 1
name: bad-auth
auth:
  code:
    oauth2:
      grant: authorization_code
      token_url: https://idp.example/token
      client_id: app
  keyed:
    oauth2:
      grant: client_credentials
      token_url: https://idp.example/token
      client_id: app
      store: ../elsewhere
      redirect_uri: http://127.0.0.1:8765/callback
  cleartext:
    oauth2:
      grant: authorization_code
      authorization_url: http://idp.example/authorize
      redirect_uri: http://127.0.0.1:8765/callback
      token_url: http://idp.example/token
      client_id: app
      store: ok-key
steps:
  - id: one
    auth: code
    request: { url: "https://api.example/one" }
"#,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    let text = format!("exit code: {}\n{}", out.code, scrub(&out.stderr, &dir));
    insta::assert_snapshot!("oauth2_profiles_that_cannot_work", text);
}

#[test]
fn the_shipped_ibm_recipe_validates() {
    let out = Whisk::new().command(&["validate", IBM_RECIPE]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}
