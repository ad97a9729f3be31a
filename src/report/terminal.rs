//! Plain terminal lines on stderr as a run goes: requests at `-v`, steps by default, only
//! errors at `-q`. Every line is masked.

use std::io::Write;

use crate::event::{Event, EventSink};
use crate::redact::Redactor;

pub struct TerminalSink {
    pub verbosity: i8,
    pub redactor: Redactor,
}

impl EventSink for TerminalSink {
    fn emit(&self, event: &Event) {
        let line = match event {
            Event::RequestSent {
                step,
                method,
                url,
                attempt,
            } if self.verbosity >= 1 => {
                format!(
                    "[{step}] > {method} {url}{}",
                    if *attempt > 1 {
                        format!(" (attempt {attempt})")
                    } else {
                        String::new()
                    }
                )
            }
            Event::ResponseReceived {
                step,
                status,
                duration_ms,
                ..
            } if self.verbosity >= 1 => {
                format!("[{step}] < {status} in {duration_ms}ms")
            }
            Event::RequestFailed { step, error, .. } if self.verbosity >= 0 => {
                format!("[{step}] ! {error}")
            }
            Event::Retry {
                step,
                attempt,
                wait_ms,
                reason,
            } if self.verbosity >= 0 => {
                format!("[{step}] retrying after attempt {attempt} ({reason}) in {wait_ms}ms")
            }
            Event::TokenFetched {
                profile,
                grant,
                reason,
            } if self.verbosity >= 1 => {
                format!("[auth {profile}] requesting a token ({grant}, {reason})")
            }
            Event::StepSkipped { step } if self.verbosity >= 1 => format!("[{step}] skipped"),
            _ => return,
        };
        let masked = self.redactor.mask(&line);
        let _ = writeln!(std::io::stderr().lock(), "{masked}");
    }
}
