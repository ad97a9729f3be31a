//! Binding the two listeners on 127.0.0.1 and serving them on the caller's tokio runtime.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::config::SandboxConfig;
use super::error::SandboxError;
use super::handle::Sandbox;
use super::serve::serve;
use super::state::{AppState, Shared};
use super::{ibm, observe, oracle, stats_route, tibco};

/// Validates the data, binds both listeners, spawns the servers and returns at once.
/// The servers stop on `Sandbox::shutdown`, or when the `Sandbox` is dropped.
pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
    config.data.validate()?;
    let (main, main_addr) = bind(config.port).await?;
    let (runtime, runtime_addr) = bind(config.runtime_port).await?;
    let base = format!("http://{main_addr}");
    let (stop, stopped) = watch::channel(false);
    let state: Shared = Arc::new(AppState::new(
        config.data,
        base,
        config.log,
        stopped.clone(),
    ));
    let tasks = vec![
        tokio::spawn(serve(main, main_router(state.clone()), stopped.clone())),
        tokio::spawn(serve(runtime, runtime_router(state.clone()), stopped)),
    ];
    Ok(Sandbox::new(main_addr, runtime_addr, state, stop, tasks))
}

async fn bind(port: u16) -> Result<(TcpListener, SocketAddr), SandboxError> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let bind_error = |source| SandboxError::Bind {
        address: address.to_string(),
        source,
    };
    let listener = TcpListener::bind(address).await.map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    Ok((listener, local))
}

fn main_router(state: Shared) -> Router {
    Router::new()
        .merge(tibco::routes())
        .merge(ibm::routes())
        .merge(oracle::routes())
        .route(stats_route::PATH, get(stats_route::stats))
        .fallback(stats_route::not_found)
        .layer(from_fn_with_state(state.clone(), observe::main_listener))
        .with_state(state)
}

fn runtime_router(state: Shared) -> Router {
    oracle::runtime_routes()
        .layer(from_fn_with_state(state.clone(), observe::runtime_listener))
        .with_state(state)
}
