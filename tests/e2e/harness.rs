//! A builder for end-to-end runs: write a recipe into a temporary folder, run the `whisk`
//! binary, and look at its exit code, stdout, stderr and report.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Whisk {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub report: Option<serde_json::Value>,
    /// The run's folder, kept until the output is dropped, to read the files it wrote.
    pub dir: tempfile::TempDir,
}

impl Output {
    /// Everything the run wrote, for secret scans.
    pub fn everything(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.stdout,
            self.stderr,
            self.report
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_default()
        )
    }

    /// The text of a file the run wrote into its folder.
    pub fn read(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}\nstderr: {}",
                path.display(),
                self.stderr
            )
        })
    }

    pub fn outputs(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Whisk {
    pub fn new() -> Whisk {
        Whisk {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Writes a file into the temporary folder and returns its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Whisk {
        self.args.push(arg.into());
        self
    }

    pub fn input(self, name: &str, value: &str) -> Whisk {
        self.arg("--input").arg(format!("{name}={value}"))
    }

    pub fn env(mut self, name: &str, value: &str) -> Whisk {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Runs `whisk run RECIPE --report report.json ...` with the recipe text given.
    pub fn run(self, recipe: &str) -> Output {
        let path = self.file("recipe.yaml", recipe);
        self.run_file(&path)
    }

    pub fn run_file(self, path: &Path) -> Output {
        let report = self.dir.path().join("report.json");
        let mut args = vec![
            "run".to_string(),
            path.display().to_string(),
            "--report".into(),
            report.display().to_string(),
        ];
        args.extend(self.args.iter().cloned());
        self.exec(&args, Some(&report))
    }

    /// Runs `whisk run RECIPE ...` with the recipe text given and no report.
    pub fn command_with_recipe(self, recipe: &str) -> Output {
        let path = self.file("recipe.yaml", recipe);
        let mut args = vec!["run".to_string(), path.display().to_string()];
        args.extend(self.args.iter().cloned());
        self.exec(&args, None)
    }

    /// Runs whisk with exactly these arguments.
    pub fn command(self, args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        self.exec(&args, None)
    }

    fn exec(self, args: &[String], report: Option<&Path>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_whisk"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("NO_COLOR", "1")
            // Never the person's own token store: one per test, inside its folder.
            .env("WHISK_TOKEN_STORE", self.dir.path().join("tokens"));
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let output = command.output().expect("run whisk");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            report: report.filter(|p| p.exists()).map(|p| {
                serde_json::from_str(&std::fs::read_to_string(p).expect("read report"))
                    .expect("report is JSON")
            }),
            dir: self.dir,
        }
    }
}

/// Replaces volatile parts of text (ports, temporary paths) for snapshots.
pub fn scrub(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "[DIR]");
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").expect("regex");
    let text = port.replace_all(&text, "127.0.0.1:[PORT]").into_owned();
    // Durations, with the padding before them (its width depends on the duration).
    let ms = regex::Regex::new(r" *\b\d+(\.\d+)?(ms|s)\b").expect("regex");
    ms.replace_all(&text, " [TIME]").into_owned()
}

/// Redactions for report snapshots.
pub fn report_settings(dir: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex::escape(&dir.display().to_string()), "[DIR]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.add_filter(r#""(duration_ms|wait_ms)": \d+"#, "\"$1\": \"[ms]\"");
    settings.add_filter(r#""(started_at|ended_at)": "[^"]+""#, "\"$1\": \"[time]\"");
    settings.add_filter(r#""sha256": "[0-9a-f]{64}""#, "\"sha256\": \"[sha256]\"");
    settings.add_filter(
        r#""whisk_version": "[^"]+""#,
        "\"whisk_version\": \"[version]\"",
    );
    settings
}

#[test]
fn scrubbed_columns_do_not_depend_on_the_duration() {
    let dir = Path::new("/nowhere");
    let short = scrub("FAIL a                             3ms  GET", dir);
    let long = scrub("FAIL a                            12ms  GET", dir);
    assert_eq!(short, long);
    assert_eq!(short, "FAIL a [TIME]  GET");
    assert_eq!(
        scrub("failed in 78ms (1 steps", dir),
        "failed in [TIME] (1 steps"
    );
}
