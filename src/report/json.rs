//! The JSON report writer: masked, pretty, written atomically. Strings (object keys too) are
//! masked as they are written, so that a large report is never held as a JSON value tree. The
//! iterations of a large loop are rendered in chunks by two helper threads while this one
//! writes them in order (see `iterations`): the same text, in half the time.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

use super::Report;
use super::atomic::write_atomically_with;
use crate::redact::{Redactor, Snapshot};

/// The report as JSON with every secret masked.
pub fn to_masked_json(report: &Report, redactor: &Redactor) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
    redactor.mask_value(&mut value);
    value
}

/// `value` as pretty JSON text with every string masked.
pub fn to_masked_text<T: Serialize>(value: &T, redactor: &Redactor) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 * 1024);
    write_masked(value, redactor, &mut out)?;
    Ok(out)
}

fn write_masked<T: Serialize, W: Write>(
    value: &T,
    redactor: &Redactor,
    out: &mut W,
) -> io::Result<()> {
    let masker = redactor.snapshot();
    let _writing = Writing::start(&masker);
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut *out, Masking::new(&masker, 0));
    value.serialize(&mut serializer).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Lists of iterations shorter than this are written as they come.
const PARALLEL_ITEMS: usize = 2048;
/// Iterations per chunk a helper renders.
const CHUNK: usize = 512;

thread_local! {
    /// While this thread writes a report: its masker, the writer's depth, and a chunk of
    /// rendered text the next string written stands for.
    static WRITING: std::cell::RefCell<Option<Writing>> = const { std::cell::RefCell::new(None) };
}

struct Writing {
    masker: Snapshot,
    depth: usize,
    splice: Option<Vec<u8>>,
}

/// Clears this thread's writing state when the report is done (or failed).
struct WritingGuard;

impl Writing {
    fn start(masker: &Snapshot) -> WritingGuard {
        WRITING.with(|w| {
            *w.borrow_mut() = Some(Writing {
                masker: masker.clone(),
                depth: 0,
                splice: None,
            })
        });
        WritingGuard
    }
}

impl Drop for WritingGuard {
    fn drop(&mut self) {
        WRITING.with(|w| *w.borrow_mut() = None);
    }
}

/// Serialises a step's `iterations`: as any list, or, in a report being written with many
/// items, as chunks rendered by two helper threads (each with the report's masker, at the
/// list's depth) and spliced into the output in order. The text is the same either way.
pub fn iterations<S: serde::Serializer>(
    list: &Option<Vec<crate::exec::Iteration>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error as _, SerializeSeq};
    let Some(list) = list else {
        return serializer.serialize_none();
    };
    let context = WRITING.with(|w| {
        w.borrow()
            .as_ref()
            .map(|writing| (writing.masker.clone(), writing.depth))
    });
    let Some((masker, depth)) = context.filter(|_| list.len() >= PARALLEL_ITEMS) else {
        return list.serialize(serializer);
    };
    let chunks: Vec<&[crate::exec::Iteration]> = list.chunks(CHUNK).collect();
    let mut seq = serializer.serialize_seq(Some(chunks.len()))?;
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (0..2)
            .map(|helper| {
                let (send, receive) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(2);
                let (chunks, masker) = (&chunks, &masker);
                scope.spawn(move || {
                    for chunk in chunks.iter().skip(helper).step_by(2) {
                        if send.send(render(chunk, masker, depth + 1)).is_err() {
                            return;
                        }
                    }
                });
                receive
            })
            .collect();
        for index in 0..chunks.len() {
            #[cfg(test)]
            tests::RENDERED.with(|n| n.set(n.get() + 1));
            let text = helpers[index % 2]
                .recv()
                .map_err(|_| S::Error::custom("a report helper thread stopped"))?
                .map_err(S::Error::custom)?;
            WRITING.with(|w| {
                if let Some(writing) = w.borrow_mut().as_mut() {
                    writing.splice = Some(text);
                }
            });
            // Written as the chunk's text (see `Masking::end_string`).
            seq.serialize_element("")?;
        }
        Ok(())
    })?;
    seq.end()
}

/// `items` as they appear inside a list at `depth`: each one, separated as the pretty layout
/// separates list values.
fn render(
    items: &[crate::exec::Iteration],
    masker: &Snapshot,
    depth: usize,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(items.len() * 512);
    for (index, item) in items.iter().enumerate() {
        let masking = Masking::new(masker, depth);
        if index > 0 {
            masking.line(&mut out, false)?;
        }
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, masking);
        item.serialize(&mut serializer).map_err(io::Error::other)?;
    }
    Ok(out)
}

/// Writes the report to `path` through a temporary file and a rename, so that a crash never
/// leaves a truncated report; the JSON streams to the file as it is made.
pub fn write_json(report: &Report, redactor: &Redactor, path: &Path) -> io::Result<()> {
    write_atomically_with(path, |file| write_masked(report, redactor, file))
}

/// serde_json's pretty formatter, with each string collected (as escaped JSON text) and masked
/// before it is written. The redactor knows each secret's JSON-escaped form.
struct Masking<'a> {
    /// Nesting depth, and whether the innermost array or object has a value yet (the layout of
    /// serde_json's `PrettyFormatter`, indenting by two spaces).
    depth: usize,
    has_value: bool,
    masker: &'a Snapshot,
    /// The string being written, while one is.
    string: Option<Vec<u8>>,
    /// The buffer strings are collected in, kept between strings.
    spare: Vec<u8>,
}

impl<'a> Masking<'a> {
    fn new(masker: &'a Snapshot, depth: usize) -> Masking<'a> {
        Masking {
            depth,
            has_value: false,
            masker,
            string: None,
            spare: Vec::with_capacity(256),
        }
    }
}

impl Formatter for Masking<'_> {
    fn begin_string<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        // The opening quote waits for the end: the string may stand for a spliced chunk.
        let mut buffer = std::mem::take(&mut self.spare);
        buffer.clear();
        self.string = Some(buffer);
        Ok(())
    }

    fn end_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let Some(buffer) = self.string.take() else {
            return writer.write_all(b"\"\"");
        };
        if buffer.is_empty()
            && let Some(chunk) = WRITING.with(|w| w.borrow_mut().as_mut()?.splice.take())
        {
            self.spare = buffer;
            return writer.write_all(&chunk);
        }
        writer.write_all(b"\"")?;
        writer.write_all(&self.masker.mask_bytes(&buffer))?;
        self.spare = buffer;
        writer.write_all(b"\"")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        match &mut self.string {
            Some(text) => {
                text.extend_from_slice(fragment.as_bytes());
                Ok(())
            }
            None => writer.write_all(fragment.as_bytes()),
        }
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        match &mut self.string {
            Some(text) => CompactFormatter.write_char_escape(text, escape),
            None => CompactFormatter.write_char_escape(writer, escape),
        }
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.publish_depth();
        self.has_value = false;
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth -= 1;
        self.publish_depth();
        if self.has_value {
            self.line(writer, true)?;
        }
        writer.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.line(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.publish_depth();
        self.has_value = false;
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth -= 1;
        self.publish_depth();
        if self.has_value {
            self.line(writer, true)?;
        }
        writer.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.line(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

impl Masking<'_> {
    /// Tells `iterations` how deep the report writer is (helpers render at that depth).
    fn publish_depth(&self) {
        WRITING.with(|w| {
            if let Some(writing) = w.borrow_mut().as_mut() {
                writing.depth = self.depth;
            }
        });
    }

    /// A new line and the indentation of the current depth, after a comma unless `first`: one
    /// write where serde_json's pretty formatter makes one per level.
    fn line<W: ?Sized + Write>(&self, writer: &mut W, first: bool) -> io::Result<()> {
        let start = usize::from(first);
        let end = 2 + 2 * self.depth;
        match LINE.get(start..end) {
            Some(bytes) => writer.write_all(bytes),
            None => {
                writer.write_all(&LINE[start..2])?;
                (0..self.depth).try_for_each(|_| writer.write_all(b"  "))
            }
        }
    }
}

/// `,` and a newline, then enough indentation for any report.
const LINE: &[u8; 130] = b",\n                                                                                                                                ";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::{Exchange, Execution, Iteration, Status, StepResult};

    thread_local! {
        /// Chunks this thread spliced into a report.
        pub static RENDERED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn step(items: usize) -> StepResult {
        let iterations = (0..items)
            .map(|index| Iteration {
                index,
                item: serde_json::json!(format!("child-{index}")),
                status: Status::Succeeded,
                duration_ms: 1,
                run: Execution {
                    request: Some(Exchange {
                        method: "POST".into(),
                        url: format!("https://api.example.com/v1/{index}?token=s3cret-token"),
                        status: Some(200),
                        attempts: Vec::new(),
                    }),
                    ..Execution::default()
                },
                error: None,
                carried_over: false,
            })
            .collect();
        StepResult {
            id: "fan".into(),
            name: None,
            status: Status::Succeeded,
            duration_ms: 5,
            run: None,
            iterations: Some(iterations),
            succeeded: Some(items),
            failed: Some(0),
            error: None,
            carried_over: false,
        }
    }

    #[test]
    fn large_lists_rendered_in_parallel_read_as_written_in_order() {
        let redactor = Redactor::new();
        redactor.add("s3cret-token");
        #[derive(Serialize)]
        struct Doc {
            steps: Vec<StepResult>,
            after: Vec<&'static str>,
        }
        for (items, chunks) in [(PARALLEL_ITEMS - 1, 0), (PARALLEL_ITEMS * 2 + 7, 9)] {
            let doc = Doc {
                steps: vec![step(items)],
                after: vec!["x"],
            };
            let mut expected = serde_json::to_value(&doc).unwrap();
            redactor.mask_value(&mut expected);
            let before = RENDERED.with(std::cell::Cell::get);
            let text = String::from_utf8(to_masked_text(&doc, &redactor).unwrap()).unwrap();
            assert_eq!(
                text,
                serde_json::to_string_pretty(&expected).unwrap() + "\n",
                "{items}"
            );
            assert!(!text.contains("s3cret-token"));
            assert_eq!(
                RENDERED.with(std::cell::Cell::get) - before,
                chunks,
                "{items}"
            );
        }
    }

    #[test]
    fn lays_out_like_to_string_pretty_at_any_depth() {
        let mut deep = serde_json::json!({"leaf": [1, {}, [], {"a": []}]});
        for depth in 0..80 {
            deep = serde_json::json!({ format!("k{depth}"): [deep, depth] });
        }
        let text = to_masked_text(&deep, &Redactor::new()).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            serde_json::to_string_pretty(&deep).unwrap() + "\n"
        );
    }

    #[test]
    fn masks_strings_and_keys_but_never_numbers_or_structure() {
        let redactor = Redactor::new();
        redactor.add("200");
        redactor.add("s\"cret");
        let value = serde_json::json!({
            "status": 200,
            "token": "Bearer 200",
            "s\"cret": ["x s\"cret y", "line\nbreak"],
        });
        let text = String::from_utf8(to_masked_text(&value, &redactor).unwrap()).unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back,
            serde_json::json!({
                "status": 200,
                "token": "Bearer ***",
                "***": ["x *** y", "line\nbreak"],
            })
        );
        assert_eq!(
            text,
            serde_json::to_string_pretty(&back).unwrap() + "\n",
            "same layout as to_string_pretty"
        );
    }
}
