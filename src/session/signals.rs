//! SIGINT and SIGTERM during a run: the first stops new requests and lets those in flight
//! finish (up to the grace period); a second abandons them.

use std::sync::Arc;
use std::time::Duration;

use crate::event::{Event, EventSink};
use crate::exec::Stop;

/// Watches for SIGINT/SIGTERM on a thread of its own: while a loop's threads run, the run's
/// own thread waits for them and its runtime polls nothing.
pub struct SignalWatcher {
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

impl SignalWatcher {
    /// Watches until dropped; tells `sink` when a signal came (the terminal clears its bars
    /// and says what happens next; the event stream records it).
    pub fn start(stop: Arc<Stop>, grace: Duration, sink: Arc<dyn EventSink>) -> SignalWatcher {
        let (done, ended) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        match runtime {
            Ok(runtime) => {
                let spawned = std::thread::Builder::new()
                    .name("whisk-signals".into())
                    .spawn(move || {
                        runtime.block_on(async move {
                            tokio::select! {
                                _ = watch_signals(stop, grace, &*sink) => {}
                                _ = ended => {}
                            }
                        });
                    });
                if let Err(error) = spawned {
                    eprintln!("warning: cannot watch for interrupts: {error}");
                }
            }
            Err(error) => eprintln!("warning: cannot watch for interrupts: {error}"),
        }
        SignalWatcher { done: Some(done) }
    }
}

impl Drop for SignalWatcher {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
    }
}

/// First SIGINT/SIGTERM: start nothing new, let requests in flight finish. A second signal,
/// or the grace period running out, abandons them.
async fn watch_signals(stop: Arc<Stop>, grace: Duration, sink: &dyn EventSink) {
    signal().await;
    stop.soft();
    sink.emit(&Event::Interrupted {
        grace_ms: grace.as_millis() as u64,
    });
    tokio::select! {
        _ = signal() => {}
        _ = tokio::time::sleep(grace) => {}
    }
    stop.hard();
}

async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
