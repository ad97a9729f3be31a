//! The items of a loop on their way through its lanes: a queue the lanes (on any thread) take
//! items from in order — from a list, or made as they are taken from a lazy sequence such as
//! `range(n)` — and a slot per item its outcome lands in (or, for a top-level loop, the spool
//! that writes outcomes to disk in item order). Nothing is merged or moved between lanes
//! after the loop.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The items of a `for_each` list.
pub enum Items {
    List(Vec<serde_json::Value>),
    /// A sequence that makes each item when asked for (`range(n)`), and its length.
    Lazy(minijinja::Value, usize),
}

impl Items {
    pub fn len(&self) -> usize {
        match self {
            Items::List(items) => items.len(),
            Items::Lazy(_, len) => *len,
        }
    }

    /// Every item, made now.
    pub fn into_vec(self) -> Vec<serde_json::Value> {
        match self {
            Items::List(items) => items,
            Items::Lazy(seq, len) => (0..len).map(|i| lazy_item(&seq, i)).collect(),
        }
    }

    /// Keeps the items `keep` wants (given each item), with their positions in the list.
    pub fn select(
        self,
        mut keep: impl FnMut(&serde_json::Value) -> bool,
    ) -> (Vec<serde_json::Value>, Vec<usize>) {
        let mut kept = Vec::new();
        let mut positions = Vec::new();
        let mut take = |i: usize, item: serde_json::Value| {
            if keep(&item) {
                kept.push(item);
                positions.push(i);
            }
        };
        match self {
            Items::List(items) => items.into_iter().enumerate().for_each(|(i, v)| take(i, v)),
            Items::Lazy(seq, len) => (0..len).for_each(|i| take(i, lazy_item(&seq, i))),
        }
        (kept, positions)
    }
}

/// Item `i` of a lazy sequence, as data (`Templates::sequence` checked that every item is).
fn lazy_item(seq: &minijinja::Value, i: usize) -> serde_json::Value {
    seq.get_item_by_index(i)
        .ok()
        .and_then(|v| serde_json::to_value(&v).ok())
        .unwrap_or_default()
}

/// The items of a loop, taken in order, each once.
pub struct Queue {
    items: Source,
    next: AtomicUsize,
}

enum Source {
    List(Box<[Mutex<Option<serde_json::Value>>]>),
    Lazy(minijinja::Value, usize),
}

impl Queue {
    pub fn new(items: Items) -> Queue {
        let items = match items {
            Items::List(items) => {
                Source::List(items.into_iter().map(|v| Mutex::new(Some(v))).collect())
            }
            Items::Lazy(seq, len) => Source::Lazy(seq, len),
        };
        Queue {
            items,
            next: AtomicUsize::new(0),
        }
    }

    pub fn len(&self) -> usize {
        match &self.items {
            Source::List(items) => items.len(),
            Source::Lazy(_, len) => *len,
        }
    }

    /// The next item and its index.
    pub fn take(&self) -> Option<(usize, serde_json::Value)> {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        Some((index, self.take_at(index)?))
    }

    /// Item `index`, unless a lane took it (a lazy sequence's, made again).
    pub fn take_at(&self, index: usize) -> Option<serde_json::Value> {
        match &self.items {
            Source::List(items) => {
                let slot = items.get(index)?;
                slot.lock().unwrap_or_else(|e| e.into_inner()).take()
            }
            Source::Lazy(seq, len) => (index < *len).then(|| lazy_item(seq, index)),
        }
    }
}

/// Where the outcomes of a loop's items go, and when another item may start.
pub trait Collect<T>: Sync {
    /// Waits until item `index` may start.
    fn admit(&self, index: usize) -> impl Future<Output = ()>;
    /// Takes the outcome of item `index`.
    fn put(&self, index: usize, outcome: T);
}

impl<T: Send + Sync> Collect<T> for Outcomes<T> {
    async fn admit(&self, _: usize) {}

    fn put(&self, index: usize, outcome: T) {
        Outcomes::put(self, index, outcome);
    }
}

/// One slot per item, filled with the item's outcome by whichever lane ran it.
pub struct Outcomes<T> {
    slots: Box<[OnceLock<T>]>,
}

impl<T> Outcomes<T> {
    pub fn new(length: usize) -> Outcomes<T> {
        Outcomes {
            slots: (0..length).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Records the outcome of item `index` (the first one only: each item runs once).
    pub fn put(&self, index: usize, outcome: T) {
        if let Some(slot) = self.slots.get(index) {
            let _ = slot.set(outcome);
        }
    }
}

impl<T> Outcomes<T> {
    /// The outcomes in item order; an empty slot gets `missing()`.
    pub fn into_vec(self, mut missing: impl FnMut() -> T) -> Vec<T> {
        self.slots
            .into_vec()
            .into_iter()
            .map(|slot| slot.into_inner().unwrap_or_else(&mut missing))
            .collect()
    }
}

impl<A, B> Outcomes<(A, B)> {
    /// The outcomes in item order, split in two lists. Lanes run every item they take, even
    /// when the run stops (as an interrupted iteration), so every slot is filled; should one
    /// not be, its item gets `missing(index, item)` rather than vanish from the report. The
    /// first list reuses the slots' memory (an in-place collect), so a large loop's outcomes
    /// are not copied to fresh pages.
    pub fn in_order(
        self,
        queue: &Queue,
        mut missing: impl FnMut(usize, serde_json::Value) -> (A, B),
    ) -> (Vec<A>, Vec<B>) {
        let mut seconds = Vec::with_capacity(self.slots.len());
        let firsts = self
            .slots
            .into_vec()
            .into_iter()
            .enumerate()
            .map(|(index, slot)| {
                let (first, second) = match slot.into_inner() {
                    Some(outcome) => outcome,
                    None => missing(index, queue.take_at(index).unwrap_or_default()),
                };
                seconds.push(second);
                first
            })
            .collect();
        (firsts, seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_come_back_in_item_order_whoever_ran_them() {
        let queue = Queue::new(Items::List((0..6).map(|i| serde_json::json!(i)).collect()));
        let outcomes = Outcomes::new(queue.len());
        let mut taken = Vec::new();
        while let Some(item) = queue.take() {
            taken.push(item);
        }
        assert_eq!(taken.len(), 6);
        // Finished out of order, and item 4 never ran.
        for (index, value) in taken.into_iter().rev().filter(|(i, _)| *i != 4) {
            outcomes.put(index, (format!("ran {value}"), index));
        }
        outcomes.put(0, ("again".to_string(), 0));
        let (got, indexes) = outcomes.in_order(&queue, |index, item| {
            (format!("missing {index} {item}"), index)
        });
        assert_eq!(
            got,
            [
                "ran 0",
                "ran 1",
                "ran 2",
                "ran 3",
                "missing 4 null",
                "ran 5"
            ]
        );
        assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_lazy_range_makes_its_items_as_they_are_taken() {
        let range = crate::plan::range::range(3, Some(9), Some(3)).unwrap();
        let queue = Queue::new(Items::Lazy(range, 2));
        assert_eq!(queue.take(), Some((0, serde_json::json!(3))));
        assert_eq!(queue.take(), Some((1, serde_json::json!(6))));
        assert_eq!(queue.take(), None);
        assert_eq!(queue.take_at(1), Some(serde_json::json!(6)));
    }

    #[test]
    fn an_item_no_lane_took_is_still_there() {
        let queue = Queue::new(Items::List(vec![
            serde_json::json!("a"),
            serde_json::json!("b"),
        ]));
        assert_eq!(queue.take(), Some((0, serde_json::json!("a"))));
        let outcomes: Outcomes<(String, ())> = Outcomes::new(queue.len());
        outcomes.put(0, ("ran".into(), ()));
        let (got, _) = outcomes.in_order(&queue, |index, item| {
            (format!("missing {index} {item}"), ())
        });
        assert_eq!(got, ["ran", "missing 1 \"b\""]);
        assert_eq!(queue.take(), None);
    }
}
