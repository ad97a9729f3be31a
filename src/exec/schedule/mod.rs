//! How the items of a loop run: a queue that lanes take items from in order, a slot per item
//! that its outcome lands in (`items`), lanes — each runs one item at a time and takes the
//! next when it is done — and, for large live loops, threads of their own (`threads`), each
//! with its own runtime and connections, sharing the queue.

mod items;
mod threads;

pub use items::{Collect, Items, Outcomes, Queue};
pub use threads::on_worker;

use std::future::Future;

use futures_util::StreamExt;

use super::direct::Direct;

/// Runs every item of `queue` through `run` (index and item → outcome), `concurrency` at a
/// time: on `threads` threads, the concurrency split between them, or on this one. Each
/// outcome goes to its item's slot in `outcomes`. Items no thread took (none could start)
/// run here.
pub async fn run<T, C, F, Fut>(
    queue: &Queue,
    outcomes: &C,
    concurrency: usize,
    threads: usize,
    direct: Option<&Direct>,
    run: F,
) where
    C: Collect<T>,
    F: Fn(usize, serde_json::Value) -> Fut + Sync,
    Fut: Future<Output = T>,
{
    if threads > 1 {
        let slots: Vec<usize> = (0..threads)
            .map(|t| concurrency / threads + usize::from(t < concurrency % threads))
            .collect();
        threads::run_shares(&slots, |slots| lanes(queue, outcomes, slots, &run), direct);
    }
    lanes(queue, outcomes, concurrency, &run).await;
}

/// Runs the items of `queue` on `slots` lanes: each lane runs one item at a time and takes
/// the next when it is done (and `outcomes` admits one), so that a slow item holds only its
/// own lane.
async fn lanes<T, C, F, Fut>(queue: &Queue, outcomes: &C, slots: usize, run: &F)
where
    C: Collect<T>,
    F: Fn(usize, serde_json::Value) -> Fut,
    Fut: Future<Output = T>,
{
    let mut lanes: futures_util::stream::FuturesUnordered<_> = (0..slots.max(1))
        .map(|_| async move {
            while let Some((index, value)) = queue.take() {
                outcomes.admit(index).await;
                outcomes.put(index, run(index, value).await);
            }
        })
        .collect();
    while lanes.next().await.is_some() {}
}
