//! Stopping a run early: a soft stop (start nothing new, let requests in flight finish) and a
//! hard stop (abandon requests in flight), set by SIGINT/SIGTERM.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// How many lists of waiters a stop keeps: every request in flight waits for a hard stop, and
/// the loop's threads, each on a list of its own, do not contend for one lock.
const LISTS: usize = 8;

thread_local! {
    /// This thread's list of waiters, the same for every stop.
    static LIST: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % LISTS
    };
}

/// Shared by the runner and whoever asks it to stop.
#[derive(Debug, Default)]
pub struct Stop {
    soft: AtomicBool,
    hard: AtomicBool,
    waiters: [Notify; LISTS],
}

impl Stop {
    /// Starts no new request from now on.
    pub fn soft(&self) {
        self.soft.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Abandons requests in flight too.
    pub fn hard(&self) {
        self.soft.store(true, Ordering::SeqCst);
        self.hard.store(true, Ordering::SeqCst);
        self.wake();
    }

    fn wake(&self) {
        for list in &self.waiters {
            list.notify_waiters();
        }
    }

    /// This thread's list of waiters.
    fn waiters(&self) -> &Notify {
        &self.waiters[LIST.with(|list| *list)]
    }

    pub fn stopping(&self) -> bool {
        self.soft.load(Ordering::SeqCst)
    }

    /// Resolves when any stop is requested.
    pub async fn soft_stopped(&self) {
        loop {
            let notified = self.waiters().notified();
            if self.soft.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// Resolves when a hard stop is requested.
    pub async fn hard_stopped(&self) {
        loop {
            let notified = self.waiters().notified();
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

    #[test]
    fn a_stop_wakes_waiters_on_every_thread() {
        let stop = std::sync::Arc::new(Stop::default());
        let (woke, seen) = std::sync::mpsc::channel();
        // More threads than lists: some share one.
        let threads: Vec<_> = (0..LISTS + 3)
            .map(|_| {
                let (stop, woke) = (stop.clone(), woke.clone());
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        let soft = stop.soft_stopped();
                        let hard = stop.hard_stopped();
                        woke.send("waiting").unwrap();
                        soft.await;
                        woke.send("soft").unwrap();
                        hard.await;
                        woke.send("hard").unwrap();
                    });
                })
            })
            .collect();
        let wait = |what: &str| {
            for _ in 0..threads.len() {
                let got = seen.recv_timeout(std::time::Duration::from_secs(5));
                assert_eq!(got, Ok(what), "every thread gets to `{what}`");
            }
        };
        wait("waiting");
        // Not yet woken: nothing arrives before the stop.
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(seen.try_recv().is_err());
        stop.soft();
        wait("soft");
        stop.hard();
        wait("hard");
        for thread in threads {
            thread.join().unwrap();
        }
    }
}
