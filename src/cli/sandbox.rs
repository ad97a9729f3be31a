//! `whisk sandbox`: serve the embedded emulation of the seed platforms until Ctrl-C.

use std::path::PathBuf;

use clap::Args;

use super::{Exit, argument, setup};
use crate::diagnostic::{Console, Diagnostic, Kind, LoadKind};
use crate::sandbox::{Fault, FaultSchedule, LogSink, SandboxConfig, SandboxData};

#[derive(Args, Debug)]
pub struct SandboxArgs {
    /// The port of the main listener on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The port of the Oracle runtime host, which redirects to the main listener
    /// (default: the next port; 0: any free port).
    #[arg(long)]
    pub runtime_port: Option<u16>,
    /// A YAML or JSON data file: organizations, apps, connections, credentials, faults.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Access-token lifetime in seconds, for every platform (so tokens expire mid-run);
    /// fractions allowed, from 0.05.
    #[arg(long, value_name = "SECONDS")]
    pub token_lifetime: Option<f64>,
    /// Inject a fault, e.g. `path=/tci/v1/subscriptions/*,status=429,retry_after=1,count=2`
    /// (also `reset=true`, `hang=true`, `revoke=true`).
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
    /// Inject random faults into this share of API requests (0 to 1): 503, 429 with
    /// Retry-After, connection resets, answers that never come, and revoked tokens.
    #[arg(long, value_name = "P")]
    pub fault_rate: Option<f64>,
    /// Seed of the random faults: the same seed gives the same schedule.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "fault_rate")]
    pub fault_seed: u64,
}

pub async fn sandbox(args: &SandboxArgs, console: &Console) -> Exit {
    let mut data = match &args.data {
        Some(path) => match SandboxConfig::from_data_file(path) {
            Ok(data) => data,
            Err(error) => {
                console.problem(Diagnostic::new(
                    Kind::Load(LoadKind::InvalidValue),
                    error.to_string(),
                ));
                return Exit::Invalid;
            }
        },
        None => SandboxData::default(),
    };
    if let Some(seconds) = args.token_lifetime {
        data.set_access_token_lifetime(seconds);
    }
    for spec in &args.faults {
        match spec.parse::<Fault>() {
            Ok(fault) => data.faults.push(fault),
            Err(error) => {
                console.problem(argument(format!("`--fault {spec}`: {error}")));
                return Exit::Invalid;
            }
        }
    }
    if let Some(rate) = args.fault_rate {
        data.fault_schedule = Some(FaultSchedule::new(args.fault_seed, rate));
    }
    let runtime_port = match args.runtime_port {
        Some(port) => port,
        // The next port, when the main one is fixed.
        None if args.port == 0 => 0,
        None => args.port.saturating_add(1),
    };
    let config = SandboxConfig::new(data)
        .with_port(args.port)
        .with_runtime_port(runtime_port)
        .with_log(LogSink::Stderr);
    match crate::sandbox::run_forever(config).await {
        Ok(()) => Exit::Success,
        Err(error) => {
            console.problem(setup(error.to_string()));
            Exit::Failed
        }
    }
}
