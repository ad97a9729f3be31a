//! Threads for the items of a large loop. A run is single-threaded (one current-thread tokio
//! runtime), which keeps a request and its connection on one thread; a fan-out of thousands of
//! requests is spread over a few threads instead, each with its own current-thread runtime and
//! its own connections, so that no request crosses threads. The calling thread waits for them.

use std::cell::Cell;
use std::future::Future;

use crate::exec::direct::Direct;

thread_local! {
    static WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread runs a share of a loop (where a nested loop stays on it).
pub fn on_worker() -> bool {
    WORKER.with(Cell::get)
}

/// Runs `share(slots[t])` on thread `t` of `slots.len()`. Each share pulls its items from
/// state the closure shares and leaves what it produced there, so that a share whose thread
/// could not start leaves its items to the others, or to the caller when none started.
pub fn run_shares<F, Fut>(slots: &[usize], share: F, direct: Option<&Direct>)
where
    F: Fn(usize) -> Fut + Sync,
    Fut: Future<Output = ()>,
{
    let share = &share;
    std::thread::scope(|scope| {
        let handles: Vec<_> = slots
            .iter()
            .enumerate()
            .filter_map(|(t, &slots)| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                std::thread::Builder::new()
                    .name(format!("whisk-{t}"))
                    .spawn_scoped(scope, move || {
                        WORKER.with(|w| w.set(true));
                        runtime.block_on(share(slots));
                        // The connections this thread opened end with its runtime.
                        if let Some(direct) = direct {
                            direct.forget_this_thread();
                        }
                        drop(runtime);
                    })
                    .ok()
            })
            .collect();
        for handle in handles {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    })
}
