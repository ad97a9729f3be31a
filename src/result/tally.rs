//! What a loop's items add up to: the counts, the status, the summary error and the counted
//! warnings of a `for_each` step — computed from its iterations alone, so that the runner, the
//! on-disk spool of a large loop and `whisk report merge` (which joins shards' iterations) say
//! the same. Items may be added in any order and tallies merged: what depends on the order
//! (the first error, each warning's first indexes and the order warnings are listed in) is
//! taken by item index, as if the items had come in index order.

use indexmap::IndexMap;

use super::{ErrorInfo, ErrorKind, Iteration, Status, StepResult};

/// Warnings listed with the first this many item indexes.
const SHOWN: usize = 10;

/// The running totals of a loop's iterations.
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
    /// The failed item of the lowest index, and its error.
    first_error: Option<(usize, ErrorInfo)>,
    /// Each warning once: where it first came (item index, place in that item's list), how
    /// many items had it and their lowest indexes, ascending.
    warnings: IndexMap<String, Seen>,
}

#[derive(Debug)]
struct Seen {
    first: (usize, usize),
    count: usize,
    lowest: Vec<usize>,
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
        if let Some(error) = &it.error
            && self
                .first_error
                .as_ref()
                .is_none_or(|(at, _)| it.index < *at)
        {
            self.first_error = Some((it.index, error.clone()));
        }
        let auth = it.error.as_ref().is_some_and(|e| e.kind == ErrorKind::Auth);
        self.auth_kind |= auth;
        self.auth_failed |= auth
            || it
                .run
                .steps
                .as_ref()
                .is_some_and(|s| s.iter().any(super::step_auth));
        for (place, warning) in it.warnings.iter().enumerate() {
            let seen = Seen {
                first: (it.index, place),
                count: 1,
                lowest: vec![it.index],
            };
            match self.warnings.get_mut(warning) {
                Some(known) => known.join(seen),
                None => {
                    self.warnings.insert(warning.clone(), seen);
                }
            }
        }
    }

    /// Adds the items `other` tallied.
    pub fn merge(&mut self, other: Tally) {
        self.items += other.items;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.interrupted += other.interrupted;
        self.carried += other.carried;
        self.auth_failed |= other.auth_failed;
        self.auth_kind |= other.auth_kind;
        if let Some((at, error)) = other.first_error
            && self.first_error.as_ref().is_none_or(|(mine, _)| at < *mine)
        {
            self.first_error = Some((at, error));
        }
        for (warning, seen) in other.warnings {
            match self.warnings.get_mut(&warning) {
                Some(known) => known.join(seen),
                None => {
                    self.warnings.insert(warning, seen);
                }
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
        let mut warnings: Vec<(String, Seen)> = self.warnings.into_iter().collect();
        warnings.sort_by_key(|(_, seen)| seen.first);
        step.warnings = warnings
            .into_iter()
            .map(|(warning, Seen { count, lowest, .. })| {
                let mut list: Vec<String> = lowest.iter().map(usize::to_string).collect();
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
            .map(|(_, e)| (e.message, e.location))
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

impl Seen {
    fn join(&mut self, other: Seen) {
        self.first = self.first.min(other.first);
        self.count += other.count;
        self.lowest.extend(other.lowest);
        self.lowest.sort_unstable();
        self.lowest.truncate(SHOWN);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn iteration(index: usize) -> Iteration {
        let failed = index % 5 == 3;
        let error = failed.then(|| ErrorInfo::new(ErrorKind::Check, format!("item {index}")));
        Iteration {
            warnings: match index % 3 {
                0 => vec!["threes".into()],
                1 if index > 20 => vec!["late".into(), "ones".into()],
                _ => Vec::new(),
            },
            ..Iteration::of_test(index, serde_json::json!(index), error)
        }
    }

    fn finished(tally: Tally) -> StepResult {
        let mut step = StepResult::new("fan", Status::Succeeded);
        tally.finish(&mut step, 40);
        step
    }

    #[test]
    fn items_in_any_order_and_merged_tallies_say_what_index_order_says() {
        let mut in_order = Tally::default();
        (0..40).for_each(|i| in_order.add(&iteration(i)));
        let expected = finished(in_order);
        assert_eq!(
            expected.warnings[0],
            "threes, in 14 of 40 items (index 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, ...)"
        );
        assert!(expected.warnings[1].starts_with("late, in 6 of 40 items (index 22"));
        let mut reversed = Tally::default();
        (0..40).rev().for_each(|i| reversed.add(&iteration(i)));
        let (mut odd, mut even) = (Tally::default(), Tally::default());
        for i in (0..40).rev() {
            if i % 2 == 1 { &mut odd } else { &mut even }.add(&iteration(i));
        }
        odd.merge(even);
        for step in [finished(reversed), finished(odd)] {
            assert_eq!(step.warnings, expected.warnings);
            assert_eq!(format!("{:?}", step.error), format!("{:?}", expected.error));
            assert_eq!(
                (step.succeeded, step.failed),
                (expected.succeeded, expected.failed)
            );
        }
    }
}
