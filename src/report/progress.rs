//! Progress of running `for_each` steps on the terminal: an indicatif bar per loop (done/total,
//! failures, rate, ETA) when stderr is a terminal; otherwise a plain line every
//! `LINE_EVERY` for loops that run that long, so CI logs show a long loop is alive.
//!
//! A loop inside a block that runs once per outer item shares one bar per step id: its items
//! add up across the outer items.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often a plain progress line is printed for a loop still running.
pub const LINE_EVERY: Duration = Duration::from_secs(10);

pub struct Progress {
    bars: Option<(MultiProgress, ProgressStyle)>,
    loops: Mutex<HashMap<String, Loop>>,
}

struct Loop {
    total: usize,
    done: usize,
    failed: usize,
    /// Loops with this step id still running (more than one inside a concurrent block).
    open: usize,
    started: Instant,
    last_line: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Bars when `tty`, plain lines otherwise.
    pub fn new(tty: bool, color: bool) -> Progress {
        let bars = tty.then(|| {
            let template = if color {
                "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} items{msg}  {rate}  eta {eta}"
            } else {
                "{prefix} [{bar:30}] {pos}/{len} items{msg}  {rate}  eta {eta}"
            };
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.1}/s", state.per_sec());
                    },
                )
                .progress_chars("=> ");
            (
                MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                style,
            )
        });
        Progress {
            bars,
            loops: Mutex::new(HashMap::new()),
        }
    }

    /// A loop over `items` items started.
    pub fn started(&self, step: &str, items: usize) {
        let mut loops = self.loops.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let entry = loops.entry(step.to_string()).or_insert_with(|| Loop {
            total: 0,
            done: 0,
            failed: 0,
            open: 0,
            started: now,
            last_line: now,
            bar: None,
        });
        entry.total += items;
        entry.open += 1;
        match (&entry.bar, &self.bars) {
            (Some(bar), _) => bar.set_length(entry.total as u64),
            (None, Some((multi, style))) => {
                let bar = multi.add(ProgressBar::new(entry.total as u64));
                bar.set_style(style.clone());
                bar.set_prefix(step.to_string());
                bar.enable_steady_tick(Duration::from_millis(250));
                entry.bar = Some(bar);
            }
            (None, None) => {}
        }
    }

    /// One item of the loop `step` ended; returns a plain line when one is due.
    pub fn item_done(&self, step: &str, succeeded: bool) -> Option<String> {
        let mut loops = self.loops.lock().unwrap_or_else(|e| e.into_inner());
        let entry = loops.get_mut(step)?;
        entry.done += 1;
        if !succeeded {
            entry.failed += 1;
        }
        if let Some(bar) = &entry.bar {
            if !succeeded {
                bar.set_message(format!(", {} failed", entry.failed));
            }
            bar.inc(1);
            return None;
        }
        let now = Instant::now();
        if now.duration_since(entry.last_line) < LINE_EVERY || entry.done >= entry.total {
            return None;
        }
        entry.last_line = now;
        let elapsed = now.duration_since(entry.started).as_secs_f64().max(0.001);
        Some(format!(
            "[{step}] {}/{} items, {} failed, {:.1}/s",
            entry.done,
            entry.total,
            entry.failed,
            entry.done as f64 / elapsed
        ))
    }

    /// The step `step` ended; its bar goes when its last running loop does.
    pub fn finished(&self, step: &str) {
        let mut loops = self.loops.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = loops.get_mut(step) else {
            return;
        };
        entry.open = entry.open.saturating_sub(1);
        if entry.open == 0 {
            if let (Some(bar), Some((multi, _))) = (&entry.bar, &self.bars) {
                bar.finish_and_clear();
                multi.remove(bar);
            }
            loops.remove(step);
        }
    }

    /// Takes every bar off the terminal for good (an interrupted run: what follows are lines).
    pub fn clear(&self) {
        let mut loops = self.loops.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((multi, _)) = &self.bars {
            for entry in loops.values_mut() {
                if let Some(bar) = entry.bar.take() {
                    bar.finish_and_clear();
                    multi.remove(&bar);
                }
            }
            let _ = multi.clear();
        }
    }

    /// Prints `line` on stderr without tearing a bar.
    /// Writes a line with `write` (the bars hidden meanwhile).
    pub fn print(&self, write: impl FnOnce()) {
        match &self.bars {
            Some((multi, _)) => multi.suspend(write),
            None => write(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_mode_counts_and_stays_quiet_for_short_loops() {
        let progress = Progress::new(false, false);
        progress.started("each", 3);
        assert_eq!(progress.item_done("each", true), None);
        assert_eq!(progress.item_done("each", false), None);
        {
            let loops = progress.loops.lock().unwrap();
            assert_eq!((loops["each"].done, loops["each"].failed), (2, 1));
        }
        progress.finished("each");
        assert!(progress.loops.lock().unwrap().is_empty());
        assert_eq!(progress.item_done("each", true), None);
    }

    #[test]
    fn loops_sharing_an_id_add_up() {
        let progress = Progress::new(false, false);
        progress.started("inner", 2);
        progress.started("inner", 3);
        progress.finished("inner");
        assert_eq!(progress.loops.lock().unwrap()["inner"].total, 5);
        progress.finished("inner");
        assert!(progress.loops.lock().unwrap().is_empty());
    }
}
