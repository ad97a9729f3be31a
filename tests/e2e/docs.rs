//! The documentation runs as written: the README's tour and each shipped recipe's README,
//! top to bottom, twice in a row, against a `whisk sandbox` process started the way the text
//! says. The second pass starts a new sandbox and keeps the first pass's token store, as a
//! person following the text again the next day would.
//!
//! What the test changes in the text, and only that: the ports (8080 and 8081 become free
//! ones), `whisk` is the binary this build made (so `cargo install` is not run), and a
//! person's browser is played by `curl` where a command prints an authorize URL.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The ` ```sh ` blocks under `heading` (up to the next heading of the same or a higher
/// level), with the fence's indentation removed.
fn sh_blocks(markdown: &str, heading: &str) -> Vec<String> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut lines = markdown.lines().skip_while(|l| l.trim_end() != heading);
    assert!(lines.next().is_some(), "no heading `{heading}`");
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for line in lines {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if current.is_none() {
            let hashes = trimmed.chars().take_while(|c| *c == '#').count();
            if indent == 0 && hashes > 0 && hashes <= level && trimmed[hashes..].starts_with(' ') {
                break;
            }
        }
        match &mut current {
            None if trimmed.starts_with("```sh") => current = Some((indent, String::new())),
            Some(_) if trimmed.starts_with("```") => {
                blocks.push(current.take().expect("in a block").1);
            }
            Some((indent, text)) => {
                text.push_str(line.get(*indent..).unwrap_or(line.trim_start()));
                text.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "unclosed block under `{heading}`");
    assert!(!blocks.is_empty(), "no sh blocks under `{heading}`");
    blocks
}

/// Two free ports on 127.0.0.1: the sandbox's and its Oracle runtime host's.
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind");
    let ports = (
        a.local_addr().expect("addr").port(),
        b.local_addr().expect("addr").port(),
    );
    drop((a, b));
    ports
}

struct Ports {
    main: u16,
    runtime: u16,
}

impl Ports {
    fn rewrite(&self, text: &str) -> String {
        text.replace("127.0.0.1:8080", &format!("127.0.0.1:{}", self.main))
            .replace("127.0.0.1:8081", &format!("127.0.0.1:{}", self.runtime))
            .replace("--port 8080", &format!("--port {}", self.main))
    }
}

/// A `whisk sandbox` process, stopped when dropped.
struct SandboxProcess {
    child: Child,
    base: String,
}

impl SandboxProcess {
    fn start(args: &[String], main: u16) -> SandboxProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_whisk"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start whisk sandbox");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", main)).is_err() {
            assert!(Instant::now() < deadline, "the sandbox did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        SandboxProcess {
            child,
            base: format!("http://127.0.0.1:{main}"),
        }
    }

    fn stats(&self) -> Value {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}/_sandbox/stats", self.base)])
            .output()
            .expect("curl");
        serde_json::from_slice(&out.stdout).expect("stats are JSON")
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A person following one document: the same home and token store for every pass.
///
/// The same ports for every pass, too, as the text names fixed ones: the token store keeps
/// tokens per token URL, port included.
struct Reader {
    home: tempfile::TempDir,
    bin: PathBuf,
    ports: Ports,
}

impl Reader {
    fn new() -> Reader {
        let home = tempfile::tempdir().expect("tempdir");
        let bin = home.path().join("bin");
        std::fs::create_dir(&bin).expect("bin");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_whisk"), bin.join("whisk")).expect("link");
        let work = home.path().join("clone");
        std::fs::create_dir(&work).expect("clone");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::os::unix::fs::symlink(repo.join("recipes"), work.join("recipes")).expect("link");
        let (main, runtime) = free_ports();
        let ports = Ports { main, runtime };
        Reader { home, bin, ports }
    }

    /// Runs the blocks once against a new sandbox: `whisk sandbox` lines start it, the other
    /// lines run in one shell, in order, and must all succeed. Returns the output and the
    /// sandbox's counters.
    ///
    /// What the commands printed (not the script, which holds the demo secrets).
    fn follow(&self, blocks: &[String]) -> (String, Value) {
        let ports = &self.ports;
        let (main, runtime) = (ports.main, ports.runtime);
        let mut script = String::from("set -euo pipefail\n");
        let mut sandbox = None;
        for line in blocks.concat().lines() {
            let line = ports.rewrite(line);
            if line.starts_with("cargo install ") {
                continue;
            }
            if let Some(args) = line.strip_prefix("whisk sandbox") {
                let mut args: Vec<String> = std::iter::once("sandbox".to_owned())
                    .chain(
                        args.split(" #")
                            .next()
                            .unwrap_or_default()
                            .trim_end()
                            .trim_end_matches('&')
                            .split_whitespace()
                            .map(String::from),
                    )
                    .collect();
                if !args.iter().any(|a| a == "--runtime-port") {
                    args.extend(["--runtime-port".to_owned(), runtime.to_string()]);
                }
                sandbox = Some(SandboxProcess::start(&args, main));
                continue;
            }
            script.push_str(&line);
            script.push('\n');
        }
        let sandbox = sandbox.expect("the text starts a sandbox");
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut child = Command::new("bash")
            .args(["-c", &script])
            .current_dir(self.home.path().join("clone"))
            .env("PATH", path)
            .env("HOME", self.home.path())
            .env("XDG_STATE_HOME", self.home.path().join("state"))
            .env("NO_COLOR", "1")
            .env_remove("WHISK_TOKEN_STORE")
            .env_remove("GITHUB_STEP_SUMMARY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("bash");
        let stdout = child.stdout.take().expect("stdout");
        let out = std::thread::spawn(move || browse(stdout));
        let err = browse(child.stderr.take().expect("stderr"));
        let status = child.wait().expect("wait");
        let out = out.join().expect("stdout thread");
        let printed = format!("--- stdout\n{out}\n--- stderr\n{err}");
        assert!(
            status.success(),
            "the text failed as written:\n{script}\n{printed}"
        );
        (printed, sandbox.stats())
    }
}

/// Reads a command's output, and plays the person's browser: opens each authorize URL the
/// command prints and follows its redirect to whisk's loopback listener.
fn browse(stream: impl std::io::Read) -> String {
    let mut text = String::new();
    for line in BufReader::new(stream).lines() {
        let line = line.expect("read");
        if let Some(at) = line.find("http://127.0.0.1:")
            && line[at..].contains("/authorize?")
        {
            let url = line[at..]
                .split_whitespace()
                .next()
                .expect("url")
                .to_owned();
            std::thread::spawn(move || {
                Command::new("curl")
                    .args(["-sL", "-o", "/dev/null", &url])
                    .status()
                    .expect("curl")
            });
        }
        text.push_str(&line);
        text.push('\n');
    }
    text
}

impl Reader {
    /// Follows the text twice and checks each pass by what the sandbox counted.
    fn twice(&self, doc: &str, heading: &str, check: impl Fn(&Value)) {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc))
            .expect("read doc");
        let blocks = sh_blocks(&text, heading);
        for pass in 1..=2 {
            let (output, stats) = self.follow(&blocks);
            for secret in SECRETS {
                assert!(
                    !output.contains(secret),
                    "{doc} pass {pass} printed a secret:\n{output}"
                );
            }
            check(&stats);
        }
    }
}

const SECRETS: &[&str] = &[
    "whisk-demo-secret",
    "whisk-demo-refresh-token",
    "whisk-ibm-secret",
    "whisk-oracle-secret",
];

fn count(stats: &Value, counter: &str, key: &str) -> u64 {
    stats[counter][key].as_u64().unwrap_or(0)
}

fn total(stats: &Value, counter: &str) -> u64 {
    stats[counter]
        .as_object()
        .map_or(0, |c| c.values().filter_map(Value::as_u64).sum())
}

fn no_token_errors(stats: &Value) {
    let errors = &stats["token_errors"];
    assert!(
        errors.as_object().is_none_or(|e| e.is_empty()),
        "the token endpoint refused a request: {errors}"
    );
}

#[test]
fn the_readme_tour_runs_as_written_twice() {
    Reader::new().twice("README.md", "## A five-minute tour", |stats| {
        no_token_errors(stats);
        assert_eq!(total(stats, "enables"), 4, "{stats}");
        assert_eq!(count(stats, "token_grants", "tibco"), 1, "{stats}");
        assert_eq!(
            count(stats, "requests", "/tci/v1/subscriptions/0/apps"),
            4,
            "the onboarding recipe and list-apps each read both pages of apps: {stats}"
        );
    });
}

#[test]
fn the_readme_recipe_is_the_shipped_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let start = readme.find("   ```yaml\n").expect("a yaml block") + "   ```yaml\n".len();
    let end = start + readme[start..].find("   ```\n").expect("its end");
    let shown: String = readme[start..end]
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("   ").unwrap_or(l)))
        .collect();
    let file = std::fs::read_to_string(root.join("recipes/tibco/list-apps.yaml")).expect("file");
    assert_eq!(
        shown, file,
        "the README shows recipes/tibco/list-apps.yaml as it is"
    );
}

#[test]
fn the_tibco_readme_runs_as_written_twice() {
    Reader::new().twice(
        "recipes/tibco/README.md",
        "# TIBCO Cloud Integration",
        |stats| {
            no_token_errors(stats);
            assert_eq!(total(stats, "enables"), 4, "{stats}");
            assert_eq!(count(stats, "token_grants", "tibco"), 1, "{stats}");
        },
    );
}

#[test]
fn the_oracle_readme_runs_as_written_twice() {
    Reader::new().twice(
        "recipes/oracle/README.md",
        "# Oracle Integration",
        |stats| {
            no_token_errors(stats);
            // Two pages each for the secret and the private_key_jwt listing.
            assert_eq!(
                total(stats, "runtime_requests"),
                4,
                "two pages twice: {stats}"
            );
            assert_eq!(
                count(stats, "token_requests", "oracle/client_credentials"),
                3,
                "{stats}"
            );
        },
    );
}

#[test]
fn the_ibm_readme_runs_against_the_sandbox_twice() {
    Reader::new().twice("recipes/ibm/README.md", "## Against the sandbox", |stats| {
        no_token_errors(stats);
        assert_eq!(count(stats, "requests", "/manage/oauth/getUserIdentity"), 1);
    });
}

/// `--runtime-port` acts: the Oracle recipe reaches the runtime host on the port given,
/// which is not the next one.
#[test]
fn the_sandbox_listens_on_the_runtime_port_given() {
    let (main, runtime) = free_ports();
    let store = tempfile::tempdir().expect("dir");
    let sandbox = SandboxProcess::start(
        &[
            "sandbox".into(),
            "--port".into(),
            main.to_string(),
            "--runtime-port".into(),
            runtime.to_string(),
        ],
        main,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_whisk"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "recipes/oracle/list-connections.yaml"])
        .args(["--input", &format!("token_url=http://127.0.0.1:{main}/oauth2/v1/token")])
        .args(["--input", &format!("runtime_url=http://127.0.0.1:{runtime}")])
        .args(["--input", &format!("design_time_host=127.0.0.1:{main}")])
        .args([
            "--input",
            "scope=https://whisk-sandbox.integration.ocp.oraclecloud.com:443urn:opc:resource:consumer::all",
        ])
        .env("OIC_CLIENT_ID", "whisk-oracle-client")
        .env("OIC_CLIENT_SECRET", "whisk-oracle-secret")
        .env("WHISK_TOKEN_STORE", store.path())
        .output()
        .expect("whisk");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = sandbox.stats();
    assert_eq!(total(&stats, "runtime_requests"), 2, "two pages: {stats}");
}

/// Every relative link in the repository's Markdown points at a file that exists.
#[test]
fn relative_links_in_the_docs_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let link = regex::Regex::new(r"\]\(([^)#\s]+)(#[^)]*)?\)").expect("regex");
    let mut files = vec![root.join("README.md")];
    for folder in ["docs", "recipes", "bench", "deploy", "interop"] {
        let mut stack = vec![root.join(folder)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.file_name().is_some_and(|n| n == "node_modules") {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "md") {
                    files.push(path);
                }
            }
        }
    }
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        for found in link.captures_iter(&text) {
            let target = &found[1];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = file.parent().expect("folder").join(target);
            if !resolved.exists() {
                broken.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(files.len() > 5, "{files:?}");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
