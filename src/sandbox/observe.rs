//! The middleware around every route: counts the request, applies an injected fault, and
//! logs method, path, status and duration once the answer is ready.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::log::{Listener, RequestRecord};
use super::serve::{ResetConnection, stopping};
use super::state::Shared;

/// The longest a `hang` fault holds a request (unless the sandbox stops first).
const HANG_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Paths under this prefix are the sandbox's own (stats); they are neither counted nor faulted.
pub(crate) const INTERNAL_PREFIX: &str = "/_sandbox/";

/// Middleware of the main listener: counters, faults, log.
pub(crate) async fn main_listener(
    State(state): State<Shared>,
    req: Request,
    next: Next,
) -> Response {
    observe(state, Listener::Main, req, next).await
}

/// Middleware of the Oracle runtime listener: counters and log, never faults.
pub(crate) async fn runtime_listener(
    State(state): State<Shared>,
    req: Request,
    next: Next,
) -> Response {
    observe(state, Listener::OracleRuntime, req, next).await
}

async fn observe(state: Shared, listener: Listener, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    if path.starts_with(INTERNAL_PREFIX) {
        return next.run(req).await;
    }
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if let (Listener::Main, Some(latency)) = (listener, state.data.latency_ms) {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let fault = state.with(|inner| {
        inner.stats.record_arrival(listener, &path, auth);
        match listener {
            Listener::Main => inner.faults.draw(&method, &path),
            Listener::OracleRuntime => None,
        }
    });
    if let Some(delay) = fault.as_ref().and_then(|f| f.delay()) {
        tokio::time::sleep(delay).await;
    }
    let response = match &fault {
        Some(fault) if fault.reset => {
            let mut response = Response::new(axum::body::Body::empty());
            response.extensions_mut().insert(ResetConnection);
            response
        }
        Some(fault) if fault.hang => {
            let mut stopped = state.stopped.clone();
            tokio::select! {
                () = stopping(&mut stopped) => {}
                () = tokio::time::sleep(HANG_LIMIT) => {}
            }
            let mut response = Response::new(axum::body::Body::empty());
            response.extensions_mut().insert(ResetConnection);
            response
        }
        Some(fault) if fault.revoke => {
            let now = Instant::now();
            // A scheduled storm spares tokens younger than its interval: revoking the token a
            // client just got for the last refusal would be a server refusing every token.
            let spare = state
                .data
                .fault_schedule
                .as_ref()
                .map_or(std::time::Duration::ZERO, |s| {
                    std::time::Duration::from_millis(s.revoke_interval_ms)
                });
            state.with(|inner| {
                inner.tokens.revoke_all_access(now, spare);
                inner.stats.revocations += 1;
            });
            next.run(req).await
        }
        Some(fault) if fault.status.is_some() => {
            // Read the request first, as a server that refuses it after parsing does: answering
            // before a large upload is read would close the connection under the client's feet.
            let _ = axum::body::to_bytes(req.into_body(), 512 * 1024 * 1024).await;
            fault.response(fault.status.unwrap_or(500), &path)
        }
        _ => next.run(req).await,
    };
    // A reset or a hang sends no answer: no status.
    let status = if response.extensions().get::<ResetConnection>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    if fault.is_none() && (200..400).contains(&status) {
        state.with(|inner| inner.faults.passed(&method, &path));
    }
    let record = RequestRecord {
        listener,
        method,
        path,
        status,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        fault: fault.is_some(),
    };
    state.log.emit(&record);
    state.with(|inner| inner.stats.record_done(record));
    response
}
