//! A memory budget for template renders. minijinja bounds how many instructions a render runs
//! (fuel) but not how large its values grow: `{% set s = s ~ s %}` in a loop of 40 doubles a
//! string past any machine's memory in 40 instructions, and Rust ends a process whose
//! allocation fails. A render that could grow values that way (see `Templates`) runs here
//! instead: on one of a few render threads whose every allocation the global allocator counts.
//! A render that would hold more than `TEMPLATE_MEMORY` never gets the memory: its thread stops
//! where it stands, for good (a thread cannot be unwound from inside the allocator), and the
//! caller gets `Exceeded` — an error for the step, not an aborted process. After `MAX_STUCK`
//! such renders no further render is started on a budget, so the memory stopped threads hold
//! stays bounded too.
//!
//! The only `unsafe` of the crate is here: the allocator passes every call to the system
//! allocator unchanged, and refuses nothing. It only counts, and on the render threads stops.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// What one render may hold beyond what its thread held when it started.
pub const TEMPLATE_MEMORY: usize = 64 << 20;

/// What a `for_each` list may hold: as large as the data it selects from (the rows of a big
/// CSV file, filtered), and still bounded.
pub const LIST_MEMORY: usize = 1 << 30;

/// Renders that may exceed the budget in one process before budgeted renders are refused.
pub const MAX_STUCK: usize = 2;

/// The global allocator: the system's, counting allocations on render threads.
pub struct Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

thread_local! {
    /// Whether this thread renders on a budget now.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// Bytes this render may still allocate (frees add back).
    static LEFT: Cell<isize> = const { Cell::new(0) };
    /// The render thread's current job, told when its render exceeds the budget.
    static CURRENT: RefCell<Option<Arc<dyn Signal>>> = const { RefCell::new(None) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; `charge`
// and `refund` touch only this thread's `const` thread-locals (no lazy initialisation, no
// destructor, so no allocation), and `charge` either returns or never returns.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        refund(layout.size());
        // SAFETY: `ptr` came from `System` with `layout`, since every allocation does.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            charge(new_size - layout.size());
        } else {
            refund(layout.size() - new_size);
        }
        // SAFETY: as for `dealloc`; `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn charge(bytes: usize) {
    let over = ARMED
        .try_with(|armed| {
            if !armed.get() {
                return false;
            }
            let left = LEFT
                .get()
                .saturating_sub(bytes.min(isize::MAX as usize) as isize);
            LEFT.set(left);
            if left < 0 {
                // What follows may allocate: uncounted.
                armed.set(false);
                return true;
            }
            false
        })
        .unwrap_or(false);
    if over {
        exceeded();
    }
}

fn refund(bytes: usize) {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            LEFT.set(
                LEFT.get()
                    .saturating_add(bytes.min(isize::MAX as usize) as isize),
            );
        }
    });
}

/// Tells the waiting caller, then stops this render thread for good: the allocation that was
/// asked for is never made, and nothing the render holds is freed.
fn exceeded() -> ! {
    if let Ok(Some(job)) = CURRENT.try_with(|current| current.borrow().clone()) {
        job.exceeded();
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// Runs `work` without the budget, on a render thread or anywhere: for code that takes a lock
/// other threads share (the redactor's), which a render stopped inside it would never release.
pub fn unbudgeted<T>(work: impl FnOnce() -> T) -> T {
    let was = ARMED.with(|armed| armed.replace(false));
    let out = work();
    ARMED.with(|armed| armed.set(was));
    out
}

/// Why a budgeted render gave no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// This render needed more than its budget (bytes).
    Render(usize),
    /// Earlier renders did (`MAX_STUCK` of them): no further render is started.
    Refused,
    /// The render thread ended without a value (a panic).
    Lost,
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exceeded::Render(limit) => write!(
                f,
                "the template needs more than {} MiB of memory (a value that grows in a \
                 loop, such as `{{% set s = s ~ s %}}`?); it was stopped",
                limit >> 20
            ),
            Exceeded::Refused => write!(
                f,
                "not rendered: {MAX_STUCK} renders of this run already needed more memory than \
                 allowed, and whisk renders no more templates of this kind"
            ),
            Exceeded::Lost => f.write_str("the template render ended without a result"),
        }
    }
}

/// Runs `work` on a render thread within `limit` bytes, waiting for it.
pub fn budgeted<T: Send + 'static>(
    limit: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Exceeded> {
    if STUCK.load(Ordering::SeqCst) >= MAX_STUCK {
        return Err(Exceeded::Refused);
    }
    #[cfg(test)]
    tests::SLOTS.fetch_add(1, Ordering::SeqCst);
    let slot = Arc::new(Slot {
        state: Mutex::new(State::Waiting),
        ready: Condvar::new(),
    });
    let reply = Reply(Some(slot.clone()));
    let signal: Arc<dyn Signal> = slot.clone();
    let job = Job {
        signal,
        run: Box::new(move || {
            let value = {
                let _armed = Armed::new(limit);
                work()
            };
            reply.send(State::Done(value));
        }),
    };
    if pool().lock().map(|jobs| jobs.send(job)).is_err() {
        return Err(Exceeded::Lost);
    }
    let mut state = slot.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        match std::mem::replace(&mut *state, State::Waiting) {
            State::Waiting => state = slot.ready.wait(state).unwrap_or_else(|e| e.into_inner()),
            State::Done(value) => return Ok(value),
            State::Exceeded => {
                drop(state);
                // The stopped thread is replaced while fewer than `MAX_STUCK` are.
                if STUCK.fetch_add(1, Ordering::SeqCst) + 1 < MAX_STUCK {
                    spawn_worker();
                }
                return Err(Exceeded::Render(limit));
            }
            State::Lost => return Err(Exceeded::Lost),
        }
    }
}

/// Render threads stopped by the budget.
static STUCK: AtomicUsize = AtomicUsize::new(0);

/// The render threads' queue: its sending end, and the receiving end they share.
struct Pool {
    send: Mutex<Sender<Job>>,
    receive: Arc<Mutex<Receiver<Job>>>,
}

static JOBS: OnceLock<Pool> = OnceLock::new();

fn pool() -> &'static Mutex<Sender<Job>> {
    &JOBS
        .get_or_init(|| {
            // A panic on a render thread is printed (perhaps with a backtrace, under a lock
            // every panic takes) without the budget.
            let hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let _ = ARMED.try_with(|armed| armed.set(false));
                hook(info);
            }));
            let (send, receive) = mpsc::channel();
            let receive = Arc::new(Mutex::new(receive));
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
            for _ in 0..threads {
                start(receive.clone());
            }
            Pool {
                send: Mutex::new(send),
                receive,
            }
        })
        .send
}

fn spawn_worker() {
    if let Some(pool) = JOBS.get() {
        start(pool.receive.clone());
    }
}

fn start(receive: Arc<Mutex<Receiver<Job>>>) {
    let _ = std::thread::Builder::new()
        .name("whisk-render".into())
        .spawn(move || {
            loop {
                let job = {
                    let Ok(jobs) = receive.lock() else { return };
                    match jobs.recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    }
                };
                CURRENT.with(|current| *current.borrow_mut() = Some(job.signal));
                // A panicking render says `Lost` (its `Reply` drops); the thread goes on.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job.run));
                CURRENT.with(|current| *current.borrow_mut() = None);
            }
        });
}

struct Job {
    signal: Arc<dyn Signal>,
    run: Box<dyn FnOnce() + Send>,
}

/// What the allocator may tell a job without knowing its type.
trait Signal: Send + Sync {
    fn exceeded(&self);
}

enum State<T> {
    Waiting,
    Done(T),
    Exceeded,
    Lost,
}

struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

impl<T: Send> Signal for Slot<T> {
    fn exceeded(&self) {
        self.set(State::Exceeded);
    }
}

impl<T> Slot<T> {
    fn set(&self, state: State<T>) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = state;
        self.ready.notify_all();
    }
}

#[cfg(test)]
impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        tests::SLOTS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The job's end of its slot: a job that ends without sending (a panic) says `Lost`.
struct Reply<T>(Option<Arc<Slot<T>>>);

impl<T> Reply<T> {
    fn send(mut self, state: State<T>) {
        if let Some(slot) = self.0.take() {
            slot.set(state);
        }
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.set(State::Lost);
        }
    }
}

/// The budget, armed for as long as it lives (a panicking render disarms it too).
struct Armed;

impl Armed {
    fn new(limit: usize) -> Armed {
        LEFT.with(|left| left.set(limit.min(isize::MAX as usize) as isize));
        ARMED.with(|armed| armed.set(true));
        Armed
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        ARMED.with(|armed| armed.set(false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slots alive: each budgeted render's is freed when it returns (a leak LeakSanitizer
    /// found under `cargo fuzz`, the job's end forgotten instead of dropped).
    pub static SLOTS: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn a_finished_render_frees_its_slot() {
        // Other tests run renders at the same time: many renders, none left behind.
        for _ in 0..200 {
            budgeted(TEMPLATE_MEMORY, || 1).unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while SLOTS.load(Ordering::SeqCst) > 8 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(SLOTS.load(Ordering::SeqCst) <= 8);
    }

    #[test]
    fn a_render_within_the_budget_returns_its_value() {
        let out = budgeted(TEMPLATE_MEMORY, || vec![7u8; 8 << 20].len()).unwrap();
        assert_eq!(out, 8 << 20);
    }

    #[test]
    fn freed_memory_counts_back() {
        // 20 × 8 MiB allocated, never more than 8 MiB held.
        let out = budgeted(TEMPLATE_MEMORY, || {
            (0..20).map(|_| vec![1u8; 8 << 20].len()).sum::<usize>()
        });
        assert_eq!(out, Ok(160 << 20));
    }

    #[test]
    fn a_render_that_grows_past_the_budget_is_stopped_with_an_error() {
        let out = budgeted(TEMPLATE_MEMORY, || {
            let mut s = String::from("ab");
            for _ in 0..40 {
                s = format!("{s}{s}");
            }
            s.len()
        });
        assert_eq!(out, Err(Exceeded::Render(TEMPLATE_MEMORY)));
        // Renders go on after it.
        assert_eq!(budgeted(TEMPLATE_MEMORY, || 1 + 1), Ok(2));
    }

    #[test]
    fn unbudgeted_work_inside_a_render_is_not_counted() {
        let out = budgeted(TEMPLATE_MEMORY, || {
            unbudgeted(|| vec![0u8; TEMPLATE_MEMORY + 1].len())
        });
        assert_eq!(out, Ok(TEMPLATE_MEMORY + 1));
    }

    #[test]
    fn a_panicking_render_is_lost_not_waited_for() {
        let out = budgeted(TEMPLATE_MEMORY, || -> usize { panic!("boom") });
        assert_eq!(out, Err(Exceeded::Lost));
    }
}
