//! What a loop's items add up to: the counts, the status, the summary error and the counted
//! warnings of a `for_each` step — computed from its iterations alone, so that the runner and
//! `whisk report merge` (which joins shards' iterations) say the same.

use super::{ErrorInfo, ErrorKind, Iteration, Status, StepResult};

/// Warnings listed with the first this many item indexes.
const SHOWN: usize = 10;

impl StepResult {
    /// Fills in the loop's counts, status, error and warnings from `iterations` (in index
    /// order) and keeps them; `listed` is how many items the whole list had.
    pub fn tally(&mut self, iterations: Vec<Iteration>, listed: usize) {
        let count = |status: Status| iterations.iter().filter(|it| it.status == status).count();
        let succeeded = count(Status::Succeeded);
        let failures = count(Status::Failed);
        let interrupted = count(Status::Interrupted) > 0;
        self.status = if failures > 0 {
            Status::Failed
        } else if interrupted {
            Status::Interrupted
        } else {
            Status::Succeeded
        };
        self.error = (failures > 0).then(|| loop_error(&self.id, &iterations, failures));
        self.succeeded = Some(succeeded);
        self.failed = Some(failures);
        self.warnings = loop_warnings(&iterations);
        if listed == 0 {
            self.warnings.push(format!(
                "`for_each` gave no items: step `{}` sent nothing",
                self.id
            ));
        }
        self.iterations = Some(iterations);
    }
}

/// The summary of a loop with failed items: how many, and the first one's message and place.
fn loop_error(id: &str, iterations: &[Iteration], failures: usize) -> ErrorInfo {
    let first = iterations.iter().find_map(|it| it.error.clone());
    let auth = iterations
        .iter()
        .any(|it| it.error.as_ref().is_some_and(|e| e.kind == ErrorKind::Auth));
    let (first_message, location) = first.map(|e| (e.message, e.location)).unwrap_or_default();
    let mut error = ErrorInfo::new(
        if auth {
            ErrorKind::Auth
        } else {
            ErrorKind::Iteration
        },
        format!(
            "{failures} of {} of step `{id}` failed; the first: {first_message}",
            crate::plural::count(iterations.len(), "iteration", "iterations"),
        ),
    );
    error.location = location;
    error
}

/// The warnings of a loop's items, each once, with how many items had it and the first few.
fn loop_warnings(iterations: &[Iteration]) -> Vec<String> {
    let mut seen: indexmap::IndexMap<&str, Vec<usize>> = indexmap::IndexMap::new();
    for it in iterations {
        for warning in &it.warnings {
            seen.entry(warning.as_str()).or_default().push(it.index);
        }
    }
    seen.into_iter()
        .map(|(warning, items)| {
            let mut list: Vec<String> = items.iter().take(SHOWN).map(usize::to_string).collect();
            if items.len() > SHOWN {
                list.push("...".into());
            }
            format!(
                "{warning}, in {} of {} (index {})",
                items.len(),
                crate::plural::count(iterations.len(), "item", "items"),
                list.join(", ")
            )
        })
        .collect()
}
