//! The JSON report writer: pretty, written atomically, from a report whose secrets are masked
//! already. It walks the report model — the report's fields, then each step's — so that the
//! iterations of a large loop can be rendered in chunks by two helper threads while this one
//! writes them in order: the same text as one thread writes, in about half the time. Nested
//! values are written by serde, laid out like `serde_json::to_string_pretty`.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

use super::Report;
use super::atomic::write_atomically_with;
use crate::redact::Masked;
use crate::result::spool::Finished;
use crate::result::{ErrorInfo, Execution, Iteration, StepResult};

/// Writes the report to `path` through a temporary file and a rename, so that a crash never
/// leaves a truncated report; the JSON streams to the file as it is made.
pub fn write_json(report: &Masked<Report>, path: &Path) -> io::Result<()> {
    write_atomically_with(path, |file| write_report(report, file))
}

/// The report as JSON text, as `write_json` writes it.
pub fn to_json_text(report: &Masked<Report>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    // Writing to memory cannot fail.
    let _ = write_report(report, &mut out);
    out
}

fn write_report<W: Write>(report: &Report, out: &mut W) -> io::Result<()> {
    let mut object = Object::open(out, 0)?;
    object.field("whisk_version", &report.whisk_version)?;
    object.field("recipe", &report.recipe)?;
    object.field("inputs", &report.inputs)?;
    object.field("started_at", &report.started_at)?;
    object.field("ended_at", &report.ended_at)?;
    object.field("duration_ms", &report.duration_ms)?;
    object.optional("resumed_from", &report.resumed_from)?;
    object.optional("shard", &report.shard)?;
    let result = &report.result;
    object.field("status", &result.status)?;
    object.key("steps")?;
    let depth = object.depth + 1;
    write_list(object.out, &result.steps, depth, write_step)?;
    object.optional("outputs", &result.outputs)?;
    object.optional("error", &result.error)?;
    object.close()?;
    out.write_all(b"\n")
}

/// A step at `depth`, field by field as `StepResult` serialises, its iterations in parallel
/// chunks when there are many.
fn write_step<W: Write>(out: &mut W, step: &StepResult, depth: usize) -> io::Result<()> {
    let mut object = Object::open(out, depth)?;
    object.field("id", &step.id)?;
    object.optional("name", &step.name)?;
    object.field("status", &step.status)?;
    object.field("duration_ms", &step.duration_ms)?;
    if let Some(run) = &step.run {
        write_execution(&mut object, run)?;
    }
    if let Some(iterations) = &step.iterations {
        object.key("iterations")?;
        write_iterations(object.out, iterations, object.depth + 1)?;
    }
    if let Some(spooled) = &step.spooled {
        object.key("iterations")?;
        write_spooled(object.out, spooled, object.depth + 1)?;
    }
    object.optional("succeeded", &step.succeeded)?;
    object.optional("failed", &step.failed)?;
    close_with(object, &step.error, &step.warnings, step.carried_over)
}

/// The fields a step and an iteration end with, then the end of the object.
fn close_with<W: Write>(
    mut object: Object<'_, W>,
    error: &Option<ErrorInfo>,
    warnings: &[String],
    carried_over: bool,
) -> io::Result<()> {
    object.optional("error", error)?;
    if !warnings.is_empty() {
        object.field("warnings", warnings)?;
    }
    if carried_over {
        object.field("carried_over", &true)?;
    }
    object.close()
}

/// The fields of an execution, flattened into the object being written.
fn write_execution<W: Write>(object: &mut Object<'_, W>, run: &Execution) -> io::Result<()> {
    object.optional("request", &run.request)?;
    if !run.pages.is_empty() {
        object.field("pages", &run.pages)?;
    }
    object.optional("polls", &run.polls)?;
    object.optional("steps", &run.steps)?;
    if !run.captures.is_empty() {
        object.field("captures", &run.captures)?;
    }
    if !run.checks.is_empty() {
        object.field("checks", &run.checks)?;
    }
    Ok(())
}

/// Where a top-level loop's iterations sit in the report: in the list (3) of a step (2) in the
/// list of steps (1) of the report (0).
const SPOOLED_DEPTH: usize = 4;

/// One iteration of a top-level loop as the report shows it, for the loop's spool.
pub fn render_spooled(iteration: &Iteration, out: &mut Vec<u8>) {
    // Writing to memory cannot fail.
    let _ = write_iteration(out, iteration, SPOOLED_DEPTH);
}

/// An iteration at `depth`, field by field as `Iteration` serialises (its execution's fields
/// flattened into it), without serde's flattening, which goes through a map of its own: a
/// fan-out renders one of these per item.
fn write_iteration<W: Write>(out: &mut W, iteration: &Iteration, depth: usize) -> io::Result<()> {
    let mut object = Object::open(out, depth)?;
    object.field("index", &iteration.index)?;
    object.field("item", &iteration.item)?;
    object.field("status", &iteration.status)?;
    object.field("duration_ms", &iteration.duration_ms)?;
    write_execution(&mut object, &iteration.run)?;
    close_with(
        object,
        &iteration.error,
        &iteration.warnings,
        iteration.carried_over,
    )
}

/// A top-level loop's iterations, copied from its spool (masked again as they are copied
/// when the report knows secrets some of them were rendered without).
fn write_spooled<W: Write>(out: &mut W, spooled: &Finished, depth: usize) -> io::Result<()> {
    if depth + 1 != SPOOLED_DEPTH {
        // Not where spools are made for; lay the items out again.
        return write_list(out, &spooled.read_all()?, depth, write_iteration);
    }
    let also = spooled.also_mask();
    out.write_all(b"[")?;
    spooled.each_text(|index, text| {
        line(out, index == 0, depth + 1)?;
        match also.as_ref().and_then(|masker| {
            std::str::from_utf8(text)
                .ok()
                .and_then(|text| masker.masked(text))
        }) {
            Some(masked) => out.write_all(masked.as_bytes()),
            None => out.write_all(text),
        }
    })?;
    if !spooled.is_empty() {
        line(out, true, depth)?;
    }
    out.write_all(b"]")
}

/// Lists of iterations shorter than this are written by this thread alone.
const PARALLEL_ITEMS: usize = 2048;
/// Iterations per chunk a helper renders.
const CHUNK: usize = 512;

/// A list of iterations at `depth`: short ones here, long ones in chunks rendered by two
/// helper threads and written here in order.
fn write_iterations<W: Write>(out: &mut W, items: &[Iteration], depth: usize) -> io::Result<()> {
    if items.len() < PARALLEL_ITEMS {
        return write_list(out, items, depth, write_iteration);
    }
    out.write_all(b"[")?;
    let chunks: Vec<&[Iteration]> = items.chunks(CHUNK).collect();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (0..2)
            .map(|helper| {
                let (send, receive) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(2);
                let chunks = &chunks;
                scope.spawn(move || {
                    for (index, chunk) in chunks.iter().enumerate().skip(helper).step_by(2) {
                        let mut text = Vec::with_capacity(chunk.len() * 512);
                        let rendered = chunk.iter().enumerate().try_for_each(|(i, item)| {
                            line(&mut text, index == 0 && i == 0, depth + 1)?;
                            write_iteration(&mut text, item, depth + 1)
                        });
                        if send.send(rendered.map(|()| text)).is_err() {
                            return;
                        }
                    }
                });
                receive
            })
            .collect();
        for index in 0..chunks.len() {
            let text = helpers[index % 2]
                .recv()
                .map_err(|_| io::Error::other("a report helper thread stopped"))??;
            out.write_all(&text)?;
        }
        Ok::<_, io::Error>(())
    })?;
    line(out, true, depth)?;
    out.write_all(b"]")
}

/// A list at `depth`, each item written by `item`.
fn write_list<W: Write, T>(
    out: &mut W,
    items: &[T],
    depth: usize,
    item: impl Fn(&mut W, &T, usize) -> io::Result<()>,
) -> io::Result<()> {
    out.write_all(b"[")?;
    for (index, value) in items.iter().enumerate() {
        line(out, index == 0, depth + 1)?;
        item(out, value, depth + 1)?;
    }
    if !items.is_empty() {
        line(out, true, depth)?;
    }
    out.write_all(b"]")
}

/// `value` by serde, as a value at `depth`.
fn write_value<W: Write, T: Serialize + ?Sized>(
    out: &mut W,
    value: &T,
    depth: usize,
) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, Pretty::at(depth));
    value.serialize(&mut serializer).map_err(io::Error::other)
}

/// An object being written at `depth`, a field at a time.
struct Object<'w, W: Write> {
    out: &'w mut W,
    depth: usize,
    empty: bool,
}

impl<'w, W: Write> Object<'w, W> {
    fn open(out: &'w mut W, depth: usize) -> io::Result<Object<'w, W>> {
        out.write_all(b"{")?;
        Ok(Object {
            out,
            depth,
            empty: true,
        })
    }

    fn key(&mut self, key: &str) -> io::Result<()> {
        line(self.out, self.empty, self.depth + 1)?;
        self.empty = false;
        write_value(self.out, key, 0)?;
        self.out.write_all(b": ")
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> io::Result<()> {
        self.key(key)?;
        write_value(self.out, value, self.depth + 1)
    }

    /// A field that `skip_serializing_if = "Option::is_none"` leaves out when absent.
    fn optional<T: Serialize>(&mut self, key: &str, value: &Option<T>) -> io::Result<()> {
        match value {
            Some(value) => self.field(key, value),
            None => Ok(()),
        }
    }

    fn close(self) -> io::Result<()> {
        if !self.empty {
            line(self.out, true, self.depth)?;
        }
        self.out.write_all(b"}")
    }
}

/// serde_json's pretty layout (two spaces), starting at any depth.
struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    fn at(depth: usize) -> Pretty {
        Pretty {
            depth,
            has_value: false,
        }
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            line(writer, true, self.depth)?;
        }
        writer.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        line(writer, first, self.depth)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            line(writer, true, self.depth)?;
        }
        writer.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        line(writer, first, self.depth)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> io::Result<()> {
        CompactFormatter.write_char_escape(writer, escape)
    }
}

/// A new line and the indentation of `depth`, after a comma unless `first`: one write where
/// serde_json's pretty formatter makes one per level.
fn line<W: ?Sized + Write>(writer: &mut W, first: bool, depth: usize) -> io::Result<()> {
    let start = usize::from(first);
    let end = 2 + 2 * depth;
    match LINE.get(start..end) {
        Some(bytes) => writer.write_all(bytes),
        None => {
            writer.write_all(&LINE[start..2])?;
            (0..depth).try_for_each(|_| writer.write_all(b"  "))
        }
    }
}

/// `,` and a newline, then enough indentation for any report.
const LINE: &[u8; 130] = b",\n                                                                                                                                ";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;
    use crate::report::RecipeInfo;
    use crate::result::{
        Attempt, CheckResult, ErrorInfo, ErrorKind, Exchange, Hop, RunResult, Status,
    };

    fn exchange(index: usize) -> Exchange {
        Exchange {
            method: "POST".into(),
            url: format!("https://api.example.com/v1/{index}?token=s3cret-token"),
            status: Some(200),
            attempts: vec![Attempt {
                status: Some(200),
                duration_ms: 1,
                redirects: vec![Hop {
                    status: 307,
                    location: "https://b/".into(),
                    auth_forwarded: true,
                }],
                outcome: None,
                wait_ms: None,
                error: None,
            }],
        }
    }

    fn step(items: usize) -> StepResult {
        let iterations = (0..items)
            .map(|index| {
                // Every third item fails with a warning; every fifth was carried over with a
                // capture and a check.
                let failed = index % 3 == 1;
                let carried = index % 5 == 2;
                let mut captures = serde_json::Map::new();
                if carried {
                    captures.insert("id".into(), serde_json::json!({"n": [index]}));
                }
                Iteration {
                    index,
                    item: serde_json::json!(format!("child-{index}")),
                    status: if failed {
                        Status::Failed
                    } else {
                        Status::Succeeded
                    },
                    duration_ms: 1,
                    run: Execution {
                        request: Some(exchange(index)),
                        captures,
                        checks: if carried {
                            vec![CheckResult {
                                that: "status == 200".into(),
                                passed: true,
                                message: None,
                            }]
                        } else {
                            Vec::new()
                        },
                        ..Execution::default()
                    },
                    error: failed.then(|| ErrorInfo::new(ErrorKind::Check, "no")),
                    warnings: if failed { vec!["w".into()] } else { Vec::new() },
                    carried_over: carried,
                }
            })
            .collect();
        StepResult {
            id: "fan".into(),
            name: None,
            status: Status::Succeeded,
            duration_ms: 5,
            run: None,
            iterations: Some(iterations),
            spooled: None,
            succeeded: Some(items),
            failed: Some(0),
            error: None,
            warnings: Vec::new(),
            carried_over: false,
        }
    }

    /// A report with every optional field of a report and a step present somewhere.
    fn report(items: usize) -> Report {
        let mut captures = serde_json::Map::new();
        captures.insert("names".into(), serde_json::json!(["a", "b"]));
        let full = StepResult {
            id: "all".into(),
            name: Some("Every field".into()),
            status: Status::Failed,
            duration_ms: 3,
            run: Some(Execution {
                request: Some(exchange(0)),
                pages: vec![exchange(1)],
                polls: Some(Box::new({
                    let mut polls = crate::result::Polls::new();
                    polls.push(crate::result::Poll {
                        n: 1,
                        status: Some(202),
                        duration_ms: 1,
                        attempts: 1,
                        wait_ms: Some(10),
                        captures: Some(captures.clone()),
                    });
                    polls
                })),
                steps: Some(vec![step(2)]),
                captures,
                checks: vec![CheckResult {
                    that: "names | length > 0".into(),
                    passed: false,
                    message: Some("none".into()),
                }],
            }),
            iterations: None,
            spooled: None,
            succeeded: None,
            failed: None,
            error: Some(ErrorInfo::new(ErrorKind::Check, "check failed")),
            warnings: vec!["capture `x`: JSONPath `$.x` matched nothing".into()],
            carried_over: true,
        };
        let empty = StepResult {
            id: "empty".into(),
            iterations: Some(Vec::new()),
            spooled: None,
            ..step(0)
        };
        Report {
            whisk_version: "0.1.0".into(),
            recipe: RecipeInfo {
                name: "r".into(),
                path: "r.yaml".into(),
                sha256: None,
            },
            inputs: std::sync::Arc::new(serde_json::Map::new()),
            started_at: "t0".into(),
            ended_at: "t1".into(),
            duration_ms: 9,
            resumed_from: Some("old.json".into()),
            shard: Some(crate::exec::shard::Shard { index: 1, count: 4 }),
            result: RunResult {
                status: Status::Failed,
                steps: vec![full, step(items), empty],
                outputs: Some(serde_json::Map::new()),
                error: Some(ErrorInfo::new(ErrorKind::Auth, "refused")),
            },
        }
    }

    #[test]
    fn the_walk_writes_what_serde_writes_with_few_or_many_items() {
        let redactor = Redactor::new();
        redactor.add("s3cret-token");
        for items in [0, 3, PARALLEL_ITEMS - 1, PARALLEL_ITEMS * 2 + 7] {
            let report = Masked::new(report(items), &redactor.masker());
            let text = String::from_utf8(to_json_text(&report)).unwrap();
            assert_eq!(
                text,
                serde_json::to_string_pretty(&*report).unwrap() + "\n",
                "{items} items"
            );
            assert!(!text.contains("s3cret-token"));
        }
    }

    #[test]
    fn lays_out_like_to_string_pretty_at_any_depth() {
        let mut deep = serde_json::json!({"leaf": [1, {}, [], {"a": []}]});
        for depth in 0..80 {
            deep = serde_json::json!({ format!("k{depth}"): [deep, depth] });
        }
        let mut text = Vec::new();
        write_value(&mut text, &deep, 0).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            serde_json::to_string_pretty(&deep).unwrap()
        );
    }
}
