//! The semantics of steps, for a run and a dry run alike: a recipe's scope, its steps in
//! order, `when`, `for_each` (the list, each item in a scope of its own), and what a body is —
//! a request, a used recipe with its `with` inputs bound, or a block in a scope of its own. A
//! `Visitor` says what differs: what a request does, what a step leaves in scope, what is
//! reported, and how a loop's items are scheduled (a run: lanes and threads; a dry run: one
//! after another).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use minijinja::Value;

use super::auth::AuthContext;
use super::context::{Scope, loop_value};
use crate::plan::bind::{self, Bound, Env, Given};
use crate::plan::{Body, Plan, RecipePlan, RequestPlan, StepPlan, UsesPlan};

pub type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What happens to a step, decided before it runs.
pub enum Next<S> {
    Run,
    /// It does not run; this stands for it (carried over from `--resume`, or not run).
    Instead(S),
    /// No more steps run (the run was interrupted).
    Stop,
}

/// A step whose `when` could not be evaluated.
pub enum WhenUnknown<S> {
    /// The step fails with this.
    Fail(S),
    /// The step is walked as if it ran (a dry run shows what it would send).
    Walk,
}

/// Why a used recipe was not walked.
pub enum UsesFailed {
    /// A `with` value could not be rendered (the message names the field).
    With(String),
    /// The inputs do not bind (each problem's message).
    Inputs(Vec<String>),
}

/// What a run and a dry run each do at the points where they differ.
pub trait Visitor: Sync + Sized {
    /// A recipe, walked.
    type Recipe: Send;
    /// The steps of a recipe or block so far.
    type Steps: Default + Send;
    /// One step, walked.
    type Step: Send;
    /// One execution of a step's body.
    type Body: Send;

    fn plan(&self) -> &Plan;
    fn bound(&self) -> &Bound;
    fn env(&self) -> &Env;

    /// The recipe's steps were walked: what the recipe comes to (its outputs).
    fn recipe_done(&self, recipe: &RecipePlan, scope: Scope, steps: Self::Steps) -> Self::Recipe;

    /// Before each step (`top`: a step of the root recipe itself).
    fn before(
        &self,
        steps: &mut Self::Steps,
        step: &StepPlan,
        scope: &mut Scope,
        top: bool,
    ) -> Next<Self::Step>;
    /// A step is over (`top`: of the root recipe itself); `false` stops the steps after it.
    fn after(
        &self,
        steps: &mut Self::Steps,
        step: &StepPlan,
        result: Self::Step,
        top: bool,
    ) -> bool;

    /// `when` was false.
    fn skipped(&self, step: &StepPlan) -> Self::Step;
    /// `when` could not be evaluated. (`started`: when the step began.)
    fn when_unknown(
        &self,
        step: &StepPlan,
        error: &minijinja::Error,
        started: Instant,
    ) -> WhenUnknown<Self::Step>;

    /// A step without `for_each` is about to run its body.
    fn started(&self, step: &StepPlan);
    /// Its body ran: what it leaves in scope, and the step.
    fn ran(
        &self,
        step: &StepPlan,
        scope: &mut Scope,
        body: Self::Body,
        started: Instant,
    ) -> Self::Step;

    /// A `for_each` step, with its list evaluated (or why it could not be). Runs the items
    /// (each in its `item_scope`, through `Walker::body`) and says what the loop leaves in
    /// scope.
    #[allow(clippy::too_many_arguments)]
    fn each<'s>(
        &'s self,
        walker: Walker<'s, Self>,
        step: &'s StepPlan,
        list: Result<crate::exec::schedule::Items, String>,
        scope: &'s mut Scope,
        auth: &'s AuthContext,
        top: bool,
        started: Instant,
    ) -> impl Future<Output = Self::Step> + Send + 's;

    /// The body is a request.
    fn request<'s>(
        &'s self,
        step: &'s StepPlan,
        plan: &'s RequestPlan,
        scope: &'s mut Scope,
        auth: &'s AuthContext,
        keep: bool,
    ) -> impl Future<Output = Self::Body> + Send + 's;
    /// A used recipe is about to be walked.
    fn using(&self, step: &StepPlan, uses: &UsesPlan);
    /// The used recipe was not walked.
    fn uses_failed(
        &self,
        step: &StepPlan,
        uses: &UsesPlan,
        why: UsesFailed,
        scope: &mut Scope,
    ) -> Self::Body;
    /// The used recipe was walked (from `started`): what it leaves in the step's scope.
    fn used(
        &self,
        step: &StepPlan,
        uses: &UsesPlan,
        recipe: Self::Recipe,
        scope: &mut Scope,
        started: Instant,
    ) -> Self::Body;
    /// A block was walked (from `started`) in `inner`, a copy of `scope`: what it leaves in
    /// `scope`.
    fn block(
        &self,
        step: &StepPlan,
        block: &[StepPlan],
        inner: Scope,
        steps: Self::Steps,
        scope: &mut Scope,
        started: Instant,
    ) -> Self::Body;
    /// After any body: the step's checks, and what is kept of the body (`keep`).
    fn checked(&self, step: &StepPlan, scope: &Scope, body: &mut Self::Body, keep: bool);
}

/// Walks recipes for a visitor.
pub struct Walker<'v, V> {
    pub visitor: &'v V,
}

impl<V> Clone for Walker<'_, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Walker<'_, V> {}

impl<'v, V: Visitor> Walker<'v, V> {
    pub fn new(visitor: &'v V) -> Walker<'v, V> {
        Walker { visitor }
    }

    /// A recipe with `inputs`: its steps in a scope of its inputs and secrets.
    pub fn recipe<'s>(
        self,
        recipe: &'s RecipePlan,
        inputs: &'s Arc<serde_json::Map<String, serde_json::Value>>,
    ) -> Boxed<'s, V::Recipe>
    where
        'v: 's,
    {
        Box::pin(async move {
            let bound = self.visitor.bound();
            let top = recipe.id == 0;
            // The root recipe's inputs may have rows read in place; a `uses:` recipe's are its
            // `with`, bound as values.
            let rows = match top {
                true => bound.rows.clone(),
                false => Default::default(),
            };
            let mut scope = Scope::of_inputs(inputs, &rows, &bound.secrets[recipe.id]);
            let templates = &self.visitor.plan().templates;
            let auth = AuthContext::new(scope.value(), recipe.client_cert.as_ref(), templates);
            let steps = self.steps(&recipe.steps, &mut scope, &auth, top).await;
            self.visitor.recipe_done(recipe, scope, steps)
        })
    }

    /// Steps in order.
    pub fn steps<'s>(
        self,
        steps: &'s [StepPlan],
        scope: &'s mut Scope,
        auth: &'s AuthContext,
        top: bool,
    ) -> Boxed<'s, V::Steps>
    where
        'v: 's,
    {
        Box::pin(async move {
            let mut done = V::Steps::default();
            for step in steps {
                let result = match self.visitor.before(&mut done, step, scope, top) {
                    Next::Run => self.step(step, scope, auth, top).await,
                    Next::Instead(result) => result,
                    Next::Stop => break,
                };
                if !self.visitor.after(&mut done, step, result, top) {
                    break;
                }
            }
            done
        })
    }

    /// One step: `when`, then its loop or its body.
    async fn step(
        self,
        step: &StepPlan,
        scope: &mut Scope,
        auth: &AuthContext,
        top: bool,
    ) -> V::Step {
        let visitor = self.visitor;
        let started = Instant::now();
        if let Some(when) = &step.when {
            match visitor.plan().templates.truthy(when, &scope.value()) {
                Ok(true) => {}
                Ok(false) => return visitor.skipped(step),
                Err(error) => {
                    if let WhenUnknown::Fail(result) = visitor.when_unknown(step, &error, started) {
                        return result;
                    }
                }
            }
        }
        match &step.each {
            Some(each) => {
                use crate::exec::schedule::Items;
                use crate::plan::Sequence;
                let list = match visitor
                    .plan()
                    .templates
                    .sequence(&each.list, &scope.value())
                {
                    Ok(Sequence::Json(serde_json::Value::Array(items))) => Ok(Items::List(items)),
                    Ok(Sequence::Lazy(seq, len)) => Ok(Items::Lazy(seq, len)),
                    Ok(Sequence::Json(other)) => {
                        Err(format!("expected a list, found `{}`", preview(&other)))
                    }
                    Err(error) => Err(super::request::describe(&error)),
                };
                visitor
                    .each(self, step, list, scope, auth, top, started)
                    .await
            }
            None => {
                visitor.started(step);
                let body = self.body(step, scope, auth, true).await;
                visitor.ran(step, scope, body, started)
            }
        }
    }

    /// One execution of a step's body; `keep`: whether its `steps.<id>` value is wanted. (Not
    /// boxed: the items of a loop run it, and the recursion goes through `steps` and `recipe`.)
    pub async fn body(
        self,
        step: &StepPlan,
        scope: &mut Scope,
        auth: &AuthContext,
        keep: bool,
    ) -> V::Body {
        {
            let visitor = self.visitor;
            let started = Instant::now();
            let mut body = match &step.body {
                Body::Request(plan) => visitor.request(step, plan, scope, auth, keep).await,
                Body::Uses(uses) => match self.bind_uses(uses, scope) {
                    Ok(inputs) => {
                        visitor.using(step, uses);
                        let inputs = Arc::new(inputs);
                        let recipe = self.recipe(&uses.recipe, &inputs).await;
                        visitor.used(step, uses, recipe, scope, started)
                    }
                    Err(why) => visitor.uses_failed(step, uses, why, scope),
                },
                Body::Block(block) => {
                    let mut inner = scope.clone();
                    let steps = self.steps(block, &mut inner, auth, false).await;
                    visitor.block(step, block, inner, steps, scope, started)
                }
            };
            visitor.checked(step, scope, &mut body, keep);
            body
        }
    }

    /// The inputs a `uses` step gives its recipe: each `with` value rendered in `scope`, then
    /// bound like any recipe's inputs.
    fn bind_uses(
        self,
        uses: &UsesPlan,
        scope: &Scope,
    ) -> Result<serde_json::Map<String, serde_json::Value>, UsesFailed> {
        let plan = self.visitor.plan();
        let ctx = scope.value();
        let mut given = indexmap::IndexMap::new();
        for (name, tpl) in &uses.with {
            let value = plan.templates.value(tpl, &ctx).map_err(|e| {
                UsesFailed::With(format!(
                    "field `with.{name}`: {}",
                    super::request::describe(&e)
                ))
            })?;
            given.insert(name.clone(), Given::Value(value));
        }
        bind::bind_inputs(&uses.recipe, &given, self.visitor.env(), None).map_err(|problems| {
            UsesFailed::Inputs(problems.into_iter().map(|d| d.message).collect())
        })
    }
}

/// The scope of one item of a loop: `base` with the loop variable `var` and `loop`.
pub fn item_scope(
    base: &Scope,
    var: &Arc<str>,
    loop_name: &Arc<str>,
    item: Value,
    index: usize,
    length: usize,
) -> Scope {
    base.with_local([
        (var.clone(), item),
        (loop_name.clone(), loop_value(index, length)),
    ])
    .for_item(index, var)
}

/// Capture names a block of steps produces (collected as lists after a loop).
pub fn produced(steps: &[StepPlan]) -> Vec<String> {
    let mut names = Vec::new();
    for step in steps {
        names.extend(step.captures.iter().map(|c| c.name.clone()));
        match &step.body {
            Body::Uses(uses) => names.extend(uses.recipe.outputs.iter().map(|(n, _)| n.clone())),
            Body::Block(block) => names.extend(produced(block)),
            Body::Request(_) => {}
        }
    }
    names
}

/// A value in messages: its JSON, cut at 80 characters.
pub fn preview(value: &serde_json::Value) -> String {
    crate::event::shorten(&value.to_string(), 80)
}
