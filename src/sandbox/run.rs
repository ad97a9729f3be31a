//! Serving until Ctrl-C, for `whisk sandbox`.

use super::config::SandboxConfig;
use super::error::SandboxError;
use super::server::start;

/// Starts a sandbox, prints its banner on stdout, serves until Ctrl-C, then shuts down.
pub async fn run_forever(config: SandboxConfig) -> Result<(), SandboxError> {
    let sandbox = start(config).await?;
    println!("{}", sandbox.banner());
    println!("press Ctrl-C to stop");
    // If the signal handler cannot be installed, serving forever is still what was asked.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    sandbox.shutdown().await;
    Ok(())
}
