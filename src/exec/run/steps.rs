//! Steps in order: a failed step (without `continue_on_error`) or a refused token stops the
//! rest, which are listed as not run; an interruption stops at once; steps that succeeded in
//! the report given to `--resume` are carried over. A recipe's outputs once its steps ran.

use super::Runner;
use crate::exec::context::Scope;
use crate::exec::walk::Next;
use crate::plan::{RecipePlan, StepPlan};
use crate::result::{ErrorInfo, ErrorKind, Status, StepResult};

/// The steps of one recipe or block, run.
#[derive(Default)]
pub struct StepsOutcome {
    pub results: Vec<StepResult>,
    pub failed: bool,
    /// Stopped early: a step failed without `continue_on_error`, or authentication failed.
    pub aborted: bool,
    /// Stopped early by SIGINT/SIGTERM.
    pub interrupted: bool,
}

/// One run of a recipe (the root, or a used one).
pub struct RecipeOutcome {
    pub steps: Vec<StepResult>,
    pub outputs: Option<serde_json::Map<String, serde_json::Value>>,
    pub failed: bool,
    pub interrupted: bool,
    pub error: Option<ErrorInfo>,
}

impl Runner<'_> {
    pub(super) fn before(
        &self,
        steps: &mut StepsOutcome,
        step: &StepPlan,
        scope: &mut Scope,
        top: bool,
    ) -> Next<StepResult> {
        if steps.aborted {
            // Listed, so that reports show every step the recipe has.
            return Next::Instead(blank(step, Status::NotRun));
        }
        if self.options.stop.stopping() {
            steps.interrupted = true;
            return Next::Stop;
        }
        if top
            && step.each.is_none()
            && !step.every_shard
            && self.options.shard.is_some_and(|s| !s.runs_single_steps())
        {
            // Shard 0 runs it; the merged report has it from there.
            return Next::Instead(blank(step, Status::Skipped));
        }
        match self.carried(step, scope, top) {
            Some(result) => Next::Instead(result),
            None => Next::Run,
        }
    }

    /// Records a step; `false` when no more steps run.
    pub(super) fn after(
        &self,
        steps: &mut StepsOutcome,
        step: &StepPlan,
        result: StepResult,
    ) -> bool {
        if result.status == Status::NotRun {
            steps.results.push(result);
            return true;
        }
        if result.status == Status::Interrupted {
            steps.interrupted = true;
            steps.results.push(result);
            return false;
        }
        let failed = result.status == Status::Failed;
        let auth = result
            .error
            .as_ref()
            .is_some_and(|e| e.kind == ErrorKind::Auth);
        steps.results.push(result);
        if failed {
            steps.failed = true;
            if !step.continue_on_error || auth {
                steps.aborted = true;
            }
        }
        true
    }

    /// A recipe's steps ran: its outputs, unless it stopped early.
    pub(super) fn recipe_done(
        &self,
        recipe: &RecipePlan,
        scope: Scope,
        steps: StepsOutcome,
    ) -> RecipeOutcome {
        let mut error = None;
        let mut failed = steps.failed;
        let interrupted = steps.interrupted;
        // Shard 0 computes the root recipe's outputs, as it runs the steps outside loops.
        let other_shard =
            recipe.id == 0 && self.options.shard.is_some_and(|s| !s.runs_single_steps());
        let outputs = if steps.aborted || interrupted || other_shard {
            None
        } else {
            let ctx = scope.value();
            let mut outputs = serde_json::Map::new();
            for (name, tpl) in &recipe.outputs {
                match self.plan.templates.json(tpl, &ctx) {
                    Ok(value) => {
                        outputs.insert(name.clone(), value);
                    }
                    Err(e) => {
                        error = Some(ErrorInfo::new(
                            ErrorKind::Template,
                            format!("output `{name}`: {}", crate::exec::request::describe(&e)),
                        ));
                        failed = true;
                        break;
                    }
                }
            }
            Some(outputs)
        };
        if recipe.id == 0 && self.options.exit_after {
            // `steps.<id>` of every step: thousands of values after a fan-out, each freed
            // on its own. The process ends with the run and frees them all at once.
            std::mem::forget(scope);
        }
        RecipeOutcome {
            steps: steps.results,
            outputs,
            failed,
            interrupted,
            error,
        }
    }
}

impl Runner<'_> {
    /// A step of the root recipe that succeeded in the report given to `--resume`.
    fn carried(&self, step: &StepPlan, scope: &mut Scope, top: bool) -> Option<StepResult> {
        if !top {
            return None;
        }
        let resume = self.options.resume.as_ref()?;
        resume.carry_step(step, scope, self.events.sink)
    }
}

/// The result of `step` before anything is known about its run.
pub(crate) fn blank(step: &StepPlan, status: Status) -> StepResult {
    StepResult {
        name: step.name.clone(),
        ..StepResult::new(step.id.clone(), status)
    }
}
