//! What a loop's items add up to: the counts, the status, the summary error and the counted
//! warnings of a `for_each` step — computed from its iterations alone, fed in index order, so
//! that the runner, the on-disk spool of a large loop and `whisk report merge` (which joins
//! shards' iterations) say the same.

use indexmap::IndexMap;

use super::{ErrorInfo, ErrorKind, Iteration, Status, StepResult};

/// Warnings listed with the first this many item indexes.
const SHOWN: usize = 10;

/// The running totals of a loop's iterations, taken one at a time in index order.
#[derive(Debug, Default)]
pub struct Tally {
    pub items: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub interrupted: usize,
    pub carried: usize,
    /// An item failed to authenticate (its own error, or one of its inner steps').
    pub auth_failed: bool,
    /// An item's own error is an authentication failure (the loop's error then is one too).
    auth_kind: bool,
    /// The first failed item's error.
    first_error: Option<ErrorInfo>,
    /// Each warning once: how many items had it and the first indexes.
    warnings: IndexMap<String, (usize, Vec<usize>)>,
}

impl Tally {
    pub fn add(&mut self, it: &Iteration) {
        self.items += 1;
        match it.status {
            Status::Succeeded => self.succeeded += 1,
            Status::Failed => self.failed += 1,
            Status::Interrupted => self.interrupted += 1,
            Status::Skipped | Status::NotRun => {}
        }
        self.carried += usize::from(it.carried_over);
        if self.first_error.is_none()
            && let Some(error) = &it.error
        {
            self.first_error = Some(error.clone());
        }
        let auth = it.error.as_ref().is_some_and(|e| e.kind == ErrorKind::Auth);
        self.auth_kind |= auth;
        self.auth_failed |= auth
            || it
                .run
                .steps
                .as_ref()
                .is_some_and(|s| s.iter().any(super::step_auth));
        for warning in &it.warnings {
            let (count, first) = self.warnings.entry(warning.clone()).or_default();
            *count += 1;
            if first.len() < SHOWN {
                first.push(it.index);
            }
        }
    }

    /// Fills in `step`'s counts, status, error and warnings; `listed` is how many items the
    /// whole list had.
    pub fn finish(self, step: &mut StepResult, listed: usize) {
        step.status = if self.failed > 0 {
            Status::Failed
        } else if self.interrupted > 0 {
            Status::Interrupted
        } else {
            Status::Succeeded
        };
        step.error = (self.failed > 0).then(|| self.loop_error(&step.id));
        step.succeeded = Some(self.succeeded);
        step.failed = Some(self.failed);
        let items = self.items;
        step.warnings = self
            .warnings
            .into_iter()
            .map(|(warning, (count, first))| {
                let mut list: Vec<String> = first.iter().map(usize::to_string).collect();
                if count > SHOWN {
                    list.push("...".into());
                }
                format!(
                    "{warning}, in {count} of {} (index {})",
                    crate::plural::count(items, "item", "items"),
                    list.join(", ")
                )
            })
            .collect();
        if listed == 0 {
            step.warnings.push(format!(
                "`for_each` gave no items: step `{}` sent nothing",
                step.id
            ));
        }
    }

    /// The summary of a loop with failed items: how many, and the first one's message and
    /// place.
    fn loop_error(&self, id: &str) -> ErrorInfo {
        let (first_message, location) = self
            .first_error
            .clone()
            .map(|e| (e.message, e.location))
            .unwrap_or_default();
        let mut error = ErrorInfo::new(
            if self.auth_kind {
                ErrorKind::Auth
            } else {
                ErrorKind::Iteration
            },
            format!(
                "{} of {} of step `{id}` failed; the first: {first_message}",
                self.failed,
                crate::plural::count(self.items, "iteration", "iterations"),
            ),
        );
        error.location = location;
        error
    }
}

impl StepResult {
    /// Fills in the loop's counts, status, error and warnings from `iterations` (in index
    /// order) and keeps them; `listed` is how many items the whole list had.
    pub fn tally(&mut self, iterations: Vec<Iteration>, listed: usize) {
        let mut tally = Tally::default();
        iterations.iter().for_each(|it| tally.add(it));
        tally.finish(self, listed);
        self.iterations = Some(iterations);
    }
}
