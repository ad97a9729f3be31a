//! A run: the `Visitor` that sends requests, checks and captures their answers, and writes
//! down results — steps in order (`steps`), one step (`step`), a loop's items on lanes and
//! threads (`each`), a body (`body`), an answer (`response`).

mod body;
mod each;
mod pages;
mod poll;
mod response;
mod step;
mod steps;

pub(crate) use steps::blank as blank_result;

pub use steps::{RecipeOutcome, StepsOutcome};

use std::time::Instant;

use super::RunOptions;
use super::auth::{AuthContext, AuthManager};
use super::client::Client;
use super::context::Scope;
use super::limits::Limits;
use super::step_data::StepData;
use super::walk::{Next, UsesFailed, Visitor, Walker, WhenUnknown};
use crate::event::{EventSink, Interest};
use crate::plan::bind::{Bound, Env};
use crate::plan::{Plan, RecipePlan, RequestPlan, StepPlan, UsesPlan};
use crate::result::{ErrorInfo, Execution, StepResult};

/// What a run shares: the plan and its values, the client, the token manager, the limits,
/// where events go, and the run's settings.
pub struct Runner<'a> {
    pub plan: &'a Plan,
    pub bound: &'a Bound,
    /// How every request of the run is sent.
    pub client: Client,
    pub auth: AuthManager,
    pub limits: Limits,
    pub events: Events<'a>,
    pub options: RunOptions,
}

/// Where a run's events go, and what the sink looks at (asked once).
pub struct Events<'a> {
    pub sink: &'a dyn EventSink,
    pub interest: Interest,
}

/// One execution of a step body.
#[derive(Default)]
pub struct BodyOutcome {
    pub run: Execution,
    /// `steps.<id>` fields of this execution: status, headers, body, duration_ms.
    pub data: StepData,
    pub error: Option<ErrorInfo>,
    /// See `StepResult::warnings`.
    pub warnings: Vec<String>,
}

impl<'a> Visitor for Runner<'a> {
    type Recipe = RecipeOutcome;
    type Steps = StepsOutcome;
    type Step = StepResult;
    type Body = BodyOutcome;

    fn plan(&self) -> &Plan {
        self.plan
    }

    fn bound(&self) -> &Bound {
        self.bound
    }

    fn env(&self) -> &Env {
        &self.options.env
    }

    fn recipe_done(&self, recipe: &RecipePlan, scope: Scope, steps: StepsOutcome) -> RecipeOutcome {
        self.recipe_done(recipe, scope, steps)
    }

    fn before(
        &self,
        steps: &mut StepsOutcome,
        step: &StepPlan,
        scope: &mut Scope,
        top: bool,
    ) -> Next<StepResult> {
        self.before(steps, step, scope, top)
    }

    fn after(
        &self,
        steps: &mut StepsOutcome,
        step: &StepPlan,
        result: StepResult,
        top: bool,
    ) -> bool {
        if top {
            self.events.sink.step_done(&result);
        }
        self.after(steps, step, result)
    }

    fn skipped(&self, step: &StepPlan) -> StepResult {
        self.skipped(step)
    }

    fn when_unknown(
        &self,
        step: &StepPlan,
        error: &minijinja::Error,
        started: Instant,
    ) -> WhenUnknown<StepResult> {
        WhenUnknown::Fail(self.when_failed(step, error, started))
    }

    fn started(&self, step: &StepPlan) {
        self.started(step);
    }

    fn ran(
        &self,
        step: &StepPlan,
        scope: &mut Scope,
        body: BodyOutcome,
        started: Instant,
    ) -> StepResult {
        self.ran(step, scope, body, started)
    }

    fn each<'s>(
        &'s self,
        walker: Walker<'s, Self>,
        step: &'s StepPlan,
        list: Result<crate::exec::schedule::Items, String>,
        scope: &'s mut Scope,
        auth: &'s AuthContext,
        top: bool,
        started: Instant,
    ) -> impl std::future::Future<Output = StepResult> + Send + 's {
        self.each(walker, step, list, scope, auth, top, started)
    }

    fn request<'s>(
        &'s self,
        step: &'s StepPlan,
        plan: &'s RequestPlan,
        scope: &'s mut Scope,
        auth: &'s AuthContext,
        keep: bool,
    ) -> impl std::future::Future<Output = BodyOutcome> + Send + 's {
        self.request(step, plan, scope, auth, keep)
    }

    fn using(&self, _: &StepPlan, _: &UsesPlan) {}

    fn uses_failed(
        &self,
        step: &StepPlan,
        uses: &UsesPlan,
        why: UsesFailed,
        _: &mut Scope,
    ) -> BodyOutcome {
        self.uses_failed(step, uses, why)
    }

    fn used(
        &self,
        step: &StepPlan,
        uses: &UsesPlan,
        recipe: RecipeOutcome,
        scope: &mut Scope,
        started: Instant,
    ) -> BodyOutcome {
        self.used(step, uses, recipe, scope, started)
    }

    fn block(
        &self,
        step: &StepPlan,
        block: &[StepPlan],
        inner: Scope,
        steps: StepsOutcome,
        scope: &mut Scope,
        started: Instant,
    ) -> BodyOutcome {
        self.block(step, block, inner, steps, scope, started)
    }

    fn checked(&self, step: &StepPlan, scope: &Scope, body: &mut BodyOutcome, keep: bool) {
        if body.error.is_none() {
            self.checks(step, scope, body);
        }
        if !keep {
            body.data = StepData::default();
        }
    }
}
