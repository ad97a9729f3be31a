//! The run-wide cap on requests in flight (`--max-concurrency`). Every request of every
//! thread of a fan-out passes it, so passing costs two atomic operations on one counter and
//! nothing more while the cap is not reached (tokio's semaphore also takes its waiters' lock
//! on every release, a lock the threads then pass back and forth). Only a request that finds
//! the cap reached waits, on a `Notify`.

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

pub struct Gate {
    in_flight: AtomicUsize,
    /// Requests waiting for room.
    waiting: AtomicUsize,
    max: usize,
    room: Notify,
}

/// A request in flight: it leaves the gate when this is dropped.
#[must_use = "the request is in flight while the pass is held"]
pub struct Pass<'g>(&'g Gate);

impl Gate {
    /// A cap of `max` requests in flight (at least one).
    pub fn new(max: usize) -> Gate {
        Gate {
            in_flight: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            max: max.max(1),
            room: Notify::new(),
        }
    }

    /// Waits for room, then holds a place until the pass is dropped.
    pub async fn enter(&self) -> Pass<'_> {
        loop {
            if self.try_enter() {
                return Pass(self);
            }
            let mut room = pin!(self.room.notified());
            room.as_mut().enable();
            let _waiting = Waiting::on(self);
            // A pass dropped after this look sees `waiting` and wakes a waiter (both SeqCst).
            if self.in_flight.load(Ordering::SeqCst) < self.max {
                continue;
            }
            room.await;
        }
    }

    fn try_enter(&self) -> bool {
        let mut n = self.in_flight.load(Ordering::Relaxed);
        while n < self.max {
            match self.in_flight.compare_exchange_weak(
                n,
                n + 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }

    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.0.waiting.load(Ordering::SeqCst) > 0 {
            // A waiter dropped after it was woken passes the wake-up on (tokio's `Notified`).
            self.0.room.notify_one();
        }
    }
}

/// Counts a waiter for as long as it waits, also when its future is dropped.
struct Waiting<'g>(&'g Gate);

impl<'g> Waiting<'g> {
    fn on(gate: &'g Gate) -> Waiting<'g> {
        gate.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting(gate)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[test]
    fn never_more_than_the_cap_in_flight_across_threads() {
        let gate = Gate::new(3);
        let peak = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_time()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        let lanes = (0..5).map(|_| async {
                            for _ in 0..200 {
                                let _pass = gate.enter().await;
                                peak.fetch_max(gate.in_flight(), Ordering::SeqCst);
                                tokio::task::yield_now().await;
                                done.fetch_add(1, Ordering::SeqCst);
                            }
                        });
                        futures_util::future::join_all(lanes).await;
                    });
                });
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 4 * 5 * 200);
        let peak = peak.load(Ordering::SeqCst);
        assert!((1..=3).contains(&peak), "{peak} in flight at once");
        assert_eq!(gate.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_waiter_dropped_does_not_keep_the_others_waiting() {
        let gate = std::sync::Arc::new(Gate::new(1));
        let held = gate.enter().await;
        // Two waiters; the first gives up.
        let mut first = Box::pin(gate.enter());
        assert!(futures_util::poll!(first.as_mut()).is_pending());
        let second = tokio::spawn({
            let gate = gate.clone();
            async move {
                let _pass = gate.enter().await;
            }
        });
        tokio::task::yield_now().await;
        drop(held);
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the second waiter got in")
            .unwrap();
        assert_eq!(gate.in_flight(), 0);
    }
}
