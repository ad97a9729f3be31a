//! Stopping a run early: a soft stop (start nothing new, let requests in flight finish) and a
//! hard stop (abandon requests in flight), set by SIGINT/SIGTERM.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// Shared by the runner and whoever asks it to stop.
#[derive(Debug, Default)]
pub struct Stop {
    soft: AtomicBool,
    hard: AtomicBool,
    notify: Notify,
}

impl Stop {
    /// Starts no new request from now on.
    pub fn soft(&self) {
        self.soft.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Abandons requests in flight too.
    pub fn hard(&self) {
        self.soft.store(true, Ordering::SeqCst);
        self.hard.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn stopping(&self) -> bool {
        self.soft.load(Ordering::SeqCst)
    }

    /// Resolves when any stop is requested.
    pub async fn soft_stopped(&self) {
        loop {
            let notified = self.notify.notified();
            if self.soft.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// Resolves when a hard stop is requested.
    pub async fn hard_stopped(&self) {
        loop {
            let notified = self.notify.notified();
            if self.hard.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hard_stop_wakes_waiters() {
        let stop = std::sync::Arc::new(Stop::default());
        assert!(!stop.stopping());
        let waiter = {
            let stop = stop.clone();
            tokio::spawn(async move { stop.hard_stopped().await })
        };
        stop.soft();
        assert!(stop.stopping());
        stop.hard();
        tokio::time::timeout(std::time::Duration::from_secs(2), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
