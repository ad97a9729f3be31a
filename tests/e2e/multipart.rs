//! Multipart uploads: streamed from disk to the sandbox's archive endpoint, which reports the
//! size and SHA-256 of every part it read; sent again whole after a 503; recorded as a digest
//! in cassettes and replayed offline; printed as `curl -F` by `--dry-run`.

use sha2::{Digest, Sha256};

use whisk::sandbox::{Fault, Sandbox, SandboxConfig, SandboxData};

use crate::harness::{Output, Whisk};

const RECIPE: &str = "oracle/import-integration.yaml";

async fn sandbox(data: SandboxData) -> Sandbox {
    whisk::sandbox::start(SandboxConfig::new(data).with_port(0))
        .await
        .expect("sandbox")
}

fn oracle(whisk: Whisk, sandbox: &Sandbox) -> Whisk {
    let urls = sandbox.urls();
    let oracle = sandbox.credentials().oracle.clone();
    whisk
        .input("token_url", &urls.oracle_token_url)
        .input(
            "design_time_url",
            &format!("http://{}", sandbox.main_addr()),
        )
        .input("scope", &oracle.scope)
        .env("OIC_CLIENT_ID", &oracle.client_id)
        .env("OIC_CLIENT_SECRET", &oracle.client_secret)
}

fn recipe_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("recipes")
        .join(RECIPE)
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `whisk ARGS` in `dir`, with no secret in the environment.
fn whisk_in(dir: &std::path::Path, args: &[&str]) -> Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_whisk"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("OIC_CLIENT_SECRET")
        .env("WHISK_TOKEN_STORE", dir.join("tokens"))
        .output()
        .expect("whisk");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report: None,
        dir: tempfile::tempdir().expect("dir"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_arrives_whole_and_again_after_a_503() {
    let mut data = SandboxData::default();
    data.faults.push(Fault::status(
        "/ic/api/integration/v1/integrations/archive",
        503,
        1,
    ));
    let sandbox = sandbox(data).await;
    // Bigger than a server's usual 2 MB default, and not a multiple of the 64 KiB pieces.
    let content: Vec<u8> = (0..3_000_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let whisk = Whisk::new();
    let archive = whisk.file("big.iar", "");
    std::fs::write(&archive, &content).unwrap();
    let text = std::fs::read_to_string(recipe_path())
        .unwrap()
        .replace("    capture:\n      status: { jsonpath: $.status, single: true }", "    retry: { attempts: 2, backoff: { initial: 10ms } }\n    capture:\n      status: { jsonpath: $.status, single: true }\n      parts: $.parts[*]");
    let out = oracle(whisk, &sandbox)
        .input("archive", archive.to_str().unwrap())
        .input("replace", "true")
        .run(&(text + "  parts: parts\n"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let parts = &out.outputs()["parts"];
    assert_eq!(parts[0]["name"], "file");
    assert_eq!(parts[0]["filename"], "big.iar");
    assert_eq!(parts[0]["size"], content.len());
    assert_eq!(parts[0]["sha256"], sha256(&content), "byte for byte");
    assert_eq!(parts[1]["name"], "type");
    assert_eq!(parts[1]["sha256"], sha256(b"replace"));
    let stats = sandbox.stats();
    assert_eq!(
        stats.requests_to("/ic/api/integration/v1/integrations/archive"),
        2,
        "the 503, then the whole body again"
    );
    let attempts = &out.report.as_ref().unwrap()["steps"][0]["request"]["attempts"];
    assert_eq!(attempts.as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_as_a_digest_and_replayed_offline() {
    let sandbox = sandbox(SandboxData::default()).await;
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    std::fs::copy(recipe_path(), dir.join("import.yaml")).unwrap();
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("recipes/oracle/examples/HELLO_WORLD_01.00.0000.iar"),
    )
    .unwrap();
    std::fs::write(dir.join("examples/HELLO_WORLD_01.00.0000.iar"), &bytes).unwrap();
    let urls = sandbox.urls();
    let oracle = sandbox.credentials().oracle.clone();
    let recorded = whisk
        .env("OIC_CLIENT_ID", &oracle.client_id)
        .env("OIC_CLIENT_SECRET", &oracle.client_secret)
        .command(&[
            "record",
            "import.yaml",
            "--input",
            &format!("token_url={}", urls.oracle_token_url),
            "--input",
            &format!("design_time_url=http://{}", sandbox.main_addr()),
            "--input",
            &format!("scope={}", oracle.scope),
        ]);
    assert_eq!(recorded.code, 0, "{}", recorded.stderr);
    let cassette = std::fs::read_to_string(dir.join("import.cassette.json")).unwrap();
    assert!(
        cassette.contains(&format!(
            "(application/octet-stream, {} bytes, sha256 {})",
            bytes.len(),
            sha256(&bytes)
        )),
        "{cassette}"
    );
    assert!(
        !cassette.contains("PROJECT-INF"),
        "the file's bytes are not in the cassette"
    );
    sandbox.shutdown().await;
    let replayed = whisk_in(&dir, &["test"]);
    assert_eq!(replayed.code, 0, "{}\n{}", replayed.stdout, replayed.stderr);
    assert!(replayed.stdout.contains("1 passed"), "{}", replayed.stdout);
    // A different file is a different request: the replay does not stand for the recording.
    std::fs::write(dir.join("examples/HELLO_WORLD_01.00.0000.iar"), b"changed").unwrap();
    let changed = whisk_in(&dir, &["test"]);
    assert_eq!(changed.code, 1, "{}", changed.stdout);
    assert!(
        changed.stdout.contains("which the cassette does not hold"),
        "{}",
        changed.stdout
    );
}

#[test]
fn dry_run_prints_curl_form_options() {
    let path = recipe_path();
    let out = Whisk::new().command(&[
        "run",
        path.to_str().unwrap(),
        "--dry-run",
        "--input",
        "token_url=https://idp.example.com/oauth2/v1/token",
        "--input",
        "design_time_url=https://oic.example.com",
        "--input",
        "scope=urn:x",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("-F 'file=@") && out.stdout.contains("HELLO_WORLD_01.00.0000.iar;type=application/octet-stream;filename=HELLO_WORLD_01.00.0000.iar'"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("--form-string type=import"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("multipart/form-data; boundary"),
        "{}",
        out.stdout
    );
}
