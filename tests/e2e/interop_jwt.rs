//! JWT client authentication and the JWT bearer grant (RFC 7523) against oidc-provider
//! (`interop/run.sh`): `private_key_jwt` with an RSA key (RS256, and PS256) and a P-256 key
//! (ES256), `client_secret_jwt` (HS256), and `grant: jwt_bearer` for a user. The server makes
//! the key pairs at start and writes the private keys to `WHISK_INTEROP_KEYS`; it refuses an
//! assertion whose `jti` it has seen, so two token requests in one run prove each is new.

use std::path::Path;

use crate::harness::Output;
use crate::oauth_support::*;

const CSJWT_SECRET: &str = "whisk-csjwt-secret-0123456789abcdef0123";
const BEARER_SECRET: &str = "whisk-bearer-secret-3e9b7d1f5a";

/// The issuer and the key folder, or `None` after saying why not.
fn server(test: &str) -> Option<(String, std::path::PathBuf)> {
    let issuer = std::env::var("WHISK_OIDC_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let keys = std::env::var_os("WHISK_INTEROP_KEYS").filter(|k| !k.is_empty());
    match (issuer, keys) {
        (Some(issuer), Some(keys)) => {
            Some((issuer.trim().trim_end_matches('/').to_string(), keys.into()))
        }
        _ => {
            eprintln!(
                "SKIPPED interop_jwt::{test}: WHISK_OIDC_URL or WHISK_INTEROP_KEYS is not set; `bash interop/run.sh` starts oidc-provider on 127.0.0.1 and runs these tests against it"
            );
            None
        }
    }
}

fn key(keys: &Path, name: &str) -> String {
    std::fs::read_to_string(keys.join(name)).expect("a key the server wrote")
}

/// Two rounds of `/api/whoami` with a profile; the second starts after the first token (4 s)
/// ran out, so the run makes two token requests, each with its own assertion.
fn recipe(profile: &str) -> String {
    format!(
        r#"
version: 1
name: oidc-jwt
inputs:
  issuer: {{ type: string }}
secrets:
  key: {{ env: OIDC_KEY }}
auth:
  jwt:
    oauth2:
{profile}
      token_url: "{{{{ inputs.issuer }}}}/token"
      scope: api:read
      params: {{ resource: "urn:whisk:api" }}
defaults:
  auth: jwt
steps:
  - id: first
    request: {{ url: "{{{{ inputs.issuer }}}}/api/whoami" }}
    capture:
      client: {{ jsonpath: $.client_id, single: true }}
      sub: {{ jsonpath: $.sub, single: true }}
  - id: wait
    request: {{ url: "{{{{ inputs.issuer }}}}/api/whoami" }}
    until: {{ that: "poll.elapsed_ms >= 4500", interval: 1s, timeout: 20s }}
    auth: none
    expect: {{ status: [401] }}
  - id: second
    request: {{ url: "{{{{ inputs.issuer }}}}/api/whoami" }}
    capture:
      again: {{ jsonpath: $.client_id, single: true }}
outputs:
  client: client
  sub: sub
  again: again
"#
    )
}

fn run(space: &Workspace, text: &str, issuer: &str, secrets: &[(&str, &str)]) -> Output {
    let path = space.file("jwt.yaml", text);
    let report = space.report("report.json");
    let args = [
        "run",
        &path.display().to_string(),
        "--input",
        &format!("issuer={issuer}"),
        "--report",
        &report.display().to_string(),
        "-vv",
    ]
    .map(|s| s.to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    finish(whisk(space.path(), &args, secrets), Some(&report))
}

/// What no output may show: the key, and any signed JWT.
fn assert_clean(out: &Output, secrets: &[&str]) {
    assert_no_secrets(&[out], secrets);
    let everything = out.everything();
    assert!(!everything.contains("PRIVATE KEY"), "a key leaked");
    assert!(
        !everything.contains("client_assertion=ey"),
        "an assertion leaked"
    );
    assert!(!everything.contains("assertion=eyJ"), "an assertion leaked");
}

#[test]
fn interop_private_key_jwt_rs256_ps256_and_es256() {
    let Some((issuer, keys)) = server("interop_private_key_jwt_rs256_ps256_and_es256") else {
        return;
    };
    for (alg, file, kid) in [
        ("", "rsa.pem", "whisk-rsa"),
        ("alg: PS256, ", "rsa.pem", "whisk-rsa"),
        ("", "ec.pem", "whisk-ec"),
    ] {
        let pem = key(&keys, file);
        let profile = format!(
            "      grant: client_credentials\n      client_id: whisk-pkjwt\n      client_auth: private_key_jwt\n      client_assertion: {{ {alg}key: \"{{{{ secrets.key }}}}\", kid: {kid} }}"
        );
        let space = Workspace::new();
        let out = run(&space, &recipe(&profile), &issuer, &[("OIDC_KEY", &pem)]);
        assert_eq!(out.code, 0, "{alg}{file}: {}", out.stderr);
        assert_eq!(out.outputs()["client"], "whisk-pkjwt");
        assert_eq!(out.outputs()["again"], "whisk-pkjwt");
        assert_clean(&out, &[pem.trim()]);
    }
}

#[test]
fn interop_client_secret_jwt() {
    let Some((issuer, _)) = server("interop_client_secret_jwt") else {
        return;
    };
    let profile = "      grant: client_credentials\n      client_id: whisk-csjwt\n      client_secret: \"{{ secrets.key }}\"\n      client_auth: client_secret_jwt";
    let space = Workspace::new();
    let out = run(
        &space,
        &recipe(profile),
        &issuer,
        &[("OIDC_KEY", CSJWT_SECRET)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.outputs()["client"], "whisk-csjwt");
    assert_clean(&out, &[CSJWT_SECRET]);
}

#[test]
fn interop_jwt_bearer_grant_for_a_user() {
    let Some((issuer, keys)) = server("interop_jwt_bearer_grant_for_a_user") else {
        return;
    };
    let pem = key(&keys, "rsa.pem");
    let profile = format!(
        "      grant: jwt_bearer\n      client_id: whisk-bearer\n      client_secret: {BEARER_SECRET}\n      assertion:\n        key: \"{{{{ secrets.key }}}}\"\n        kid: whisk-rsa\n        issuer: whisk-bearer-issuer\n        subject: dana"
    );
    let space = Workspace::new();
    let out = run(&space, &recipe(&profile), &issuer, &[("OIDC_KEY", &pem)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.outputs()["client"], "whisk-bearer");
    assert_eq!(out.outputs()["sub"], "dana");
    assert_clean(&out, &[pem.trim(), BEARER_SECRET]);
}

#[test]
fn interop_a_key_the_client_did_not_register_is_refused() {
    let Some((issuer, keys)) = server("interop_a_key_the_client_did_not_register_is_refused")
    else {
        return;
    };
    // The EC key under the RSA key's kid.
    let pem = key(&keys, "ec.pem");
    let profile = "      grant: client_credentials\n      client_id: whisk-pkjwt\n      client_auth: private_key_jwt\n      client_assertion: { key: \"{{ secrets.key }}\", kid: whisk-rsa }";
    let space = Workspace::new();
    let out = run(&space, &recipe(profile), &issuer, &[("OIDC_KEY", &pem)]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("`invalid_client`"), "{}", out.stderr);
    assert_clean(&out, &[pem.trim()]);
}
