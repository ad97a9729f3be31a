//! The event stream (`--events FILE`, or `-` for stdout): one JSON object per line as things
//! happen, each with a `ts` timestamp, masked. Credential headers show as `***` and bodies are
//! cut to `BODY_BYTES`.
//!
//! Lines go through a buffered writer behind a mutex. A file is flushed when a step or the run
//! ends (so `tail -f` follows step by step without a write per request); stdout is flushed after
//! every line. The stream ends with an `outputs` line when the recipe has outputs: with
//! `--events -` that line replaces the pretty outputs JSON, so stdout stays JSON Lines.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use crate::event::{Event, EventSink, truncate};
use crate::redact::{MASK, Redactor, is_credential_header};

/// The most of a body an event line carries, in bytes.
pub const BODY_BYTES: usize = 1024;

pub struct EventStream {
    out: Mutex<Writer>,
    redactor: Redactor,
    to_stdout: bool,
}

struct Writer {
    sink: BufWriter<Box<dyn Write + Send>>,
    /// The first write error; later lines are dropped and `finish` reports it.
    error: Option<std::io::Error>,
}

impl EventStream {
    /// Opens `target` (created or truncated), or stdout for `-`.
    pub fn open(target: &Path, redactor: Redactor) -> std::io::Result<EventStream> {
        let to_stdout = target.as_os_str() == "-";
        let sink: Box<dyn Write + Send> = if to_stdout {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::fs::File::create(target)?)
        };
        Ok(EventStream {
            out: Mutex::new(Writer {
                sink: BufWriter::new(sink),
                error: None,
            }),
            redactor,
            to_stdout,
        })
    }

    /// Whether the stream is stdout (the outputs then travel as its last line).
    pub fn is_stdout(&self) -> bool {
        self.to_stdout
    }

    /// Writes the `outputs` line (when there are outputs) and flushes; reports the first error.
    pub fn finish(
        &self,
        outputs: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> std::io::Result<()> {
        if let Some(outputs) = outputs {
            let mut record = serde_json::Map::new();
            record.insert("event".into(), "outputs".into());
            record.insert("outputs".into(), serde_json::Value::Object(outputs.clone()));
            self.write(record, true);
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let flushed = out.sink.flush();
        match out.error.take() {
            Some(error) => Err(error),
            None => flushed,
        }
    }

    /// Masks, stamps and writes one record.
    fn write(&self, fields: serde_json::Map<String, serde_json::Value>, flush: bool) {
        let mut record = serde_json::Map::new();
        record.insert("ts".into(), now().into());
        record.extend(fields);
        let mut value = serde_json::Value::Object(record);
        self.redactor.mask_value(&mut value);
        let Ok(mut line) = serde_json::to_string(&value) else {
            return;
        };
        line.push('\n');
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if out.error.is_some() {
            return;
        }
        let mut result = out.sink.write_all(line.as_bytes());
        if result.is_ok() && (flush || self.to_stdout) {
            result = out.sink.flush();
        }
        if let Err(error) = result {
            out.error = Some(error);
        }
    }
}

impl EventSink for EventStream {
    fn emit(&self, event: &Event) {
        let Ok(serde_json::Value::Object(mut fields)) = serde_json::to_value(event) else {
            return;
        };
        if let Some(serde_json::Value::Object(headers)) = fields.get_mut("headers") {
            for (name, value) in headers.iter_mut() {
                if is_credential_header(name) {
                    *value = MASK.into();
                }
            }
        }
        if let Some(serde_json::Value::String(body)) = fields.get_mut("body_preview") {
            let (head, cut) = truncate(body, BODY_BYTES);
            if cut {
                *body = head.to_string();
            }
        }
        let flush = matches!(
            event,
            Event::StepFinished { .. } | Event::RunFinished { .. }
        );
        self.write(fields, flush);
    }
}

/// The current time, RFC 3339 in UTC with milliseconds.
fn now() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Headers;

    #[test]
    fn lines_are_stamped_masked_and_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let redactor = Redactor::new();
        redactor.add("s3cret");
        let stream = EventStream::open(&path, redactor).unwrap();
        stream.emit(&Event::ResponseReceived {
            step: "a".into(),
            method: "GET".into(),
            url: "http://x/?k=s3cret".into(),
            attempt: 1,
            status: 200,
            duration_ms: 3,
            headers: Headers(vec![("set-cookie".into(), "id=1".into())]),
            body_preview: "x".repeat(BODY_BYTES + 10),
            body_bytes: BODY_BYTES + 10,
        });
        stream
            .finish(Some(&serde_json::Map::from_iter([(
                "v".to_string(),
                serde_json::json!("s3cret"),
            )])))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "response_received");
        assert_eq!(lines[0]["url"], "http://x/?k=***");
        assert_eq!(lines[0]["headers"]["set-cookie"], "***");
        assert_eq!(lines[0]["body_preview"].as_str().unwrap().len(), BODY_BYTES);
        assert!(lines[0]["ts"].as_str().unwrap().ends_with('Z'));
        assert_eq!(lines[1]["outputs"]["v"], "***");
    }
}
