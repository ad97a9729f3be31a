//! The iterations of a top-level loop, kept on disk as they finish instead of in memory, so
//! that a fan-out of a million items runs in the memory of a few thousand.
//!
//! Each finished item is masked and rendered at once — by the lane that ran it, in the JSON
//! report's own layout — and handed over with its index. Nothing about one item waits for
//! another, and the threads of a loop share nothing per item but two atomic counters: each
//! thread appends its items, as they finish, to a buffer of its own (one of `SHARDS`, chosen
//! once per thread), with the totals it has seen so far (`Tally`, which does not depend on
//! the order items come in), and writes the buffer, LZ4-compressed, to an unnamed temporary
//! file (gone when the process ends, readable by no one else) once it holds `CHUNK` bytes, at
//! a place it reserves at the file's end. A buffer that stays behind while the loop moves on
//! (its thread's lanes all wait on slow requests) is written by another thread.
//!
//! The file therefore holds the items nearly in order, not in order; reading puts them back in
//! index order. The reorder is bounded by the admission window: item `i` may start only once
//! every item before `i - WINDOW` finished, and a buffer is written before the loop is
//! `WINDOW` items further on, so the items read ahead while looking for the next one are
//! fewer than about two windows. The totals, the first failed items in full and the captures
//! (as lists in item order) come from the buffers' tallies when the loop ends. The report
//! writers copy the items' text; the others read the items back one at a time.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::tally::Tally;
use super::{Iteration, StepResult};
use crate::redact::Masker;

mod read;

/// Items started and not yet finished at most: the admission window.
pub const WINDOW: usize = 16_384;
/// Failed items kept in memory in full, for the terminal's and Markdown's lists.
pub const FAILURES_KEPT: usize = 64;
/// Buffers of finished items: more than a loop has threads, so that each thread has its own.
const SHARDS: usize = 16;
/// Bytes of rendered items a buffer holds before it is compressed and written.
const CHUNK: usize = 256 * 1024;

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
    file: File,
    /// Where the next chunk goes: the file's length once every reserved chunk is written.
    end: AtomicU64,
    shards: Vec<Mutex<Shard>>,
    /// Slot `i % window` holds `i + 1` once item `i` finished.
    done: Vec<AtomicUsize>,
    /// How many items finished with none missing before them: item `i` may start once
    /// `i < finished + window`.
    finished: AtomicUsize,
    /// Where `finished` has to reach before the next look for buffers left behind.
    sweep_at: AtomicUsize,
    /// Whether a lane waits for room, and where it waits.
    waiting: AtomicBool,
    room: tokio::sync::Notify,
    window: usize,
    names: usize,
    error: Mutex<Option<io::Error>>,
}

/// One thread's finished items: the rendered ones not yet written, and the totals of all.
#[derive(Default)]
struct Shard {
    /// Entries as `index (u64 LE) · length (u32 LE) · text`.
    buffer: Vec<u8>,
    /// `finished` when the buffer's first entry came.
    since: usize,
    compressed: Vec<u8>,
    tally: Tally,
    /// The failed items of the lowest indexes (up to `FAILURES_KEPT`), ascending.
    failures: Vec<Iteration>,
    /// Each item's captures, with its index.
    captures: Vec<(usize, Vec<serde_json::Value>)>,
    /// The fewest secrets any entry was masked with.
    masked_with: Option<usize>,
    /// Items and bytes of rendered text taken.
    items: usize,
    bytes: u64,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("finished", &self.finished.load(Ordering::Relaxed))
            .field("bytes", &self.end.load(Ordering::Relaxed))
            .finish()
    }
}

/// A thread moves `finished` on after this many of its puts, or at once when a lane waits
/// for room. `finished` is shared by every thread: moving it on at each put had the cores pass
/// its cache line back and forth, item after item.
const ADVANCE_EVERY: u32 = 32;

thread_local! {
    /// This thread's buffer: the same for every spool.
    static SHARD: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS
    };
    /// This thread's puts until it moves `finished` on.
    static UNTIL_ADVANCE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl Spool {
    /// A spool for a loop whose items capture `names`.
    pub fn new(names: usize) -> io::Result<Spool> {
        Spool::with_window(names, WINDOW)
    }

    fn with_window(names: usize, window: usize) -> io::Result<Spool> {
        Ok(Spool {
            file: tempfile::tempfile()?,
            end: AtomicU64::new(0),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            done: (0..window).map(|_| AtomicUsize::new(0)).collect(),
            finished: AtomicUsize::new(0),
            sweep_at: AtomicUsize::new(window / 4),
            waiting: AtomicBool::new(false),
            room: tokio::sync::Notify::new(),
            window,
            names,
            error: Mutex::new(None),
        })
    }

    /// Waits until item `index` may start: until fewer than the window's items before it are
    /// unfinished. No wait (and no lock) while the window has room.
    pub async fn admit(&self, index: usize) {
        while index >= self.finished.load(Ordering::Acquire) + self.window {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            self.waiting.store(true, Ordering::SeqCst);
            // Puts move `finished` on only now and then: it may lag behind what finished.
            self.advance();
            if index < self.finished.load(Ordering::SeqCst) + self.window {
                break;
            }
            room.await;
        }
    }

    /// Takes a finished item (a second outcome for an item is ignored).
    pub fn put(&self, entry: Entry) {
        let index = entry.index;
        if index < self.finished.load(Ordering::SeqCst)
            || index >= self.finished.load(Ordering::SeqCst) + self.window
        {
            // Finished before, or never admitted.
            return;
        }
        let slot = &self.done[index % self.window];
        if slot.load(Ordering::SeqCst) == index + 1 {
            return;
        }
        {
            let mut shard = lock(&self.shards[SHARD.with(|s| *s)]);
            // Of two outcomes of one item, the first to mark its slot is taken.
            if slot.swap(index + 1, Ordering::SeqCst) == index + 1 {
                return;
            }
            if shard.buffer.is_empty() {
                shard.since = self.finished.load(Ordering::Relaxed);
            }
            shard.take(entry, self.names);
            if shard.buffer.len() >= CHUNK
                || shard.since + self.window / 2 <= self.finished.load(Ordering::Relaxed)
            {
                self.write(&mut shard);
            }
        }
        let due = UNTIL_ADVANCE.with(|left| {
            let due = left.get() == 0;
            left.set(if due {
                ADVANCE_EVERY - 1
            } else {
                left.get() - 1
            });
            due
        });
        // A lane waiting for room is woken by the put that makes it (see `admit`).
        if due || self.waiting.load(Ordering::SeqCst) {
            self.advance();
        }
    }

    /// Moves `finished` past every finished item; looks for buffers left behind now and
    /// then; wakes the lanes waiting for room.
    fn advance(&self) {
        let mut moved = false;
        loop {
            let at = self.finished.load(Ordering::SeqCst);
            if self.done[at % self.window].load(Ordering::SeqCst) != at + 1 {
                break;
            }
            // Whoever wins moves on from `at`; the others look again.
            moved |= self
                .finished
                .compare_exchange(at, at + 1, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok();
        }
        if !moved {
            return;
        }
        let now = self.finished.load(Ordering::SeqCst);
        let due = self.sweep_at.load(Ordering::Relaxed);
        if now >= due
            && self
                .sweep_at
                .compare_exchange(
                    due,
                    now + self.window / 4,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            for shard in &self.shards {
                // A buffer whose thread is putting an item right now is that thread's to write.
                if let Ok(mut shard) = shard.try_lock()
                    && !shard.buffer.is_empty()
                    && shard.since + self.window / 2 <= now
                {
                    self.write(&mut shard);
                }
            }
        }
        if self.waiting.swap(false, Ordering::SeqCst) {
            self.room.notify_waiters();
        }
    }

    /// Compresses a buffer and writes it at a place reserved at the file's end.
    fn write(&self, shard: &mut Shard) {
        let Shard {
            buffer, compressed, ..
        } = shard;
        compressed.clear();
        compressed.resize(
            8 + lz4_flex::block::get_maximum_output_size(buffer.len()),
            0,
        );
        let written = lz4_flex::block::compress_into(buffer, &mut compressed[8..]);
        let result = match written {
            Ok(size) => {
                compressed.truncate(8 + size);
                compressed[..4].copy_from_slice(&(size as u32).to_le_bytes());
                compressed[4..8].copy_from_slice(&(buffer.len() as u32).to_le_bytes());
                let at = self
                    .end
                    .fetch_add(compressed.len() as u64, Ordering::Relaxed);
                write_at(&self.file, compressed, at)
            }
            Err(e) => Err(io::Error::other(e)),
        };
        buffer.clear();
        if let Err(e) = result {
            lock(&self.error).get_or_insert(e);
        }
    }

    /// Whether item `index` finished.
    pub fn has(&self, index: usize) -> bool {
        index < self.finished.load(Ordering::SeqCst)
            || self.done[index % self.window].load(Ordering::SeqCst) == index + 1
    }

    /// Ends the spool after the loop: every item was put. Fills in `step`'s totals and the
    /// captures, as lists in item order; fails if the file could not be written.
    pub fn finish(
        self,
        step: &mut StepResult,
        listed: usize,
    ) -> io::Result<(Finished, Vec<Vec<serde_json::Value>>)> {
        self.advance();
        let mut whole = Shard::default();
        let mut captures = Vec::new();
        for shard in &self.shards {
            let mut shard = lock(shard);
            if !shard.buffer.is_empty() {
                self.write(&mut shard);
            }
            let shard = std::mem::take(&mut *shard);
            whole.tally.merge(shard.tally);
            whole.failures.extend(shard.failures);
            captures.extend(shard.captures);
            whole.masked_with = match (whole.masked_with, shard.masked_with) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            whole.items += shard.items;
            whole.bytes += shard.bytes;
        }
        let finished = self.finished.load(Ordering::SeqCst);
        if whole.items != finished {
            return Err(io::Error::other(format!(
                "{} items of the loop were not written: item {finished} never finished",
                whole.items - finished,
            )));
        }
        if let Some(error) = lock(&self.error).take() {
            return Err(error);
        }
        whole.failures.sort_by_key(|it| it.index);
        whole.failures.truncate(FAILURES_KEPT);
        captures.sort_unstable_by_key(|(index, _)| *index);
        let mut lists = vec![Vec::with_capacity(captures.len()); self.names];
        for (_, values) in captures {
            for (list, value) in lists.iter_mut().zip(values) {
                list.push(value);
            }
        }
        let tally = whole.tally;
        let done = Finished {
            file: self.file,
            len: finished,
            bytes: whole.bytes,
            carried: tally.carried,
            auth_failed: tally.auth_failed,
            failures: whole.failures,
            interrupted: tally.interrupted,
            masked_with: whole.masked_with.unwrap_or(usize::MAX),
            also_mask: Mutex::new(None),
        };
        tally.finish(step, listed);
        Ok((done, lists))
    }
}

impl Shard {
    fn take(&mut self, entry: Entry, names: usize) {
        let Entry {
            index,
            text,
            iteration,
            captures,
            masked_with,
        } = entry;
        self.tally.add(&iteration);
        if names > 0 {
            self.captures.push((index, captures));
        }
        self.masked_with = Some(self.masked_with.map_or(masked_with, |m| m.min(masked_with)));
        if iteration.status == super::Status::Failed
            && (self.failures.len() < FAILURES_KEPT
                || self.failures.last().is_some_and(|last| last.index > index))
        {
            let at = self.failures.partition_point(|it| it.index < index);
            self.failures.insert(at, iteration);
            self.failures.truncate(FAILURES_KEPT);
        }
        self.buffer.extend_from_slice(&(index as u64).to_le_bytes());
        self.buffer
            .extend_from_slice(&(text.len() as u32).to_le_bytes());
        self.buffer.extend_from_slice(&text);
        self.items += 1;
        self.bytes += text.len() as u64;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, at)
}

#[cfg(windows)]
fn write_at(file: &File, mut bytes: &[u8], mut at: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !bytes.is_empty() {
        let n = file.seek_write(bytes, at)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[n..];
        at += n as u64;
    }
    Ok(())
}

/// A loop's iterations on disk, with what the report writers need of them without reading
/// them back.
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

    /// Each entry's rendered text, in index order. The file is read and decompressed on a
    /// second thread while `each` runs on this one.
    pub fn each_text(&self, each: impl FnMut(usize, &[u8]) -> io::Result<()>) -> io::Result<()> {
        read::in_order(self.file.try_clone()?, self.len, each)
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
        lock(&self.also_mask).clone()
    }

    /// Asks the writers to mask the entries again with `masker`, when it knows more secrets
    /// than the entries were rendered with.
    pub fn mask_with(&self, masker: &Masker) {
        if masker.len() > self.masked_with {
            *lock(&self.also_mask) = Some(masker.clone());
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

    /// The indexes of the iterations read back, in the order they come.
    fn indexes(finished: &Finished) -> Vec<usize> {
        let read = finished.read_all().unwrap();
        read.iter().map(|i| i.index).collect()
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
        let read = indexes(&finished);
        assert_eq!(read, [0, 1, 2, 3, 4]);
        assert_eq!(finished.len(), 5);
        assert_eq!(finished.carried(), 1);
        assert_eq!(finished.interrupted(), 1);
        let failed: Vec<usize> = finished.failures().iter().map(|i| i.index).collect();
        assert_eq!(failed, [1, 4]);
    }

    /// Runs `items` on `threads` threads at once, each taking the next item from a shared
    /// counter and putting it in a scrambled order within runs of 7, through the admission.
    fn put_from_threads(spool: &Spool, items: usize, threads: usize, text: usize) {
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    loop {
                        let start = next.fetch_add(7, Ordering::SeqCst);
                        if start >= items {
                            break;
                        }
                        let run: Vec<usize> = (start..(start + 7).min(items)).rev().collect();
                        for index in run {
                            runtime.block_on(spool.admit(index));
                            let mut entry = entry(index, Status::Succeeded);
                            entry.text = format!("{index:0text$}").into_bytes();
                            spool.put(entry);
                        }
                    }
                });
            }
        });
    }

    #[test]
    fn items_put_by_many_threads_at_once_are_read_back_in_order() {
        // Enough text for many chunks, and a window small enough to be waited on.
        let spool = Spool::with_window(1, 64).unwrap();
        put_from_threads(&spool, 3_000, 4, 700);
        let mut step = step();
        let (finished, captures) = spool.finish(&mut step, 3_000).unwrap();
        assert_eq!((finished.len(), step.succeeded), (3_000, Some(3_000)));
        assert!(finished.bytes() > 4 * CHUNK as u64, "{}", finished.bytes());
        let mut seen = 0;
        finished
            .each_text(|index, text| {
                assert_eq!(index, seen);
                assert_eq!(text, format!("{index:0700}").as_bytes());
                seen += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, 3_000);
        let expected: Vec<_> = (0..3_000).map(|i| serde_json::json!(i * 10)).collect();
        assert_eq!(captures, [expected]);
    }

    #[test]
    fn a_buffer_left_behind_by_an_idle_thread_is_written_by_another() {
        let spool = Spool::with_window(0, 64).unwrap();
        // One item from a thread that then takes no more.
        let idle = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    spool.put(entry(0, Status::Succeeded));
                    SHARD.with(|s| *s)
                })
                .join()
                .unwrap()
        });
        assert!(!lock(&spool.shards[idle]).buffer.is_empty());
        // The loop goes on on another thread, two windows further.
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for index in 1..128 {
                    spool.put(entry(index, Status::Succeeded));
                }
            });
        });
        assert!(
            lock(&spool.shards[idle]).buffer.is_empty(),
            "item 0 is still only in the idle thread's buffer"
        );
        let (finished, _) = spool.finish(&mut step(), 128).unwrap();
        let read = indexes(&finished);
        assert_eq!(read, (0..128).collect::<Vec<_>>());
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
