//! Resilience against a fault-injecting server on 127.0.0.1: retries, timeouts, resets, body
//! caps, limits, interruption and resume, and the run lock. Assertions count what the server saw.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::post;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::Whisk;

/// A server that counts requests per path and the most requests it had in flight at once.
#[derive(Clone, Default)]
struct Counter {
    hits: Arc<Mutex<HashMap<String, usize>>>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Counter {
    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    fn all(&self) -> HashMap<String, usize> {
        self.hits.lock().unwrap().clone()
    }
}

async fn item(
    State(counter): State<Counter>,
    Path(id): Path<String>,
) -> axum::Json<serde_json::Value> {
    let now = counter.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    counter.peak.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(25)).await;
    *counter
        .hits
        .lock()
        .unwrap()
        .entry(format!("/items/{id}"))
        .or_default() += 1;
    counter.in_flight.fetch_sub(1, Ordering::SeqCst);
    axum::Json(serde_json::json!({"id": id}))
}

async fn counting_server() -> (String, Counter) {
    let counter = Counter::default();
    let app = axum::Router::new()
        .route("/items/{id}", post(item).get(item))
        .with_state(counter.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}"), counter)
}

/// A raw TCP server: `reset` answers half a body then closes; `hang` never answers.
async fn raw_server(reset: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                if reset {
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"partial\":")
                        .await;
                    let _ = socket.shutdown().await;
                } else {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
        }
    });
    (addr, connections)
}

fn recipe(steps: &str) -> String {
    format!("version: 1\nname: resilience\ninputs:\n  base: {{ type: string }}\nsteps:\n{steps}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_as_an_http_date() {
    let server = MockServer::start().await;
    let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
    Mock::given(method("GET"))
        .and(path("/busy"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", soon.as_str()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/busy"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).run(&recipe(
        "  - id: busy\n    request: { url: \"{{ inputs.base }}/busy\" }\n    retry: { attempts: 3, backoff: { initial: 10ms, max: 5s } }\n",
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let attempts = &out.report.unwrap()["steps"][0]["request"]["attempts"];
    assert_eq!(attempts[0]["status"], 503);
    assert!(
        attempts[0]["wait_ms"].as_u64().unwrap() <= 1000,
        "the date is at most a second away"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_the_configured_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/down"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).run(&recipe(
        "  - id: down\n    request: { method: POST, url: \"{{ inputs.base }}/down\" }\n    retry: { attempts: 3, backoff: { initial: 1ms, max: 5ms } }\n",
    ));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("got 503"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_body_is_retried_for_get_but_not_for_a_plain_post() {
    let (addr, connections) = raw_server(true).await;
    let base = format!("http://{addr}");
    let steps = |method: &str, idempotent: bool| {
        format!(
            "  - id: read\n    request: {{ method: {method}, url: \"{{{{ inputs.base }}}}/x\" }}\n    idempotent: {idempotent}\n    retry: {{ attempts: 3, backoff: {{ initial: 1ms, max: 5ms }} }}\n"
        )
    };
    let out = Whisk::new()
        .input("base", &base)
        .run(&recipe(&steps("GET", false)));
    assert_eq!(out.code, 1);
    assert_eq!(
        connections.swap(0, Ordering::SeqCst),
        3,
        "GET is retried after a broken body"
    );
    assert!(out.stderr.contains("connection broke"), "{}", out.stderr);
    let out = Whisk::new()
        .input("base", &base)
        .run(&recipe(&steps("POST", false)));
    assert_eq!(out.code, 1);
    assert_eq!(
        connections.swap(0, Ordering::SeqCst),
        1,
        "a POST is never resent after a network error"
    );
    let out = Whisk::new()
        .input("base", &base)
        .run(&recipe(&steps("POST", true)));
    assert_eq!(out.code, 1);
    assert_eq!(
        connections.swap(0, Ordering::SeqCst),
        3,
        "unless the step says it is idempotent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out_naming_step_and_url() {
    let (addr, connections) = raw_server(false).await;
    let out = Whisk::new().input("base", &format!("http://{addr}")).run(&recipe(
        "  - id: stuck\n    timeout: 200ms\n    request: { url: \"{{ inputs.base }}/never\" }\n    retry: { attempts: 2, backoff: { initial: 1ms, max: 5ms } }\n",
    ));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("step `stuck`: no answer from GET http://127.0.0.1"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("/never within 200ms"), "{}", out.stderr);
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_cap_fail_clearly() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(10_000)))
        .mount(&server)
        .await;
    let out = Whisk::new().input("base", &server.uri()).run(&recipe(
        "  - id: big\n    max_body: 1KiB\n    request: { url: \"{{ inputs.base }}/big\" }\n",
    ));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("is larger than 1 KiB"),
        "{}",
        out.stderr
    );
    let out = Whisk::new()
        .input("base", &server.uri())
        .arg("--max-body")
        .arg("2KiB")
        .run(&recipe(
            "  - id: big\n    request: { url: \"{{ inputs.base }}/big\" }\n",
        ));
    assert!(
        out.stderr.contains("is larger than 2 KiB"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_caps_requests_in_flight_across_the_run() {
    let (base, counter) = counting_server().await;
    let out = Whisk::new().input("base", &base).arg("--max-concurrency").arg("3").run(&recipe(
        "  - id: fan\n    for_each: \"{{ range(20) | list }}\"\n    concurrency: 16\n    request: { url: \"{{ inputs.base }}/items/{{ item }}\" }\n",
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(counter.all().len(), 20);
    assert!(
        counter.peak.load(Ordering::SeqCst) <= 3,
        "peak {}",
        counter.peak.load(Ordering::SeqCst)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_spaces_requests_to_a_host() {
    let (base, counter) = counting_server().await;
    let started = std::time::Instant::now();
    let out = Whisk::new().input("base", &base).run(&recipe(
        "  - id: fan\n    for_each: \"{{ range(6) | list }}\"\n    concurrency: 6\n    rate_limit: 20/s\n    request: { url: \"{{ inputs.base }}/items/{{ item }}\" }\n",
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(counter.all().len(), 6);
    // Six requests at 20/s take at least five intervals of 50ms: a lower bound the limiter
    // guarantees, not a speed target.
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_then_resume_sends_each_item_once() {
    let (base, counter) = counting_server().await;
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let recipe_text = recipe(
        "  - id: enable\n    for_each: \"{{ range(200) | list }}\"\n    concurrency: 4\n    request: { method: POST, url: \"{{ inputs.base }}/items/{{ item }}\" }\n    capture:\n      id: { jsonpath: $.id, single: true }\n",
    ) + "outputs:\n  count: id | length\n";
    let path = whisk.file("recipe.yaml", &recipe_text);
    let report = dir.join("first.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_whisk"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--input",
            &format!("base={base}"),
            "--report",
            report.to_str().unwrap(),
        ])
        // The loop's items shared between threads: the signal stops them all.
        .env("WHISK_THREADS", "2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is well under way, then ask it to stop.
    while counter.all().len() < 40 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(first["status"], "interrupted");
    let done = first["steps"][0]["succeeded"].as_u64().unwrap() as usize;
    assert!(done > 0 && done < 200, "{done}");
    assert_eq!(
        counter.all().len(),
        done,
        "requests in flight at the signal finished and were recorded"
    );

    // The terminal said what happened and how to go on: the command again, with `--resume`.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("interrupted: starting no new requests"),
        "{stderr}"
    );
    let hint = stderr
        .lines()
        .skip_while(|l| !l.starts_with("to pick up where it stopped"))
        .nth(1)
        .unwrap_or_else(|| panic!("no resume command:\n{stderr}"))
        .trim()
        .to_owned();
    assert!(
        hint.starts_with("whisk run ") && hint.ends_with(&format!("--resume {}", report.display())),
        "{hint}"
    );
    // Run it as printed, with `whisk` on the PATH.
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_whisk"), bin.join("whisk")).unwrap();
    let resumed = std::process::Command::new("bash")
        .args(["-c", &hint])
        .current_dir(&dir)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("NO_COLOR", "1")
        .env("WHISK_TOKEN_STORE", dir.join("tokens"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert_eq!(resumed.status.code(), Some(0), "{stderr}");
    let outputs: serde_json::Value = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(outputs["count"], 200);
    assert!(
        stderr.contains(&format!(
            "carried over from the earlier report: {done} items"
        )),
        "{stderr}"
    );
    let second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(second["resumed_from"], report.display().to_string());
    let carried = second["steps"][0]["iterations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["carried_over"] == true)
        .count();
    assert_eq!(carried, done);
    let hits = counter.all();
    assert_eq!(hits.len(), 200);
    assert!(
        hits.values().all(|n| *n == 1),
        "every item was sent exactly once across both runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_refuses_a_second_run() {
    let (base, counter) = counting_server().await;
    let whisk = Whisk::new();
    let lock = whisk.dir.path().join("run.lock");
    let path = whisk.file("slow.yaml", &recipe(
        "  - id: slow\n    for_each: \"{{ range(40) | list }}\"\n    request: { url: \"{{ inputs.base }}/items/{{ item }}\" }\n",
    ));
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_whisk"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--input",
            &format!("base={base}"),
            "--lock",
            lock.to_str().unwrap(),
            "-q",
        ])
        .spawn()
        .unwrap();
    while counter.all().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let out = whisk
        .input("base", &base)
        .arg("--lock")
        .arg(lock.display().to_string())
        .run_file(&path);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("another run holds the lock"),
        "{}",
        out.stderr
    );
    assert!(first.wait().unwrap().success());
    assert_eq!(counter.hits("/items/0"), 1, "the refused run sent nothing");
}

/// A TLS server on 127.0.0.1 (its certificate made with openssl by a test CA) that redirects
/// every request to `location`. Returns its port and the CA certificate's path.
async fn https_redirector(dir: &std::path::Path, location: String) -> (u16, std::path::PathBuf) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    // A test CA, and a server certificate for IP 127.0.0.1 signed by it.
    crate::tls_support::ca(dir, "test", &[("server", crate::tls_support::SERVER)]);
    let ca = dir.join("test-ca.pem");
    let cert = dir.join("server.pem");
    let key = dir.join("server.key");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(&key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let location = location.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut buffer = [0u8; 4096];
                let _ = tls.read(&mut buffer).await;
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, ca)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_http_redirects_are_refused_unless_allowed() {
    let plain = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/target"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&plain)
        .await;
    let whisk = Whisk::new();
    let (port, cert) = https_redirector(whisk.dir.path(), format!("{}/target", plain.uri())).await;
    let base = format!("https://127.0.0.1:{port}");
    let step = |allow: bool| {
        recipe(&format!(
            "  - id: hop\n    request: {{ url: \"{{{{ inputs.base }}}}/start\" }}\n    redirects: {{ allow_insecure: {allow} }}\n"
        ))
    };
    let out = whisk
        .input("base", &base)
        .arg("--ca-cert")
        .arg(cert.display().to_string())
        .run(&step(false));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("redirects from HTTPS to plain HTTP"),
        "{}",
        out.stderr
    );
    assert!(
        plain.received_requests().await.unwrap().is_empty(),
        "nothing went over plain HTTP"
    );
    let out = Whisk::new()
        .input("base", &base)
        .arg("--ca-cert")
        .arg(cert.display().to_string())
        .run(&step(true));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(plain.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_drops_between_requests_are_replaced() {
    // Each connection answers one request as if it stayed open, and the server closes it right
    // after: a client that pooled it must notice and send the next request on a new
    // connection, once.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buffer[..n]).to_string();
                if let Some(line) = head.lines().next() {
                    log.lock().unwrap().push(line.to_string());
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
                    .await;
                let _ = socket.shutdown().await;
            });
        }
    });
    let out = Whisk::new()
        .input("base", &format!("http://{addr}"))
        .run(&recipe(
            // Spaced out, so that each close arrives while the connection is idle, as a server's
            // idle timeout would close it.
            "  - id: each\n    for_each: \"{{ range(12) | list }}\"\n    rate_limit: 50/s\n    request: { method: POST, url: \"{{ inputs.base }}/items/{{ item }}\" }\n",
        ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut lines = seen.lock().unwrap().clone();
    lines.sort();
    let mut expected: Vec<String> = (0..12)
        .map(|i| format!("POST /items/{i} HTTP/1.1"))
        .collect();
    expected.sort();
    assert_eq!(lines, expected, "each item sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_on_several_threads_reuses_its_connections() {
    // A keep-alive server that counts what it accepted: each loop thread keeps its idle
    // connections to itself, and every one of them is reused rather than replaced.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (opened, answered) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            opened.fetch_add(1, Ordering::SeqCst);
            let answered = answered.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                loop {
                    let Ok(n) = socket.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buffer[..n]);
                    // Bodiless requests: each ends with its blank line.
                    while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        head.drain(..end + 4);
                        answered.fetch_add(1, Ordering::SeqCst);
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                        if socket.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    let out = Whisk::new()
        .input("base", &format!("http://{addr}"))
        .arg("--threads")
        .arg("2")
        .run(&recipe(
            "  - id: each\n    for_each: range(300)\n    concurrency: 6\n    request: { method: POST, url: \"{{ inputs.base }}/items/{{ item }}\" }\n",
        ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(requests.load(Ordering::SeqCst), 300, "each item sent once");
    let opened = connections.load(Ordering::SeqCst);
    assert!(
        (2..=6).contains(&opened),
        "{opened} connections for 300 requests, 6 at a time on 2 threads"
    );
}
