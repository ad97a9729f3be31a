//! Mutual TLS: a server on 127.0.0.1 that requires a client certificate from a test CA (made
//! with openssl) answers which certificate came. `defaults.client_cert` is presented by every
//! request of a recipe, an auth profile's `client_cert` by its requests and its token
//! requests (RFC 8705 `tls_client_auth`: the token endpoint knows the client by its
//! certificate); over whisk's own client and over reqwest (the proxy path). No certificate,
//! one from another CA, and a key that is not the certificate's are refused, and no key shows.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Output, Whisk};
use crate::tls_support::{SERVER, ca};

const CLIENT: &str =
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n";

/// The certificates of a test: a CA with the server and clients `alice` and `bob`, and
/// another CA with `mallory`.
fn certificates(dir: &Path) {
    ca(
        dir,
        "test",
        &[("server", SERVER), ("alice", CLIENT), ("bob", CLIENT)],
    );
    ca(dir, "other", &[("mallory", CLIENT)]);
}

/// The server: HTTPS on 127.0.0.1, a client certificate of the test CA required. Every
/// answer names the certificate's common name; `/token` gives a token to bob alone.
async fn server(dir: &Path) -> u16 {
    let file = |name: &str| dir.join(name);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file("server.pem"))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(file("server.key")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(file("test-ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let names: Vec<(Vec<u8>, &'static str)> = ["alice", "bob"]
        .iter()
        .map(|name| {
            let der = CertificateDer::from_pem_file(file(&format!("{name}.pem"))).unwrap();
            (der.as_ref().to_vec(), *name)
        })
        .collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let names = names.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let who = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|certs| certs.first())
                    .and_then(|cert| names.iter().find(|(der, _)| der == cert.as_ref()))
                    .map_or("nobody", |(_, name)| *name);
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let token = String::from_utf8_lossy(&request).starts_with("POST /token");
                let body = if !token {
                    format!("{{\"client\":\"{who}\"}}")
                } else if who == "bob" {
                    "{\"access_token\":\"bob-token\",\"token_type\":\"Bearer\",\"expires_in\":3600}"
                        .into()
                } else {
                    "{\"error\":\"invalid_client\"}".into()
                };
                let status = if token && who != "bob" {
                    "401 Unauthorized"
                } else {
                    "200 OK"
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

const RECIPE: &str = r#"
version: 1
name: mtls
inputs:
  base: { type: string }
secrets:
  cert: { file: alice.pem }
  key: { file: KEY }
  bob_cert: { file: bob.pem }
  bob_key: { file: bob.key }
auth:
  bob:
    oauth2:
      grant: client_credentials
      token_url: "{{ inputs.base }}/token"
      client_id: bob
      client_auth: body
    client_cert: { cert: "{{ secrets.bob_cert }}", key: "{{ secrets.bob_key }}" }
defaults:
  client_cert: { cert: "{{ secrets.cert }}", key: "{{ secrets.key }}" }
steps:
  - id: as_recipe
    request: { url: "{{ inputs.base }}/whoami" }
    capture: { first: { jsonpath: $.client, single: true } }
  - id: as_profile
    auth: bob
    request: { url: "{{ inputs.base }}/whoami" }
    capture: { second: { jsonpath: $.client, single: true } }
outputs:
  first: first
  second: second
"#;

fn run(dir: &Path, port: u16, key: &str, reqwest: bool) -> Output {
    run_recipe(dir, port, &RECIPE.replace("KEY", key), reqwest)
}

/// `recipe` against the server on `port`, with every client's certificate and key beside it.
fn run_recipe(dir: &Path, port: u16, recipe: &str, reqwest: bool) -> Output {
    let mut whisk = Whisk::new();
    for name in [
        "alice.pem",
        "alice.key",
        "bob.pem",
        "bob.key",
        "mallory.pem",
        "mallory.key",
    ] {
        whisk.file(name, &std::fs::read_to_string(dir.join(name)).unwrap());
    }
    whisk = whisk
        .input("base", &format!("https://127.0.0.1:{port}"))
        .arg("--ca-cert")
        .arg(dir.join("test-ca.pem").display().to_string())
        .arg("-vv");
    if reqwest {
        // A proxy in the environment puts the run on reqwest; 127.0.0.1 bypasses it.
        whisk = whisk
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("NO_PROXY", "127.0.0.1");
    }
    whisk.run(recipe)
}

fn keys(dir: &Path) -> Vec<String> {
    ["alice.key", "bob.key", "mallory.key"]
        .iter()
        .map(|k| {
            let text = std::fs::read_to_string(dir.join(k)).unwrap();
            text.lines().nth(1).unwrap().to_string()
        })
        .collect()
}

fn assert_no_keys(out: &Output, dir: &Path) {
    for key in keys(dir) {
        assert!(!out.everything().contains(&key), "a private key leaked");
    }
    assert!(!out.everything().contains("bob-token"), "the token leaked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recipe_and_the_profile_present_their_certificates() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let port = server(dir.path()).await;
    for reqwest in [false, true] {
        let out = run(dir.path(), port, "alice.key", reqwest);
        assert_eq!(out.code, 0, "reqwest {reqwest}: {}", out.stderr);
        assert_eq!(
            out.outputs(),
            serde_json::json!({"first": "alice", "second": "bob"}),
            "reqwest {reqwest}"
        );
        assert_no_keys(&out, dir.path());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_the_server_does_not_take_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let port = server(dir.path()).await;
    // Alice's certificate with Mallory's key: refused before anything is sent.
    let mismatched = run(dir.path(), port, "mallory.key", false);
    assert_eq!(mismatched.code, 3, "{}", mismatched.stderr);
    assert!(
        mismatched
            .stderr
            .contains("`key` is not the private key of the certificate in `cert`"),
        "{}",
        mismatched.stderr
    );
    assert_no_keys(&mismatched, dir.path());
    // Mallory's own pair, from another CA: the server refuses the handshake.
    let foreign = RECIPE
        .replace("{ file: alice.pem }", "{ file: mallory.pem }")
        .replace("KEY", "mallory.key");
    let out = run_recipe(dir.path(), port, &foreign, false);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the server refused the TLS client certificate"),
        "{}",
        out.stderr
    );
    assert_no_keys(&out, dir.path());
    // No certificate at all.
    let none = RECIPE
        .replace("defaults:\n  client_cert: { cert: \"{{ secrets.cert }}\", key: \"{{ secrets.key }}\" }\n", "")
        .replace("KEY", "alice.key");
    let out = run_recipe(dir.path(), port, &none, false);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the server asks for a TLS client certificate"),
        "{}",
        out.stderr
    );
}
