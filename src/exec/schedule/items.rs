//! The items of a loop on their way through its lanes: a queue the lanes (on any thread) take
//! items from in order, and a slot per item its outcome lands in. Outcomes are in item order
//! as they arrive, so nothing is merged or moved between lanes after the loop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The items of a loop, taken in order, each once.
pub struct Queue {
    items: Box<[Mutex<Option<serde_json::Value>>]>,
    next: AtomicUsize,
}

impl Queue {
    pub fn new(items: Vec<serde_json::Value>) -> Queue {
        Queue {
            items: items.into_iter().map(|v| Mutex::new(Some(v))).collect(),
            next: AtomicUsize::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The next item and its index.
    pub fn take(&self) -> Option<(usize, serde_json::Value)> {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        Some((index, self.take_at(index)?))
    }

    /// Item `index`, unless a lane took it.
    fn take_at(&self, index: usize) -> Option<serde_json::Value> {
        let slot = self.items.get(index)?;
        slot.lock().unwrap_or_else(|e| e.into_inner()).take()
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
        let queue = Queue::new((0..6).map(|i| serde_json::json!(i)).collect());
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
    fn an_item_no_lane_took_is_still_there() {
        let queue = Queue::new(vec![serde_json::json!("a"), serde_json::json!("b")]);
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
