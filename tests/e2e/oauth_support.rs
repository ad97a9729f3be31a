//! Helpers for the OAuth2 tests: the sandbox in this process, whisk processes that run in the
//! background or read stdin, the token store on disk, and secret scans.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use whisk::sandbox::{self, Sandbox, SandboxConfig, SandboxData};

use crate::harness::Output;

pub const IBM_RECIPE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/recipes/ibm/get-user-identity.yaml"
);

/// Starts the sandbox on a free port of 127.0.0.1, on the test's runtime.
pub async fn sandbox(data: SandboxData) -> Sandbox {
    sandbox::start(SandboxConfig::new(data).with_port(0))
        .await
        .expect("the sandbox starts")
}

/// Sandbox data whose access tokens live `seconds`.
pub fn lifetime(seconds: u64) -> SandboxData {
    let mut data = SandboxData::default();
    data.set_access_token_lifetime(seconds as f64);
    data
}

/// A `whisk` command in `dir` with a clean environment for OAuth tests.
pub fn whisk(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_whisk"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("WHISK_TOKEN_STORE");
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// Runs a command to its end.
pub fn finish(mut command: Command, report: Option<&Path>) -> Output {
    let output = command.output().expect("run whisk");
    output_of(
        output.status.code().unwrap_or(-1),
        output.stdout,
        output.stderr,
        report,
    )
}

pub fn output_of(code: i32, stdout: Vec<u8>, stderr: Vec<u8>, report: Option<&Path>) -> Output {
    Output {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        report: report.filter(|p| p.exists()).map(|p| {
            serde_json::from_str(&std::fs::read_to_string(p).expect("read report"))
                .expect("report is JSON")
        }),
        dir: tempfile::tempdir().expect("temp dir"),
    }
}

/// Starts a command in the background, its output piped.
pub fn spawn(mut command: Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start whisk")
}

/// Waits for a background command.
pub fn wait(child: Child, report: Option<&Path>) -> Output {
    let output = child.wait_with_output().expect("wait for whisk");
    output_of(
        output.status.code().unwrap_or(-1),
        output.stdout,
        output.stderr,
        report,
    )
}

/// A `whisk auth login` in paste mode: it prints the authorize URL, then reads stdin.
pub struct Login {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Login {
    pub fn start(mut command: Command) -> Login {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start whisk auth login");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Login { child, stdout }
    }

    /// The authorize URL whisk printed.
    pub fn url(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read stdout");
        assert!(
            line.starts_with("http"),
            "whisk printed no authorize URL but `{line}`"
        );
        line.trim().to_string()
    }

    /// Pastes `text` and waits for whisk to finish.
    pub fn paste(mut self, text: &str) -> Output {
        if let Some(mut stdin) = self.child.stdin.take() {
            writeln!(stdin, "{text}").expect("write stdin");
        }
        self.wait()
    }

    pub fn wait(mut self) -> Output {
        drop(self.child.stdin.take());
        let mut stdout = Vec::new();
        self.stdout.read_to_end(&mut stdout).expect("read stdout");
        let output = self.child.wait_with_output().expect("wait for whisk");
        output_of(
            output.status.code().unwrap_or(-1),
            stdout,
            output.stderr,
            None,
        )
    }
}

/// The stored record of `key`, as JSON.
pub fn stored(store: &Path, key: &str) -> serde_json::Value {
    let path = store.join(format!("{key}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no store file {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the store file is JSON")
}

/// The stored refresh token of `key`.
pub fn stored_refresh(store: &Path, key: &str) -> String {
    stored(store, key)["refresh_token"]
        .as_str()
        .expect("a stored refresh token")
        .to_string()
}

/// Waits until `condition` holds, for at most `limit`.
pub async fn until(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Fails when any secret appears in any output.
pub fn assert_no_secrets(outputs: &[&Output], secrets: &[&str]) {
    for output in outputs {
        let everything = output.everything();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(
                !everything.contains(secret),
                "a secret leaked into the output:\n{everything}"
            );
        }
    }
}

/// The secrets a stored record holds (access and refresh token).
pub fn stored_secrets(store: &Path, key: &str) -> Vec<String> {
    let record = stored(store, key);
    ["access_token", "refresh_token"]
        .iter()
        .filter_map(|k| record[*k].as_str().map(str::to_string))
        .collect()
}

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A folder for a test's recipe and token store.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("tokens")
    }

    pub fn store_arg(&self) -> String {
        self.store().display().to_string()
    }

    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    pub fn report(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
