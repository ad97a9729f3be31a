//! Masking a finished result in place: every string a writer could show (URLs, messages,
//! captures, items, redirect locations, check texts) with each secret replaced by `***`. The
//! report writers take results only as `redact::Masked`, which is made by this.

use crate::redact::{Mask, Masker};

use super::{Attempt, CheckResult, ErrorInfo, Exchange, Execution, Hop, Iteration, RunResult};
use super::{Status, StepResult};

impl Mask for Status {
    fn mask(&mut self, _: &Masker) {}
}

impl Mask for RunResult {
    fn mask(&mut self, masker: &Masker) {
        self.steps.mask(masker);
        self.outputs.mask(masker);
        self.error.mask(masker);
    }
}

impl Mask for StepResult {
    fn mask(&mut self, masker: &Masker) {
        self.id.mask(masker);
        self.name.mask(masker);
        self.run.mask(masker);
        if let Some(iterations) = &mut self.iterations {
            mask_in_parallel(iterations, masker);
        }
        // Spooled iterations were masked as they were written; secrets learned since are
        // masked as the writers copy them.
        if let Some(spooled) = &self.spooled {
            spooled.mask_with(masker);
        }
        self.error.mask(masker);
        for warning in &mut self.warnings {
            warning.mask(masker);
        }
    }
}

/// Lists of iterations shorter than this are masked by this thread alone.
const PARALLEL_ITEMS: usize = 2048;

/// Masks a long list of iterations in two halves, one on a helper thread: a fan-out's report
/// is mostly its iterations.
fn mask_in_parallel(items: &mut [Iteration], masker: &Masker) {
    if items.len() < PARALLEL_ITEMS {
        items.iter_mut().for_each(|item| item.mask(masker));
        return;
    }
    let (first, second) = items.split_at_mut(items.len() / 2);
    std::thread::scope(|scope| {
        let helper = scope.spawn(|| first.iter_mut().for_each(|item| item.mask(masker)));
        second.iter_mut().for_each(|item| item.mask(masker));
        if let Err(panic) = helper.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

impl Mask for Iteration {
    fn mask(&mut self, masker: &Masker) {
        self.item.mask(masker);
        self.run.mask(masker);
        self.error.mask(masker);
        for warning in &mut self.warnings {
            warning.mask(masker);
        }
    }
}

impl Mask for Execution {
    fn mask(&mut self, masker: &Masker) {
        self.request.mask(masker);
        for page in &mut self.pages {
            page.mask(masker);
        }
        if let Some(polls) = &mut self.polls {
            for poll in &mut polls.entries {
                if let Some(captures) = &mut poll.captures {
                    captures.mask(masker);
                }
            }
        }
        self.steps.mask(masker);
        self.captures.mask(masker);
        self.checks.mask(masker);
    }
}

impl Mask for Exchange {
    fn mask(&mut self, masker: &Masker) {
        self.method.mask(masker);
        self.url.mask(masker);
        self.attempts.mask(masker);
    }
}

impl Mask for Attempt {
    fn mask(&mut self, masker: &Masker) {
        self.redirects.mask(masker);
        self.outcome.mask(masker);
        self.error.mask(masker);
    }
}

impl Mask for Hop {
    fn mask(&mut self, masker: &Masker) {
        self.location.mask(masker);
    }
}

impl Mask for CheckResult {
    fn mask(&mut self, masker: &Masker) {
        self.that.mask(masker);
        self.message.mask(masker);
    }
}

impl Mask for ErrorInfo {
    fn mask(&mut self, masker: &Masker) {
        self.message.mask(masker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::ErrorKind;

    #[test]
    fn every_string_of_a_result_is_masked() {
        let redactor = crate::redact::Redactor::new();
        redactor.add("s3cr3t");
        let exchange = Exchange {
            method: "GET".into(),
            url: "https://x/?k=s3cr3t".into(),
            status: Some(302),
            attempts: vec![Attempt {
                status: Some(302),
                duration_ms: 1,
                redirects: vec![Hop {
                    status: 302,
                    location: "https://y/s3cr3t".into(),
                    auth_forwarded: false,
                }],
                outcome: None,
                wait_ms: None,
                error: Some("no s3cr3t".into()),
            }],
        };
        let mut captures = serde_json::Map::new();
        captures.insert("s3cr3t".into(), serde_json::json!(["a s3cr3t"]));
        let mut polls = crate::result::Polls::new();
        polls.push(crate::result::Poll {
            n: 1,
            status: Some(202),
            duration_ms: 1,
            attempts: 1,
            wait_ms: None,
            captures: Some(captures.clone()),
        });
        let run = Execution {
            pages: vec![exchange.clone()],
            polls: Some(Box::new(polls)),
            request: Some(exchange),
            steps: None,
            captures,
            checks: vec![CheckResult {
                that: "x == 's3cr3t'".into(),
                passed: false,
                message: Some("s3cr3t".into()),
            }],
        };
        let mut result = RunResult {
            status: Status::Failed,
            steps: vec![StepResult {
                name: Some("s3cr3t".into()),
                iterations: Some(vec![Iteration {
                    index: 0,
                    item: serde_json::json!({"k": "s3cr3t"}),
                    status: Status::Failed,
                    duration_ms: 0,
                    run,
                    error: Some(ErrorInfo::new(ErrorKind::Check, "s3cr3t")),
                    warnings: Vec::new(),
                    carried_over: false,
                }]),
                ..StepResult::new("a", Status::Failed)
            }],
            outputs: Some(serde_json::Map::from_iter([(
                "o".to_string(),
                serde_json::json!("s3cr3t"),
            )])),
            error: None,
        };
        result.mask(&redactor.masker());
        let text = serde_json::to_string(&result).unwrap();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert_eq!(text.matches("***").count(), 16, "{text}");
    }
}
