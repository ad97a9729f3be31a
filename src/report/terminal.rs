//! The terminal as a run goes, on stderr: retries and failed requests by default, with a
//! progress bar per running loop on a terminal (see `progress`); `-v` adds each request and
//! response (status, response headers, the first KiB of the body), `-vv` the request headers
//! (credentials as `***`), the request body and up to 16 KiB of bodies; `-q` shows nothing here
//! (errors come with the summary). Every line is masked.

use std::fmt::Write as _;

use super::progress::Progress;
use crate::diagnostic::Console;
use crate::event::{Event, EventSink, Headers, Interest, PREVIEW_BYTES, truncate};
use crate::redact::{MASK, is_credential_header};

/// How much of a body `-v` shows; `-vv` shows all an event carries (`PREVIEW_BYTES`).
pub const VERBOSE_BODY_BYTES: usize = 1024;

pub struct TerminalSink {
    verbosity: i8,
    console: Console,
    progress: Progress,
}

impl TerminalSink {
    /// `verbosity`: -1 quiet, 0 normal, 1 `-v`, 2 `-vv`. Bars only when `tty` and not quiet.
    /// Lines go out through `console`, masked.
    pub fn new(verbosity: i8, console: Console, tty: bool) -> TerminalSink {
        TerminalSink {
            verbosity,
            progress: Progress::new(tty && verbosity >= 0, console.color),
            console,
        }
    }

    fn body_limit(&self) -> usize {
        if self.verbosity >= 2 {
            PREVIEW_BYTES
        } else {
            VERBOSE_BODY_BYTES
        }
    }
}

impl EventSink for TerminalSink {
    fn interest(&self) -> Interest {
        Interest {
            exchanges: self.verbosity >= 1,
            detail: self.verbosity >= 1,
            iterations: self.verbosity >= 0,
        }
    }

    fn emit(&self, event: &Event) {
        let v = self.verbosity;
        let text = match event {
            Event::StepStarted {
                step,
                items: Some(items),
            } if v >= 0 => {
                self.progress.started(step, *items);
                return;
            }
            Event::IterationFinished {
                step, succeeded, ..
            } if v >= 0 => match self.progress.item_done(step, *succeeded) {
                Some(line) => line,
                None => return,
            },
            Event::StepFinished { step, .. } => {
                self.progress.finished(step);
                return;
            }
            Event::RequestSent {
                step,
                method,
                url,
                attempt,
                headers,
                body_preview,
            } if v >= 1 => {
                let mut out = format!("[{step}] > {method} {url}");
                if *attempt > 1 {
                    let _ = write!(out, " (attempt {attempt})");
                }
                if v >= 2 {
                    header_lines(&mut out, step, '>', headers);
                    if let Some(body) = body_preview {
                        body_lines(
                            &mut out,
                            step,
                            '>',
                            body,
                            None,
                            self.body_limit(),
                            &self.console.masker(),
                        );
                    }
                }
                out
            }
            Event::ResponseReceived {
                step,
                method,
                url,
                status,
                duration_ms,
                headers,
                body_preview,
                body_bytes,
                ..
            } if v >= 1 => {
                let mut out = format!("[{step}] < {status} in {duration_ms}ms ({method} {url})");
                header_lines(&mut out, step, '<', headers);
                body_lines(
                    &mut out,
                    step,
                    '<',
                    body_preview,
                    Some(*body_bytes),
                    self.body_limit(),
                    &self.console.masker(),
                );
                out
            }
            Event::RequestFailed {
                step, item, error, ..
            } if v >= 0 => format!("[{}] ! {error}", who(step, item)),
            Event::Retry {
                step,
                item,
                attempt,
                wait_ms,
                reason,
            } if v >= 0 => format!(
                "[{}] retrying after attempt {attempt} ({reason}) in {wait_ms}ms",
                who(step, item)
            ),
            Event::TokenFetched {
                profile,
                grant,
                reason,
            } if v >= 1 || (v >= 0 && reason != "first use") => {
                format!("[auth {profile}] requesting a token ({grant}, {reason})")
            }
            Event::StepSkipped { step } if v >= 1 => format!("[{step}] skipped"),
            // Every poll with -v; without, the first and every tenth, so a long wait shows life.
            Event::Poll {
                step,
                item,
                n,
                wait_ms,
            } if v >= 1 || (v >= 0 && (*n == 1 || n % 10 == 0)) => format!(
                "[{}] poll {n}: not yet; next in {}",
                who(step, item),
                crate::recipe::Duration(std::time::Duration::from_millis(*wait_ms))
            ),
            Event::Redirected {
                step,
                status,
                location,
                auth_forwarded,
                ..
            } if v >= 2 => {
                let auth = if *auth_forwarded {
                    "Authorization forwarded"
                } else {
                    "no Authorization"
                };
                format!("[{step}] < {status} redirect to {location} ({auth})")
            }
            Event::TokenResponse {
                profile,
                url,
                grant,
                status,
                duration_ms,
                body_preview,
            } if v >= 2 => {
                let status = status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
                let who = format!("auth {profile}");
                let mut out =
                    format!("[{who}] < {status} in {duration_ms}ms (POST {url}, {grant})");
                body_lines(
                    &mut out,
                    &who,
                    '<',
                    body_preview,
                    None,
                    self.body_limit(),
                    &self.console.masker(),
                );
                out
            }
            Event::Interrupted { grace_ms } => {
                self.progress.clear();
                format!(
                    "interrupted: starting no new requests; waiting up to {} for those in flight (signal again to stop now)",
                    crate::recipe::Duration(std::time::Duration::from_millis(*grace_ms))
                )
            }
            _ => return,
        };
        self.progress.print(|| self.console.line(&text));
    }

    fn step_done(&self, step: &crate::result::StepResult) {
        if self.verbosity >= 0 {
            let text = super::summary::step_lines(step, self.console.color);
            self.progress.print(|| self.console.line(&text));
        }
    }
}

/// A step, and the loop item when there is one: `enable_children 104`.
fn who(step: &str, item: &Option<String>) -> String {
    match item {
        Some(item) => format!("{step} {item}"),
        None => step.to_owned(),
    }
}

fn header_lines(out: &mut String, step: &str, arrow: char, headers: &Headers) {
    for (name, value) in &headers.0 {
        let value = if is_credential_header(name) {
            MASK
        } else {
            value.as_str()
        };
        let _ = write!(out, "\n[{step}] {arrow} {name}: {value}");
    }
}

/// The body's lines, cut at `limit` bytes, with how much was left out when known.
fn body_lines(
    out: &mut String,
    step: &str,
    arrow: char,
    body: &str,
    total: Option<usize>,
    limit: usize,
    masker: &crate::redact::Masker,
) {
    if body.is_empty() {
        return;
    }
    // Masked before it is cut, so that the cut never leaves part of a secret.
    let masked = masker.mask(body);
    let (head, cut) = truncate(&masked, limit);
    for line in head.lines() {
        let _ = write!(out, "\n[{step}] {arrow} {line}");
    }
    let shown = head.len();
    match total {
        Some(total) if total > shown => {
            let _ = write!(out, "\n[{step}] {arrow} … {} more bytes", total - shown);
        }
        _ if cut => {
            let _ = write!(out, "\n[{step}] {arrow} …");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_follows_verbosity_and_fans_out() {
        use crate::event::{Fanout, Interest, NullSink};
        let quiet = TerminalSink::new(-1, Console::default(), false);
        assert_eq!(quiet.interest(), Interest::NONE);
        let normal = TerminalSink::new(0, Console::default(), false);
        assert_eq!(
            normal.interest(),
            Interest {
                iterations: true,
                ..Interest::NONE
            }
        );
        let verbose = TerminalSink::new(1, Console::default(), false);
        assert_eq!(verbose.interest(), Interest::ALL);
        assert_eq!(
            Fanout(vec![Box::new(NullSink), Box::new(normal)]).interest(),
            Interest {
                iterations: true,
                ..Interest::NONE
            }
        );
    }

    #[test]
    fn bodies_are_cut_with_the_rest_counted() {
        let mut out = String::new();
        body_lines(
            &mut out,
            "s",
            '<',
            "ab\ncd",
            Some(100),
            4,
            &Default::default(),
        );
        assert_eq!(out, "\n[s] < ab\n[s] < c\n[s] < … 96 more bytes");
        let mut out = String::new();
        body_lines(&mut out, "s", '<', "ok", Some(2), 4, &Default::default());
        assert_eq!(out, "\n[s] < ok");
    }

    #[test]
    fn credential_headers_are_hidden() {
        let mut out = String::new();
        let headers = Headers(vec![
            ("authorization".into(), "Bearer t".into()),
            ("accept".into(), "*/*".into()),
        ]);
        header_lines(&mut out, "s", '>', &headers);
        assert_eq!(out, "\n[s] > authorization: ***\n[s] > accept: */*");
    }
}
