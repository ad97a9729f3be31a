//! The command line: clap definitions, and dispatch to the subcommands. Each subcommand turns
//! its arguments into library calls and an exit code; nothing here formats results.

mod auth;
mod demo;
mod generate;
mod inputs;
mod record;
mod replay;
mod report;
mod run;
mod sandbox;
mod schema;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diagnostic::{CommandKind, Console, Diagnostic, ErrorFormat, Kind};

const EXAMPLES: &str = "\
Examples:
  whisk run recipes/tibco/enable-api-access.yaml \\
      --input child_locators='[\"101\",\"102\"]' --report report.json
  whisk run recipe.yaml --inputs-file inputs.yaml --env-file .env -v
  whisk validate recipes/*/*.yaml
  whisk schema recipe > recipe.schema.json
  whisk auth login recipes/ibm/get-user-identity.yaml ibm --open

Global options go before or after the command. `--token-store` (a directory,
or postgres://USER@HOST:PORT/DB with the password in PGPASSWORD) defaults to
$WHISK_TOKEN_STORE, else $XDG_STATE_HOME/whisk/tokens, else
~/.local/state/whisk/tokens. `--error-format json` prints one object per
problem on stderr: {kind, severity, message, location, step, field, help}.

Exit codes: 0 success, 1 a step failed, 2 invalid recipe or command line
(nothing sent), 3 authentication failed, 130 interrupted (SIGINT/SIGTERM; the
report says what ran).";

/// The heading of the options every command takes, listed apart from its own.
const GLOBAL: &str = "Global options";

#[derive(Parser, Debug)]
#[command(name = "whisk", version, about = "Run declarative YAML recipes against OAuth-protected HTTP APIs.", after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to use colours (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, help_heading = GLOBAL, hide_possible_values = true, hide_default_value = true, value_name = "auto|always|never")]
    color: Color,
    /// Where `store:` profiles keep their tokens (see `whisk --help`).
    #[arg(long, global = true, value_name = "DIR|URL", help_heading = GLOBAL)]
    token_store: Option<PathBuf>,
    /// How problems are printed (see `whisk --help`).
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human, help_heading = GLOBAL, hide_possible_values = true, hide_default_value = true, value_name = "human|json")]
    error_format: ErrorFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a recipe.
    #[command(
        after_help = "Examples:\n  whisk run recipe.yaml --input base_url=http://127.0.0.1:8080 \\\n      --report report.json\n  whisk run recipe.yaml --input ids='[1,2,3]' -v\n  whisk run recipe.yaml --report report.json --resume report.json"
    )]
    Run(RunArgs),
    /// Check recipes without sending anything.
    #[command(after_help = "Examples:\n  whisk validate recipes/*/*.yaml")]
    Validate(ValidateArgs),
    /// Print the JSON Schema of recipes or reports.
    #[command(after_help = "Examples:\n  whisk schema recipe > schemas/recipe.schema.json")]
    Schema(SchemaArgs),
    /// Serve the embedded sandbox of TIBCO, IBM and Oracle APIs on 127.0.0.1.
    #[command(
        after_help = "Examples:\n  whisk sandbox --port 8080\n  whisk sandbox --token-lifetime 5 \\\n      --fault 'path=/tci/v1/subscriptions/*,status=429,retry_after=1,count=2'\n  whisk sandbox --port 8080 --runtime-port 9090 --fault-rate 0.1 --fault-seed 7"
    )]
    Sandbox(sandbox::SandboxArgs),
    /// Run the TIBCO recipe against the embedded sandbox: no network, no credentials.
    Demo,
    /// Run a recipe for real and save every exchange, secrets and tokens masked, to a cassette;
    /// then write the snapshot `whisk test` compares with.
    #[command(
        after_help = "Examples:\n  whisk record runbooks/onboard.yaml --input base_url=https://api.example.com\n  whisk record onboard.yaml --cassette tests/onboard.cassette.json"
    )]
    Record(record::RecordArgs),
    /// Replay recipes against their cassettes (no network) and compare their reports with the
    /// stored snapshots; exit 1 on any difference.
    #[command(
        after_help = "Examples:\n  whisk test runbooks/\n  whisk test runbooks/onboard.cassette.json --update"
    )]
    Test(replay::TestArgs),
    /// Work with JSON reports: merge the reports of a run's shards.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Sign in for `authorization_code` profiles, and look after stored tokens.
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  whisk completions bash > ~/.local/share/bash-completion/completions/whisk\n  whisk completions zsh > ~/.zfunc/_whisk\n  whisk completions fish > ~/.config/fish/completions/whisk.fish"
    )]
    Completions(generate::CompletionsArgs),
    /// Print the man page (roff).
    #[command(
        after_help = "Examples:\n  whisk man > whisk.1 && man ./whisk.1\n  whisk man run > whisk-run.1\n  whisk man auth login | man -l -"
    )]
    Man(generate::ManArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The recipe file.
    pub recipe: PathBuf,
    #[command(flatten)]
    pub given: inputs::InputArgs,
    /// Print every request the run would send, token requests included, as `curl` commands
    /// with secrets as environment-variable references; send nothing, read no secret.
    #[arg(long, conflicts_with_all = ["report", "junit", "summary", "events", "resume", "lock"])]
    pub dry_run: bool,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Write a JUnit XML report here: a test case per step and `for_each` item.
    #[arg(long, value_name = "FILE.xml")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary here (it is also appended to `$GITHUB_STEP_SUMMARY` when set).
    #[arg(long, value_name = "FILE.md")]
    pub summary: Option<PathBuf>,
    /// Stream events as JSON Lines to this file as they happen; `-` for stdout (the outputs
    /// then come as the stream's last line).
    #[arg(long, value_name = "FILE|-")]
    pub events: Option<PathBuf>,
    /// Show requests and responses (-v); repeat for more.
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Print only errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Carry over the steps and `for_each` items that succeeded in this earlier report of the
    /// same recipe, and run the rest.
    #[arg(long, value_name = "REPORT.json")]
    pub resume: Option<PathBuf>,
    /// With `--resume`: send again the requests the earlier run abandoned in flight that are
    /// not safe to send twice (a POST without `idempotent: true`), whose outcome is unknown.
    #[arg(long, requires = "resume")]
    pub resend_unknown: bool,
    /// A PEM file of certificate authorities to trust besides the system's (a corporate or test
    /// CA).
    #[arg(long, value_name = "FILE", env = "WHISK_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// Refuse to start while another run holds this lock file (for cron overlaps).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// At most this many requests in flight across the whole run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrency: Option<u32>,
    /// Threads that share the items of a large `for_each` loop (default: one per CPU). Each
    /// has its own connections; 1 runs everything on one thread.
    #[arg(long, value_name = "N", env = "WHISK_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// The largest response body read (default 16MiB; a recipe's `max_body` wins).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_body: Option<crate::recipe::Size>,
    /// After SIGINT/SIGTERM, how long requests in flight may finish.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub grace: crate::recipe::Duration,
    /// Run one shard of COUNT: each top-level `for_each` keeps the items that hash to INDEX
    /// (from 0); steps outside loops run in shard 0 unless `every_shard: true`.
    #[arg(long, value_name = "INDEX/COUNT", value_parser = parse_shard, conflicts_with = "shard_count")]
    pub shard: Option<crate::exec::shard::Shard>,
    /// Run one shard of N, its index from `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub shard_count: Option<u32>,
    /// Write the run's figures for a scheduler's monitoring: the Prometheus text format, for
    /// node_exporter's textfile collector (name the file `*.prom`).
    #[arg(long, value_name = "FILE.prom")]
    pub metrics: Option<PathBuf>,
}

fn parse_shard(text: &str) -> Result<crate::exec::shard::Shard, String> {
    crate::exec::shard::Shard::parse(text)
}

fn parse_size(text: &str) -> Result<crate::recipe::Size, String> {
    crate::recipe::Size::parse(text)
}

fn parse_duration(text: &str) -> Result<crate::recipe::Duration, String> {
    crate::recipe::Duration::parse(text)
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Recipe files.
    #[arg(required = true)]
    pub recipes: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum)]
    pub kind: schema::Kind,
}

pub use crate::session::Exit;

/// Parses the command line, runs the command, and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
    };
    let console = Console::new(color, cli.error_format);
    let exit = match cli.command {
        Command::Validate(args) => validate::validate(&args, &console),
        Command::Schema(args) => schema::print(args.kind),
        Command::Run(args) => block_on(&console, run::run(&args, &console, cli.token_store)),
        Command::Sandbox(args) => block_on(&console, sandbox::sandbox(&args, &console)),
        Command::Demo => block_on(&console, demo::demo(&console)),
        Command::Record(args) => {
            block_on(&console, record::record(&args, &console, cli.token_store))
        }
        Command::Test(args) => block_on(&console, replay::test(&args, &console)),
        Command::Auth(command) => {
            block_on(&console, auth::auth(command, &console, cli.token_store))
        }
        Command::Report(command) => report::report(command, &console),
        Command::Completions(args) => generate::completions(&args),
        Command::Man(args) => generate::man(&args, &console),
    };
    ExitCode::from(exit as u8)
}

/// Runs a command on a single-threaded runtime. whisk waits on the network; its own work per
/// request (templates, captures, bookkeeping) is sequential anyway, and one thread spares every
/// request the wake-ups across threads a multi-threaded runtime costs: measured 25% faster
/// for a 10,000-item fan-out, at concurrency 1 and 32 (bench/README.md). Blocking work (DNS,
/// files) still goes to tokio's blocking pool.
fn block_on(console: &Console, future: impl std::future::Future<Output = Exit>) -> Exit {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(error) => {
            console.problem(setup(format!("cannot start the async runtime: {error}")));
            Exit::Failed
        }
    }
}

/// The token store `--token-store` or the environment names (see `store::location_from_env`);
/// `Err` (reported) when it names a database whose URL cannot be used.
fn token_store(
    flag: Option<PathBuf>,
    console: &Console,
) -> Result<Option<crate::store::TokenStore>, Exit> {
    let Some(location) = crate::store::location_from_env(flag) else {
        return Ok(None);
    };
    crate::store::TokenStore::open(&location)
        .map(Some)
        .map_err(|message| {
            console.problem(argument(message));
            Exit::Invalid
        })
}

/// A problem with a flag's value.
fn argument(message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Kind::Command(CommandKind::Argument), message)
}

/// A file that cannot be read or written.
fn file(message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Kind::Command(CommandKind::File), message)
}

/// The process could not set itself up.
fn setup(message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Kind::Command(CommandKind::Setup), message)
}
