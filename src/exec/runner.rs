//! The step loop: steps in order, `when`, `for_each` with bounded concurrency (results kept in
//! item order), blocks, `uses`, captures, checks, `continue_on_error`, outputs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use minijinja::Value;

use super::RunOptions;
use super::auth::{AuthContext, AuthManager};
use super::capture::{self, ResponseView};
use super::context::{Scope, loop_value};
use super::http::Incoming;
use super::items::{Outcomes, Queue};
use super::limits::RateLimits;
use super::request::{self, describe};
use super::step_data::StepData;
use crate::event::{Event, EventSink};
use crate::plan::bind::{self, Bound, Given};
use crate::plan::{Body, Concurrency, Plan, RecipePlan, StepPlan, UsesPlan};
use crate::result::*;

pub struct Runner<'a> {
    pub plan: &'a Plan,
    pub bound: &'a Bound,
    /// How every request of the run is sent.
    pub client: super::Client,
    pub rates: RateLimits,
    /// Run-wide cap on requests in flight (`--max-concurrency`).
    pub gate: tokio::sync::Semaphore,
    pub auth: AuthManager,
    pub sink: &'a dyn EventSink,
    /// What the sink looks at (asked once).
    pub interest: crate::event::Interest,
    pub options: RunOptions,
}

/// The steps of one recipe or block, run.
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

/// What every item of one loop shares.
struct Item<'s> {
    step: &'s StepPlan,
    /// The names each item's scope adds: the loop variable (`as`) and `loop`.
    var: Arc<str>,
    loop_name: Arc<str>,
    /// The scope before the loop.
    base: &'s Scope,
    auth_ctx: &'s AuthContext,
    length: usize,
    top: bool,
}

/// One execution of a step body.
struct BodyOutcome {
    run: Execution,
    /// `steps.<id>` fields of this execution: status, headers, body, duration_ms.
    data: StepData,
    /// Whether `data` is wanted (see `execute`).
    keep_data: bool,
    error: Option<ErrorInfo>,
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl<'a> Runner<'a> {
    pub fn run_recipe<'s>(
        &'s self,
        recipe: &'s RecipePlan,
        inputs: &'s serde_json::Map<String, serde_json::Value>,
    ) -> Boxed<'s, RecipeOutcome> {
        Box::pin(async move {
            let secrets = &self.bound.secrets[recipe.id];
            let mut scope = Scope::new(inputs, secrets);
            let auth_ctx = AuthContext::new(scope.value());
            let top = recipe.id == 0;
            let outcome = self
                .run_steps(&recipe.steps, &mut scope, &auth_ctx, top)
                .await;
            let mut error = None;
            let mut failed = outcome.failed;
            let outputs = if outcome.aborted || outcome.interrupted {
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
                                format!("output `{name}`: {}", describe(&e)),
                            ));
                            failed = true;
                            break;
                        }
                    }
                }
                Some(outputs)
            };
            if top && self.options.exit_after {
                // `steps.<id>` of every step: thousands of values after a fan-out, each freed
                // on its own. The process ends with the run and frees them all at once.
                std::mem::forget(scope);
            }
            RecipeOutcome {
                steps: outcome.results,
                outputs,
                failed,
                interrupted: outcome.interrupted,
                error,
            }
        })
    }

    /// Runs steps in order; `top` marks the root recipe's own steps (those `--resume` carries).
    fn run_steps<'s>(
        &'s self,
        steps: &'s [StepPlan],
        scope: &'s mut Scope,
        auth_ctx: &'s AuthContext,
        top: bool,
    ) -> Boxed<'s, StepsOutcome> {
        Box::pin(async move {
            let mut results = Vec::new();
            let mut failed = false;
            let mut aborted = false;
            let mut interrupted = false;
            for (position, step) in steps.iter().enumerate() {
                if aborted {
                    // Listed, so that reports show every step the recipe has.
                    results.extend(steps[position..].iter().map(not_run));
                    break;
                }
                if self.options.stop.stopping() {
                    interrupted = true;
                    break;
                }
                let result = match self.carried(step, scope, top) {
                    Some(result) => result,
                    None => self.run_step(step, scope, auth_ctx, top).await,
                };
                if result.status == Status::Interrupted {
                    interrupted = true;
                    results.push(result);
                    break;
                }
                let step_failed = result.status == Status::Failed;
                let auth = result
                    .error
                    .as_ref()
                    .is_some_and(|e| e.kind == ErrorKind::Auth);
                results.push(result);
                if step_failed {
                    failed = true;
                    if !step.continue_on_error || auth {
                        aborted = true;
                    }
                }
            }
            StepsOutcome {
                results,
                failed,
                aborted,
                interrupted,
            }
        })
    }

    /// A step that succeeded in the report given to `--resume`, restored instead of run.
    fn carried(&self, step: &StepPlan, scope: &mut Scope, top: bool) -> Option<StepResult> {
        if !top || step.each.is_some() {
            return None;
        }
        let done = self.options.resume.as_ref()?.step(&step.id)?.clone();
        for (name, value) in &done.captures {
            scope.set_json(name, value);
        }
        let mut data = StepData::default();
        data.set("status", done.status.map(Value::from).unwrap_or_default());
        data.set_headers(&Default::default());
        data.set("body", Value::from(()));
        data.set("duration_ms", Value::from(done.duration_ms));
        scope.set_step(&step.id, data.into_value());
        self.sink.emit(&Event::StepSkipped {
            step: step.id.clone(),
        });
        Some(StepResult {
            id: step.id.clone(),
            name: step.name.clone(),
            status: Status::Succeeded,
            duration_ms: 0,
            run: Some(Execution {
                captures: done.captures,
                ..Default::default()
            }),
            iterations: None,
            succeeded: None,
            failed: None,
            error: None,
            carried_over: true,
        })
    }

    /// An iteration that succeeded in the report given to `--resume`.
    fn carried_iteration(
        &self,
        step: &StepPlan,
        index: usize,
        item: &serde_json::Value,
        top: bool,
    ) -> Option<(Iteration, StepData)> {
        if !top {
            return None;
        }
        let mut done = self
            .options
            .resume
            .as_ref()?
            .take_iteration(&step.id, item)?;
        done.index = index;
        let mut data = StepData::default();
        data.set_json("item", item);
        data.set("status", Value::from(()));
        self.sink.emit(&Event::IterationFinished {
            step: step.id.clone(),
            index,
            succeeded: true,
        });
        Some((done, data))
    }

    async fn run_step(
        &self,
        step: &StepPlan,
        scope: &mut Scope,
        auth_ctx: &AuthContext,
        top: bool,
    ) -> StepResult {
        let started = Instant::now();
        let mut result = blank(step, Status::Succeeded);
        if let Some(when) = &step.when {
            match self.plan.templates.truthy(when, &scope.value()) {
                Ok(true) => {}
                Ok(false) => {
                    self.sink.emit(&Event::StepSkipped {
                        step: step.id.clone(),
                    });
                    result.status = Status::Skipped;
                    return result;
                }
                Err(e) => {
                    result.status = Status::Failed;
                    result.error = Some(ErrorInfo::new(
                        ErrorKind::Template,
                        format!("step `{}`, field `when`: {}", step.id, describe(&e)),
                    ));
                    return self.finish(result, started);
                }
            }
        }
        match &step.each {
            Some(_) => self.run_loop(step, scope, auth_ctx, &mut result, top).await,
            None => {
                self.sink.emit(&Event::StepStarted {
                    step: step.id.clone(),
                    items: None,
                });
                let outcome = self.execute(step, scope, auth_ctx, true).await;
                for (name, value) in &outcome.run.captures {
                    scope.set_json(name, value);
                }
                scope.set_step(&step.id, outcome.data.into_value());
                if let Some(error) = outcome.error {
                    result.status = if error.kind == ErrorKind::Interrupted {
                        Status::Interrupted
                    } else {
                        Status::Failed
                    };
                    result.error = Some(error);
                }
                result.run = Some(outcome.run);
            }
        }
        self.finish(result, started)
    }

    fn finish(&self, mut result: StepResult, started: Instant) -> StepResult {
        result.duration_ms = started.elapsed().as_millis() as u64;
        self.sink.emit(&Event::StepFinished {
            step: result.id.clone(),
            status: result.status,
            duration_ms: result.duration_ms,
            error: result.error.as_ref().map(|e| e.message.clone()),
        });
        result
    }

    async fn run_loop(
        &self,
        step: &StepPlan,
        scope: &mut Scope,
        auth_ctx: &AuthContext,
        result: &mut StepResult,
        top: bool,
    ) {
        let Some(each) = &step.each else { return };
        let ctx = scope.value();
        let items = match self.plan.templates.json(&each.list, &ctx) {
            Ok(serde_json::Value::Array(items)) => items,
            Ok(other) => {
                result.status = Status::Failed;
                result.error = Some(ErrorInfo::new(
                    ErrorKind::Template,
                    format!(
                        "step `{}`, field `for_each`: expected a list, found `{}`",
                        step.id,
                        preview_json(&other)
                    ),
                ));
                return;
            }
            Err(e) => {
                result.status = Status::Failed;
                result.error = Some(ErrorInfo::new(
                    ErrorKind::Template,
                    format!("step `{}`, field `for_each`: {}", step.id, describe(&e)),
                ));
                return;
            }
        };
        let concurrency = match &each.concurrency {
            Concurrency::Fixed(n) => Ok(*n),
            Concurrency::Template(tpl) => match self.plan.templates.json(tpl, &ctx) {
                Ok(value) => value
                    .as_u64()
                    .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                    .filter(|n| *n >= 1)
                    .map(|n| n as usize)
                    .ok_or_else(|| format!("expected a positive integer, found `{value}`")),
                Err(e) => Err(describe(&e)),
            },
        };
        let concurrency = match concurrency {
            Ok(n) => n.min(self.options.max_concurrency),
            Err(message) => {
                result.status = Status::Failed;
                result.error = Some(ErrorInfo::new(
                    ErrorKind::Template,
                    format!("step `{}`, field `concurrency`: {message}", step.id),
                ));
                return;
            }
        };
        self.sink.emit(&Event::StepStarted {
            step: step.id.clone(),
            items: Some(items.len()),
        });
        let length = items.len();
        let base: &Scope = scope;
        let item = Item {
            step,
            var: Arc::from(each.var.as_str()),
            loop_name: Arc::from("loop"),
            base,
            auth_ctx,
            length,
            top,
        };
        let queue = Queue::new(items);
        let outcomes = Outcomes::new(queue.len());
        let threads = self.threads_for(concurrency, length);
        if threads > 1 {
            self.spread(&item, &queue, &outcomes, concurrency, threads);
        }
        // Items no thread took (none could start, or there were no threads): run here.
        self.lanes(&item, &queue, &outcomes, concurrency).await;
        let (iterations, datas) = outcomes.in_order(&queue, interrupted_iteration);
        // Captures become lists in item order; a failed item contributes null.
        let mut names: Vec<String> = step.captures.iter().map(|c| c.name.clone()).collect();
        if let Body::Block(block) = &step.body {
            names.extend(produced(block));
        }
        for name in &names {
            let list: Vec<serde_json::Value> = iterations
                .iter()
                .map(|it| {
                    it.run
                        .captures
                        .get(name)
                        .cloned()
                        .unwrap_or(serde_json::Value::Null)
                })
                .collect();
            scope.set_json(name, &serde_json::Value::Array(list));
        }
        let succeeded = iterations
            .iter()
            .filter(|it| it.status == Status::Succeeded)
            .count();
        let failed = iterations
            .iter()
            .filter(|it| it.status == Status::Failed)
            .count();
        let interrupted = iterations.iter().any(|it| it.status == Status::Interrupted);
        let mut data = datas.last().cloned().unwrap_or_default();
        data.remove("item");
        data.set("results", super::step_data::results(datas));
        data.set("succeeded", Value::from(succeeded));
        data.set("failed", Value::from(failed));
        scope.set_step(&step.id, data.into_value());
        if failed > 0 {
            result.status = Status::Failed;
            let first = iterations.iter().find_map(|it| it.error.clone());
            let auth = iterations
                .iter()
                .any(|it| it.error.as_ref().is_some_and(|e| e.kind == ErrorKind::Auth));
            let first_message = first.map(|e| e.message).unwrap_or_default();
            result.error = Some(ErrorInfo::new(
                if auth {
                    ErrorKind::Auth
                } else {
                    ErrorKind::Iteration
                },
                format!(
                    "{failed} of {length} iterations of step `{}` failed; the first: {first_message}",
                    step.id
                ),
            ));
        }
        if interrupted && failed == 0 {
            result.status = Status::Interrupted;
        }
        result.succeeded = Some(succeeded);
        result.failed = Some(failed);
        result.iterations = Some(iterations);
    }

    /// How many threads share the items of a loop: more than one only for a live run on the
    /// direct client, outside another loop's threads, with items and slots to spare.
    fn threads_for(&self, concurrency: usize, length: usize) -> usize {
        if self.options.threads < 2 || self.client.direct().is_none() || super::threads::on_worker()
        {
            return 1;
        }
        self.options.threads.min(concurrency).min(length)
    }

    /// Runs the items of a loop on `threads` threads, each with its own single-threaded
    /// runtime and its own connections, taking items from the shared queue; the concurrency
    /// is split between them.
    fn spread(
        &self,
        item: &Item<'_>,
        queue: &Queue,
        outcomes: &Outcomes<(Iteration, StepData)>,
        concurrency: usize,
        threads: usize,
    ) {
        let slots: Vec<usize> = (0..threads)
            .map(|t| concurrency / threads + usize::from(t < concurrency % threads))
            .collect();
        super::threads::run_shares(
            &slots,
            |slots| self.lanes(item, queue, outcomes, slots),
            self.client.direct(),
        )
    }

    /// Runs the items of `queue` on `slots` lanes: each lane runs one item at a time and takes
    /// the next when it is done, so that a slow item holds only its own lane. Each outcome
    /// goes to its item's slot in `outcomes`.
    async fn lanes(
        &self,
        item: &Item<'_>,
        queue: &Queue,
        outcomes: &Outcomes<(Iteration, StepData)>,
        slots: usize,
    ) {
        let mut lanes: futures_util::stream::FuturesUnordered<_> = (0..slots.max(1))
            .map(|_| async move {
                while let Some((index, value)) = queue.take() {
                    outcomes.put(index, self.run_item(item, index, value).await);
                }
            })
            .collect();
        while lanes.next().await.is_some() {}
    }

    /// One item of a loop, run.
    async fn run_item(
        &self,
        item: &Item<'_>,
        index: usize,
        value: serde_json::Value,
    ) -> (Iteration, StepData) {
        let step = item.step;
        let started = Instant::now();
        if let Some(done) = self.carried_iteration(step, index, &value, item.top) {
            return done;
        }
        if self.options.stop.stopping() {
            return interrupted_iteration(index, value);
        }
        // One template value for the loop variable and `steps.<id>.results[i].item`.
        let shared = crate::plan::template::to_value(&value);
        let mut item_scope = item.base.with_local([
            (item.var.clone(), shared.clone()),
            (item.loop_name.clone(), loop_value(index, item.length)),
        ]);
        // `steps.<id>` after the loop is the last item's; the others' only make up `results`.
        let keep_data = step.results_read || index + 1 == item.length;
        let outcome = self
            .execute(step, &mut item_scope, item.auth_ctx, keep_data)
            .await;
        let status = match &outcome.error {
            None => Status::Succeeded,
            Some(e) if e.kind == ErrorKind::Interrupted => Status::Interrupted,
            Some(_) => Status::Failed,
        };
        if self.interest.iterations {
            self.sink.emit(&Event::IterationFinished {
                step: step.id.clone(),
                index,
                succeeded: status == Status::Succeeded,
            });
        }
        let mut data = outcome.data;
        if keep_data {
            data.set("item", shared);
        }
        (
            Iteration {
                index,
                item: value,
                status,
                duration_ms: started.elapsed().as_millis() as u64,
                run: outcome.run,
                error: outcome.error,
                carried_over: false,
            },
            data,
        )
    }

    /// Runs a step's body once (for one item, or for a step without `for_each`); its
    /// `steps.<id>` value (the response) is made only if `keep_data`.
    async fn execute(
        &self,
        step: &StepPlan,
        scope: &mut Scope,
        auth_ctx: &AuthContext,
        keep_data: bool,
    ) -> BodyOutcome {
        let started = Instant::now();
        let mut outcome = BodyOutcome {
            run: Execution::default(),
            data: StepData::default(),
            keep_data,
            error: None,
        };
        match &step.body {
            Body::Request(plan) => {
                let ctx = scope.value();
                let (exchange, response) =
                    request::perform(self, &step.id, plan, &ctx, auth_ctx).await;
                outcome.run.request = exchange;
                match response {
                    Ok(response) => {
                        self.respond(
                            step,
                            plan.expect.accepts(response.status),
                            &plan.expect,
                            response,
                            scope,
                            &mut outcome,
                            started,
                        );
                    }
                    Err(error) => outcome.error = Some(error),
                }
            }
            Body::Uses(uses) => {
                self.uses(step, uses, scope, &mut outcome).await;
                outcome.data.set(
                    "duration_ms",
                    Value::from(started.elapsed().as_millis() as u64),
                );
            }
            Body::Block(block) => {
                let mut block_scope = scope.clone();
                let inner = self
                    .run_steps(block, &mut block_scope, auth_ctx, false)
                    .await;
                for name in produced(block) {
                    if let Some(value) = block_scope
                        .value()
                        .get_attr(&name)
                        .ok()
                        .filter(|v| !v.is_undefined())
                    {
                        if let Ok(json) = serde_json::to_value(&value) {
                            outcome.run.captures.insert(name.clone(), json);
                        }
                        scope.set(&name, value);
                    }
                }
                if inner.interrupted && !inner.failed {
                    outcome.error = Some(ErrorInfo::new(
                        ErrorKind::Interrupted,
                        format!("step `{}`: interrupted", step.id),
                    ));
                } else if inner.failed {
                    let first = inner.results.iter().find_map(|r| r.error.clone());
                    outcome.error = Some(match first {
                        Some(error) if error.kind == ErrorKind::Auth => error,
                        Some(error) => ErrorInfo::new(error.kind, error.message),
                        None => ErrorInfo::new(
                            ErrorKind::Iteration,
                            format!("a step of the block of `{}` failed", step.id),
                        ),
                    });
                }
                if let Some(last) = inner
                    .results
                    .iter()
                    .rev()
                    .find(|r| !matches!(r.status, Status::Skipped | Status::NotRun))
                    && let Some(data) = block_scope
                        .value()
                        .get_attr("steps")
                        .ok()
                        .and_then(|s| s.get_attr(&last.id).ok())
                {
                    outcome.data = StepData::of(&data);
                }
                outcome.run.steps = Some(inner.results);
                outcome.data.set(
                    "duration_ms",
                    Value::from(started.elapsed().as_millis() as u64),
                );
            }
        }
        if outcome.error.is_none() {
            self.checks(step, scope, &mut outcome);
        }
        if !keep_data {
            outcome.data = StepData::default();
        }
        outcome
    }

    #[allow(clippy::too_many_arguments)]
    fn respond(
        &self,
        step: &StepPlan,
        accepted: bool,
        expected: &dyn std::fmt::Display,
        response: Incoming,
        scope: &mut Scope,
        outcome: &mut BodyOutcome,
        started: Instant,
    ) {
        let duration_ms = started.elapsed().as_millis() as u64;
        self.check_response(step, accepted, expected, &response, scope, outcome);
        if !outcome.keep_data {
            return;
        }
        outcome.data.set("status", Value::from(response.status));
        outcome.data.set_headers(&response.headers);
        outcome.data.set_body(response.body);
        outcome.data.set("duration_ms", Value::from(duration_ms));
    }

    /// The status check and the captures of a response.
    fn check_response(
        &self,
        step: &StepPlan,
        accepted: bool,
        expected: &dyn std::fmt::Display,
        response: &Incoming,
        scope: &mut Scope,
        outcome: &mut BodyOutcome,
    ) {
        if !accepted {
            let exchange = outcome.run.request.as_ref();
            outcome.error = Some(ErrorInfo::new(
                ErrorKind::Status,
                format!(
                    "step `{}`: expected status {expected}, got {} from {} {}: `{}`",
                    step.id,
                    response.status,
                    exchange.map(|e| e.method.as_ref()).unwrap_or_default(),
                    exchange.map(|e| e.url.as_str()).unwrap_or_default(),
                    capture::preview(&response.body)
                ),
            ));
            return;
        }
        // Parsed only for captures: a body nothing captures from is kept as bytes.
        let json: Option<serde_json::Value> =
            if step.captures.is_empty() || response.body.is_empty() {
                None
            } else {
                serde_json::from_slice(&response.body).ok()
            };
        let view = ResponseView {
            headers: &response.headers,
            body: &response.body,
            json: json.as_ref(),
        };
        for plan in &step.captures {
            match capture::extract(plan, &view) {
                Ok(value) => {
                    scope.set_json(&plan.name, &value);
                    outcome.run.captures.insert(plan.name.clone(), value);
                }
                Err(message) => {
                    outcome.error = Some(ErrorInfo::new(
                        ErrorKind::Capture,
                        format!("step `{}`: {message}", step.id),
                    ));
                    return;
                }
            }
        }
    }

    fn checks(&self, step: &StepPlan, scope: &Scope, outcome: &mut BodyOutcome) {
        if step.checks.is_empty() {
            return;
        }
        let mut ctx_scope = scope.clone();
        for (name, value) in &outcome.run.captures {
            ctx_scope.set_json(name, value);
        }
        let ctx = ctx_scope.value();
        for check in &step.checks {
            let message = check
                .message
                .as_ref()
                .and_then(|m| self.plan.templates.text(m, &ctx).ok());
            let (passed, error) = match self.plan.templates.truthy(&check.that, &ctx) {
                Ok(passed) => (passed, None),
                Err(e) => (false, Some(describe(&e))),
            };
            outcome.run.checks.push(CheckResult {
                that: check.text.clone(),
                passed,
                message: message.clone(),
            });
            if !passed && outcome.error.is_none() {
                let text = match (error, message) {
                    (Some(error), _) => format!(
                        "step `{}`: check `{}` could not be evaluated: {error}",
                        step.id, check.text
                    ),
                    (None, Some(message)) => format!(
                        "step `{}`: check failed: {message} (`{}`)",
                        step.id, check.text
                    ),
                    (None, None) => format!("step `{}`: check failed: `{}`", step.id, check.text),
                };
                outcome.error = Some(ErrorInfo::new(ErrorKind::Check, text));
            }
        }
    }

    async fn uses(
        &self,
        step: &StepPlan,
        uses: &UsesPlan,
        scope: &mut Scope,
        outcome: &mut BodyOutcome,
    ) {
        let given = match given_inputs(self.plan, uses, &scope.value()) {
            Ok(given) => given,
            Err(message) => {
                outcome.error = Some(ErrorInfo::new(
                    ErrorKind::Template,
                    format!("step `{}`, {message}", step.id),
                ));
                return;
            }
        };
        let inputs = match bind::bind_inputs(&uses.recipe, &given, &self.options.env) {
            Ok(inputs) => inputs,
            Err(problems) => {
                let messages: Vec<String> = problems.into_iter().map(|d| d.message).collect();
                outcome.error = Some(ErrorInfo::new(
                    ErrorKind::Uses,
                    format!(
                        "step `{}`: inputs of `{}`: {}",
                        step.id,
                        uses.recipe.name,
                        messages.join("; ")
                    ),
                ));
                return;
            }
        };
        let sub = self.run_recipe(&uses.recipe, &inputs).await;
        if let Some(outputs) = &sub.outputs {
            for (name, value) in outputs {
                scope.set_json(name, value);
                outcome.run.captures.insert(name.clone(), value.clone());
            }
        }
        if sub.interrupted && !sub.failed {
            outcome.error = Some(ErrorInfo::new(
                ErrorKind::Interrupted,
                format!("step `{}`: interrupted", step.id),
            ));
        } else if sub.failed {
            let first = sub
                .error
                .clone()
                .or_else(|| sub.steps.iter().find_map(|s| s.error.clone()));
            outcome.error = Some(match first {
                Some(error) if error.kind == ErrorKind::Auth => error,
                Some(error) => ErrorInfo::new(
                    ErrorKind::Uses,
                    format!(
                        "step `{}`: recipe `{}` failed: {}",
                        step.id, uses.recipe.name, error.message
                    ),
                ),
                None => ErrorInfo::new(
                    ErrorKind::Uses,
                    format!("step `{}`: recipe `{}` failed", step.id, uses.recipe.name),
                ),
            });
        }
        outcome.run.steps = Some(sub.steps);
    }
}

/// A step the recipe did not reach because an earlier one failed.
fn not_run(step: &StepPlan) -> StepResult {
    blank(step, Status::NotRun)
}

/// The result of `step` before anything is known about its run.
fn blank(step: &StepPlan, status: Status) -> StepResult {
    StepResult {
        id: step.id.clone(),
        name: step.name.clone(),
        status,
        duration_ms: 0,
        run: None,
        iterations: None,
        succeeded: None,
        failed: None,
        error: None,
        carried_over: false,
    }
}

/// An iteration the run did not start because it was interrupted.
fn interrupted_iteration(index: usize, item: serde_json::Value) -> (Iteration, StepData) {
    let mut data = StepData::default();
    data.set_json("item", &item);
    let iteration = Iteration {
        index,
        item,
        status: Status::Interrupted,
        duration_ms: 0,
        run: Execution::default(),
        error: None,
        carried_over: false,
    };
    (iteration, data)
}

/// The inputs a `uses` step gives its recipe: each `with` value rendered with `ctx`.
pub(super) fn given_inputs(
    plan: &Plan,
    uses: &UsesPlan,
    ctx: &Value,
) -> Result<indexmap::IndexMap<String, Given>, String> {
    let mut given = indexmap::IndexMap::new();
    for (name, tpl) in &uses.with {
        let value = plan
            .templates
            .value(tpl, ctx)
            .map_err(|e| format!("field `with.{name}`: {}", describe(&e)))?;
        given.insert(name.clone(), Given::Value(value));
    }
    Ok(given)
}

/// Capture names a block of steps produces (collected as lists after a loop).
pub(super) fn produced(steps: &[StepPlan]) -> Vec<String> {
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

fn preview_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        format!(
            "{}…",
            &text[..text
                .char_indices()
                .nth(80)
                .map(|(i, _)| i)
                .unwrap_or(text.len())]
        )
    } else {
        text
    }
}
