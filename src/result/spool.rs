//! The iterations of a top-level loop, kept on disk as they finish instead of in memory, so
//! that a fan-out of a million items runs in the memory of a few thousand.
//!
//! Each finished item is masked and rendered at once — by the lane that ran it, in the JSON
//! report's own layout — and handed over with its index. Entries are written to an unnamed
//! temporary file (gone when the process ends, readable by no one else) strictly in index
//! order: one that finishes before an earlier one waits in a reorder window until the gap
//! fills. The window is bounded: item `i` may start only once fewer than `WINDOW` items
//! before it are unwritten, so a slow item holds up the loop only once the items after it
//! fill the window, and memory stays bounded whatever the order. The loop's totals (counts,
//! first error, counted warnings), the first failed items in full and the captures, as lists
//! in item order, are taken as entries are written, in order. The report writers copy the
//! file; the others read the totals, or the entries back one at a time.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::tally::Tally;
use super::{Iteration, StepResult};
use crate::redact::Masker;

/// Items started and not yet written at most: the reorder window.
pub const WINDOW: usize = 16_384;
/// Failed items kept in memory in full, for the terminal's and Markdown's lists.
pub const FAILURES_KEPT: usize = 64;

/// One finished item, rendered.
pub struct Entry {
    pub index: usize,
    /// The item as the JSON report shows it.
    pub text: Vec<u8>,
    /// The item itself when it failed (the first few are kept), else only what the totals
    /// need.
    pub iteration: Iteration,
    /// Its value for each of the loop's capture names, in order (null when it has none).
    pub captures: Vec<serde_json::Value>,
    /// How many secrets the masker that rendered it knew.
    pub masked_with: usize,
}

pub struct Spool {
    state: Mutex<State>,
    /// How many items are written (`State::next`, readable without the lock): item `i` may
    /// start once `i < written + WINDOW`.
    written: AtomicUsize,
    /// Whether a lane waits for room, and where it waits.
    waiting: AtomicBool,
    room: tokio::sync::Notify,
    window: usize,
}

struct State {
    file: BufWriter<File>,
    /// The position the next written entry has.
    next: usize,
    pending: BTreeMap<usize, Box<Entry>>,
    tally: Tally,
    failures: Vec<Iteration>,
    captures: Vec<Vec<serde_json::Value>>,
    /// The fewest secrets any entry was masked with.
    masked_with: usize,
    /// Bytes written.
    written: u64,
    error: Option<io::Error>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("Spool")
            .field("written", &state.next)
            .field("bytes", &state.written)
            .finish()
    }
}

impl Spool {
    /// A spool for a loop whose items capture `names`.
    pub fn new(names: usize) -> io::Result<Spool> {
        Spool::with_window(names, WINDOW)
    }

    fn with_window(names: usize, window: usize) -> io::Result<Spool> {
        Ok(Spool {
            state: Mutex::new(State {
                file: BufWriter::with_capacity(256 * 1024, tempfile::tempfile()?),
                next: 0,
                pending: BTreeMap::new(),
                tally: Tally::default(),
                failures: Vec::new(),
                captures: vec![Vec::new(); names],
                masked_with: usize::MAX,
                written: 0,
                error: None,
            }),
            written: AtomicUsize::new(0),
            waiting: AtomicBool::new(false),
            room: tokio::sync::Notify::new(),
            window,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until item `index` may start: until fewer than the window's items before it are
    /// unwritten. No wait (and no lock) while the window has room.
    pub async fn admit(&self, index: usize) {
        while index >= self.written.load(Ordering::Acquire) + self.window {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            self.waiting.store(true, Ordering::SeqCst);
            if index < self.written.load(Ordering::SeqCst) + self.window {
                break;
            }
            room.await;
        }
    }

    /// Takes a finished item; writes it and every waiting one after it once no earlier item
    /// is missing.
    pub fn put(&self, entry: Entry) {
        let mut state = self.state();
        if entry.index < state.next || state.pending.contains_key(&entry.index) {
            return;
        }
        if entry.index == state.next {
            state.write(entry);
        } else {
            state.pending.insert(entry.index, Box::new(entry));
        }
        while let Some(entry) = {
            let next = state.next;
            state.pending.remove(&next)
        } {
            state.write(*entry);
        }
        self.written.store(state.next, Ordering::SeqCst);
        drop(state);
        if self.waiting.swap(false, Ordering::SeqCst) {
            self.room.notify_waiters();
        }
    }

    /// Whether item `index` is written or waiting to be.
    pub fn has(&self, index: usize) -> bool {
        let state = self.state();
        index < state.next || state.pending.contains_key(&index)
    }

    /// Ends the spool after the loop: every item was put. Fills in `step`'s totals and the
    /// captures, as lists in item order; fails if the file could not be written.
    pub fn finish(
        self,
        step: &mut StepResult,
        listed: usize,
    ) -> io::Result<(Finished, Vec<Vec<serde_json::Value>>)> {
        let mut state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        if !state.pending.is_empty() {
            return Err(io::Error::other(format!(
                "{} items of the loop were not written: item {} never finished",
                state.pending.len(),
                state.next
            )));
        }
        if let Some(error) = state.error.take() {
            return Err(error);
        }
        state.file.flush()?;
        let mut file = state
            .file
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        file.rewind()?;
        let tally = std::mem::take(&mut state.tally);
        let finished = Finished {
            file,
            len: state.next,
            bytes: state.written,
            carried: tally.carried,
            auth_failed: tally.auth_failed,
            failures: state.failures,
            interrupted: tally.interrupted,
            masked_with: state.masked_with,
            also_mask: Mutex::new(None),
        };
        tally.finish(step, listed);
        Ok((finished, state.captures))
    }
}

impl State {
    fn write(&mut self, entry: Entry) {
        self.tally.add(&entry.iteration);
        for (list, value) in self.captures.iter_mut().zip(entry.captures) {
            list.push(value);
        }
        self.masked_with = self.masked_with.min(entry.masked_with);
        if self.failures.len() < FAILURES_KEPT && entry.iteration.status == super::Status::Failed {
            self.failures.push(entry.iteration);
        }
        self.next += 1;
        if self.error.is_some() {
            return;
        }
        // Entries end with a NUL byte, which JSON text never holds (strings escape it).
        let written = self
            .file
            .write_all(&entry.text)
            .and_then(|()| self.file.write_all(b"\0"));
        match written {
            Ok(()) => self.written += entry.text.len() as u64,
            Err(e) => self.error = Some(e),
        }
    }
}

/// A loop's iterations on disk, in index order, with what the report writers need of them
/// without reading them back.
#[derive(Debug)]
pub struct Finished {
    file: File,
    len: usize,
    bytes: u64,
    carried: usize,
    auth_failed: bool,
    failures: Vec<Iteration>,
    interrupted: usize,
    masked_with: usize,
    also_mask: Mutex<Option<Masker>>,
}

impl Finished {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of rendered iterations.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn carried(&self) -> usize {
        self.carried
    }

    pub fn auth_failed(&self) -> bool {
        self.auth_failed
    }

    /// Items the run did not finish.
    pub fn interrupted(&self) -> usize {
        self.interrupted
    }

    /// The first failed items (up to `FAILURES_KEPT`), in index order.
    pub fn failures(&self) -> &[Iteration] {
        &self.failures
    }

    /// Each entry's rendered text, in index order.
    pub fn each_text(
        &self,
        mut each: impl FnMut(usize, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut file = self.file.try_clone()?;
        file.rewind()?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut entry = Vec::new();
        for index in 0..self.len {
            entry.clear();
            reader.read_until(b'\0', &mut entry)?;
            if entry.pop() != Some(b'\0') {
                return Err(io::Error::other("the loop's spool file ended early"));
            }
            each(index, &entry)?;
        }
        Ok(())
    }

    /// Each iteration, read back, in index order.
    pub fn each_iteration(
        &self,
        mut each: impl FnMut(Iteration) -> io::Result<()>,
    ) -> io::Result<()> {
        self.each_text(|_, text| {
            let iteration: Iteration = serde_json::from_slice(text).map_err(io::Error::other)?;
            each(iteration)
        })
    }

    /// All the iterations, read back into memory (for writers that need them together).
    pub fn read_all(&self) -> io::Result<Vec<Iteration>> {
        let mut all = Vec::with_capacity(self.len);
        self.each_iteration(|it| {
            all.push(it);
            Ok(())
        })?;
        Ok(all)
    }

    /// A masker that knows secrets some entries were rendered without: the writers mask
    /// the entries' text with it as they copy them.
    pub fn also_mask(&self) -> Option<Masker> {
        self.also_mask
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Asks the writers to mask the entries again with `masker`, when it knows more secrets
    /// than the entries were rendered with.
    pub fn mask_with(&self, masker: &Masker) {
        if masker.len() > self.masked_with {
            *self.also_mask.lock().unwrap_or_else(|e| e.into_inner()) = Some(masker.clone());
        }
    }
}

impl super::RunResult {
    /// The run with its spooled loops' iterations back in memory, for writers that need them
    /// together: all of them (`all`), or only the failed ones kept in memory. Borrowed when
    /// nothing is spooled.
    pub fn unspooled(&self, all: bool) -> io::Result<std::borrow::Cow<'_, super::RunResult>> {
        if self.steps.iter().all(|s| s.spooled.is_none()) {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        let mut copy = self.clone();
        for step in &mut copy.steps {
            if let Some(spooled) = step.spooled.take() {
                step.iterations = Some(if all {
                    spooled.read_all()?
                } else {
                    spooled.failures().to_vec()
                });
            }
        }
        Ok(std::borrow::Cow::Owned(copy))
    }

    /// Failed items of spooled loops that `unspooled(false)` leaves out.
    pub fn failures_not_kept(&self) -> usize {
        self.steps
            .iter()
            .filter_map(|s| Some(s.failed? - s.spooled.as_ref()?.failures().len()))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{ErrorInfo, ErrorKind, Execution, Status};

    fn iteration(index: usize, status: Status) -> Iteration {
        Iteration {
            index,
            item: serde_json::json!(index),
            status,
            duration_ms: 1,
            run: Execution::default(),
            error: (status == Status::Failed)
                .then(|| ErrorInfo::new(ErrorKind::Check, format!("item {index} failed"))),
            warnings: if index.is_multiple_of(2) {
                vec!["even".into()]
            } else {
                Vec::new()
            },
            carried_over: index == 1,
        }
    }

    fn entry(index: usize, status: Status) -> Entry {
        let iteration = iteration(index, status);
        Entry {
            index,
            text: serde_json::to_vec(&iteration).unwrap(),
            iteration,
            captures: vec![serde_json::json!(index * 10)],
            masked_with: 0,
        }
    }

    fn step() -> StepResult {
        StepResult::new("fan", Status::Succeeded)
    }

    #[test]
    fn items_finished_out_of_order_are_written_in_order_with_the_same_totals() {
        let statuses = [
            Status::Succeeded,
            Status::Failed,
            Status::Succeeded,
            Status::Interrupted,
            Status::Failed,
        ];
        let spool = Spool::new(1).unwrap();
        for index in [3, 1, 4, 0, 2] {
            spool.put(entry(index, statuses[index]));
        }
        // A second outcome for an item is ignored.
        spool.put(entry(2, Status::Failed));
        let mut spooled = step();
        let (finished, captures) = spool.finish(&mut spooled, 5).unwrap();
        let mut in_memory = step();
        in_memory.tally((0..5).map(|i| iteration(i, statuses[i])).collect(), 5);
        assert_eq!(
            (spooled.status, spooled.succeeded, spooled.failed),
            (in_memory.status, in_memory.succeeded, in_memory.failed)
        );
        assert_eq!(
            format!("{:?}", spooled.error),
            format!("{:?}", in_memory.error)
        );
        assert_eq!(spooled.warnings, in_memory.warnings);
        assert_eq!(
            captures,
            [vec![0, 10, 20, 30, 40]
                .into_iter()
                .map(|n| serde_json::json!(n))
                .collect::<Vec<_>>()]
        );
        let read: Vec<usize> = finished
            .read_all()
            .unwrap()
            .iter()
            .map(|i| i.index)
            .collect();
        assert_eq!(read, [0, 1, 2, 3, 4]);
        assert_eq!(finished.len(), 5);
        assert_eq!(finished.carried(), 1);
        assert_eq!(finished.interrupted(), 1);
        let failed: Vec<usize> = finished.failures().iter().map(|i| i.index).collect();
        assert_eq!(failed, [1, 4]);
    }

    #[test]
    fn a_missing_item_is_an_error_not_a_short_report() {
        let spool = Spool::new(0).unwrap();
        spool.put(entry(1, Status::Succeeded));
        assert!(!spool.has(0) && spool.has(1));
        let error = spool.finish(&mut step(), 2).unwrap_err();
        assert!(
            error.to_string().contains("item 0 never finished"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn the_window_holds_items_back_until_the_earliest_is_written() {
        let spool = std::sync::Arc::new(Spool::with_window(0, 4).unwrap());
        for index in 0..4 {
            spool.admit(index).await;
        }
        // Items 1..4 finished; item 0 is still running: item 4 may not start.
        for index in 1..4 {
            spool.put(entry(index, Status::Succeeded));
        }
        let waiting = tokio::spawn({
            let spool = spool.clone();
            async move { spool.admit(4).await }
        });
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(
            !waiting.is_finished(),
            "an item started with the window full"
        );
        spool.put(entry(0, Status::Succeeded));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("room once item 0 is written")
            .unwrap();
    }

    #[test]
    fn secrets_learned_after_an_item_was_written_are_asked_for_again() {
        let spool = Spool::new(0).unwrap();
        spool.put(entry(0, Status::Succeeded));
        let (finished, _) = spool.finish(&mut step(), 1).unwrap();
        assert!(finished.also_mask().is_none());
        let redactor = crate::redact::Redactor::default();
        redactor.add("later-secret-1");
        finished.mask_with(&redactor.masker());
        assert!(finished.also_mask().is_some());
    }
}
