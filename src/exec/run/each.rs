//! A `for_each` step: its concurrency, its items on lanes (and, for large live loops,
//! threads) through the schedule, each item's iteration, and what the loop leaves: captures
//! as lists in item order, and `steps.<id>` with the last item's response, `results` (when a
//! template reads them), `succeeded` and `failed`.

use std::sync::Arc;
use std::time::Instant;

use minijinja::Value;

use super::steps::blank;
use super::{BodyOutcome, Runner};
use crate::event::Event;
use crate::exec::auth::AuthContext;
use crate::exec::context::Scope;
use crate::exec::request::describe;
use crate::exec::schedule::{self, Collect, Items, Outcomes, Queue};
use crate::exec::step_data::{self, StepData};
use crate::exec::walk::{Walker, item_scope, produced};
use crate::plan::{Body, Concurrency, StepPlan};
use crate::redact::Mask;
use crate::result::spool::{Entry, Spool};
use crate::result::{ErrorInfo, ErrorKind, Execution, Iteration, Status, StepResult};
use crate::source::FieldPath;

/// What every item of one loop shares.
struct Item<'s> {
    step: &'s StepPlan,
    /// The names each item's scope adds: the loop variable (`as`) and `loop`.
    var: Arc<str>,
    loop_name: Arc<str>,
    /// The scope before the loop.
    base: &'s Scope,
    auth: &'s AuthContext,
    /// Items this run has (its shard's share).
    length: usize,
    /// Items of the whole list, and where this run's are in it (`--shard`): an item keeps its
    /// index in the whole list, so that the shards' reports merge into the single run's.
    whole: usize,
    indices: Option<&'s [usize]>,
    top: bool,
}

impl<'a> Runner<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn each<'s>(
        &'s self,
        walker: Walker<'s, Runner<'a>>,
        step: &'s StepPlan,
        list: Result<crate::exec::schedule::Items, String>,
        scope: &'s mut Scope,
        auth: &'s AuthContext,
        top: bool,
        started: Instant,
    ) -> StepResult {
        let mut result = blank(step, Status::Succeeded);
        let failed = |mut result: StepResult, field: &str, message: String| {
            result.status = Status::Failed;
            result.error = Some(
                ErrorInfo::new(
                    ErrorKind::Template,
                    format!("step `{}`, field `{field}`: {message}", step.id),
                )
                .in_field(FieldPath::root().key(field)),
            );
            self.finish(step, result, started)
        };
        let mut items = match list {
            Ok(items) => items,
            Err(message) => return failed(result, "for_each", message),
        };
        let whole = items.len();
        let mut indices = None;
        if top && let Some(shard) = self.options.shard {
            let (mine, positions) = items.select(|item| shard.owns(item));
            items = Items::List(mine);
            indices = Some(positions);
        }
        let concurrency = match self.concurrency(step, &scope.value()) {
            Ok(n) => n,
            Err(message) => return failed(result, "concurrency", message),
        };
        // Captures become lists in item order; a failed item contributes null.
        let mut names: Vec<String> = step.captures.iter().map(|c| c.name.clone()).collect();
        if let Body::Block(block) = &step.body {
            names.extend(produced(block));
        }
        // A top-level loop's iterations go to disk as they finish (`result::spool`).
        let spool = if top {
            match Spool::new(names.len()) {
                Ok(spool) => Some(spool),
                Err(e) => {
                    let message = format!("could not make a temporary file for its items: {e}");
                    return failed(result, "for_each", message);
                }
            }
        } else {
            None
        };
        self.events.sink.emit(&Event::StepStarted {
            step: step.id.clone(),
            items: Some(items.len()),
        });
        let length = items.len();
        let Some(each) = &step.each else {
            return self.finish(step, result, started);
        };
        let base: &Scope = scope;
        let item = Item {
            step,
            var: Arc::from(each.var.as_str()),
            loop_name: Arc::from("loop"),
            base,
            auth,
            length,
            whole,
            indices: indices.as_deref(),
            top,
        };
        let queue = Queue::new(items);
        let threads = self.threads_for(concurrency, length);
        let run = |index, value| self.item(walker, &item, index, value);
        let datas = match spool {
            Some(spool) => {
                let sink = Spooling {
                    spool,
                    names: &names,
                    masker: &self.plan.redactor,
                    results: step.results_read.then(|| Outcomes::new(length)),
                    last: std::sync::Mutex::new(None),
                    length,
                };
                let direct = self.client.direct();
                schedule::run(&queue, &sink, concurrency, threads, direct, run).await;
                match sink.finish(&queue, indices.as_deref(), &mut result, scope, whole) {
                    Ok(datas) => datas,
                    Err(message) => return failed(result, "for_each", message),
                }
            }
            None => {
                let outcomes = Outcomes::new(queue.len());
                let direct = self.client.direct();
                schedule::run(&queue, &outcomes, concurrency, threads, direct, run).await;
                // Items that did not start keep their index in the whole list too.
                let (iterations, datas) = outcomes.in_order(&queue, |position, value| {
                    let index = indices.as_ref().map_or(position, |all| all[position]);
                    interrupted_iteration(index, value)
                });
                for name in &names {
                    let list = iterations.iter().map(|it| capture(it, name)).collect();
                    scope.set_json(name, &serde_json::Value::Array(list));
                }
                result.tally(iterations, whole);
                datas
            }
        };
        let mut data = datas.last().cloned().unwrap_or_default();
        data.remove("item");
        data.set("results", step_data::results(datas));
        data.set("succeeded", Value::from(result.succeeded.unwrap_or(0)));
        data.set("failed", Value::from(result.failed.unwrap_or(0)));
        scope.set_step(&step.id, data.into_value());
        self.finish(step, result, started)
    }

    /// The loop's concurrency: a number, or a template that renders to a positive integer;
    /// never above `--max-concurrency`.
    fn concurrency(&self, step: &StepPlan, ctx: &Value) -> Result<usize, String> {
        let Some(each) = &step.each else {
            return Ok(1);
        };
        let n = match &each.concurrency {
            Concurrency::Fixed(n) => *n,
            Concurrency::Template(tpl) => match self.plan.templates.json(tpl, ctx) {
                Ok(value) => crate::plan::precheck::concurrency(&value)?,
                Err(e) => return Err(describe(&e)),
            },
        };
        Ok(n.min(self.options.max_concurrency))
    }

    /// How many threads share the items of a loop: more than one only for a live run on the
    /// direct client, outside another loop's threads, with items and slots to spare.
    fn threads_for(&self, concurrency: usize, length: usize) -> usize {
        if self.options.threads < 2 || self.client.direct().is_none() || schedule::on_worker() {
            return 1;
        }
        self.options.threads.min(concurrency).min(length)
    }

    /// One item of a loop, run.
    async fn item(
        &self,
        walker: Walker<'_, Runner<'a>>,
        item: &Item<'_>,
        position: usize,
        value: serde_json::Value,
    ) -> (Iteration, StepData) {
        let step = item.step;
        let index = item.indices.map_or(position, |all| all[position]);
        let started = Instant::now();
        if item.top
            && let Some(resume) = &self.options.resume
            && let Some(done) = resume.carry_iteration(step, index, &value, self.events.sink)
        {
            return done;
        }
        if self.options.stop.stopping() {
            return interrupted_iteration(index, value);
        }
        // One template value for the loop variable and `steps.<id>.results[i].item`.
        let shared = crate::plan::template::to_value(&value);
        let mut scope = item_scope(
            item.base,
            &item.var,
            &item.loop_name,
            shared.clone(),
            index,
            item.whole,
        );
        // `steps.<id>` after the loop is the last item's; the others' only make up `results`.
        let keep = step.results_read || position + 1 == item.length;
        let body: BodyOutcome = walker.body(step, &mut scope, item.auth, keep).await;
        let status = match &body.error {
            None => Status::Succeeded,
            Some(e) if e.kind == ErrorKind::Interrupted => Status::Interrupted,
            Some(_) => Status::Failed,
        };
        if self.events.interest.iterations {
            self.events.sink.emit(&Event::IterationFinished {
                step: step.id.clone(),
                index,
                succeeded: status == Status::Succeeded,
            });
        }
        let mut data = body.data;
        if keep {
            data.set("item", shared);
        }
        let mut error = body.error;
        if let Some(error) = &mut error {
            error.locate(&step.source, &step.field);
        }
        (
            Iteration {
                index,
                item: value,
                status,
                duration_ms: started.elapsed().as_millis() as u64,
                run: body.run,
                error,
                warnings: body.warnings,
                carried_over: false,
            },
            data,
        )
    }
}

/// Where a top-level loop's outcomes go: each iteration, masked and rendered, to the spool;
/// its `steps.<id>` value kept for `results` when a template reads them, else only the last
/// item's.
struct Spooling<'s> {
    spool: Spool,
    names: &'s [String],
    masker: &'s crate::redact::Redactor,
    results: Option<Outcomes<StepData>>,
    last: std::sync::Mutex<Option<StepData>>,
    length: usize,
}

impl Collect<(Iteration, StepData)> for Spooling<'_> {
    async fn admit(&self, index: usize) {
        self.spool.admit(index).await;
    }

    fn put(&self, position: usize, (mut iteration, data): (Iteration, StepData)) {
        match &self.results {
            Some(results) => results.put(position, data),
            None if position + 1 == self.length => {
                *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(data);
            }
            None => {}
        }
        let captures = self.names.iter().map(|n| capture(&iteration, n)).collect();
        let masker = self.masker.masker();
        iteration.mask(&masker);
        let mut text = Vec::with_capacity(512);
        crate::report::render_spooled(&iteration, &mut text);
        if iteration.status != Status::Failed {
            // The totals need only the status, the warnings, whether it was carried over and
            // its inner steps (for authentication failures).
            iteration.run = Execution {
                steps: iteration.run.steps.take(),
                ..Execution::default()
            };
            iteration.item = serde_json::Value::Null;
        }
        self.spool.put(Entry {
            index: position,
            text,
            iteration,
            captures,
            masked_with: masker.len(),
        });
    }
}

impl Spooling<'_> {
    /// After the loop: items that never started put as interrupted (keeping their index in
    /// the whole list), the totals in `result`, the captures as lists in `scope`; the
    /// `steps.<id>` values kept (every item's when `results` is read, else the last one's).
    fn finish(
        self,
        queue: &Queue,
        indices: Option<&[usize]>,
        result: &mut StepResult,
        scope: &mut Scope,
        whole: usize,
    ) -> Result<Vec<StepData>, String> {
        for position in 0..self.length {
            if !self.spool.has(position) {
                let value = queue.take_at(position).unwrap_or_default();
                let index = indices.map_or(position, |all| all[position]);
                self.put(position, interrupted_iteration(index, value));
            }
        }
        let (finished, captures) = self
            .spool
            .finish(result, whole)
            .map_err(|e| format!("its items could not be kept on disk: {e}"))?;
        for (name, list) in self.names.iter().zip(captures) {
            scope.set_json(name, &serde_json::Value::Array(list));
        }
        result.spooled = Some(Arc::new(finished));
        Ok(match self.results {
            Some(results) => results.into_vec(StepData::default),
            None => self
                .last
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .into_iter()
                .collect(),
        })
    }
}

/// What an item captured as `name`, or null.
fn capture(iteration: &Iteration, name: &str) -> serde_json::Value {
    iteration
        .run
        .captures
        .get(name)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
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
        warnings: Vec::new(),
        carried_over: false,
    };
    (iteration, data)
}
