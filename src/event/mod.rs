//! Events the runner emits as things happen, and the sinks that receive them (terminal lines,
//! log pipelines). Reports are built from the typed results; events are for watching.

mod detail;

pub use detail::{Headers, PREVIEW_BYTES, excerpt, preview, shorten, truncate};

use serde::Serialize;

/// Something that happened during a run. Values are not yet masked: sinks mask.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        recipe: String,
    },
    StepStarted {
        step: String,
        items: Option<usize>,
    },
    StepSkipped {
        step: String,
    },
    RequestSent {
        step: String,
        method: String,
        url: String,
        attempt: u32,
        /// The headers whisk set, the credential included (writers hide it).
        #[serde(skip_serializing_if = "Headers::is_empty")]
        headers: Headers,
        /// The start of the request body (see `preview`), when there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        body_preview: Option<String>,
    },
    ResponseReceived {
        step: String,
        method: String,
        url: String,
        attempt: u32,
        status: u16,
        duration_ms: u64,
        #[serde(skip_serializing_if = "Headers::is_empty")]
        headers: Headers,
        /// The start of the response body (see `preview`).
        body_preview: String,
        /// The whole body's size in bytes.
        body_bytes: usize,
    },
    RequestFailed {
        step: String,
        /// The loop item this request is for (`104`, `#3`), when it is one's.
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<String>,
        method: String,
        url: String,
        attempt: u32,
        error: String,
    },
    /// One hop of a redirect that was followed.
    Redirected {
        step: String,
        method: String,
        url: String,
        status: u16,
        location: String,
        auth_forwarded: bool,
    },
    Retry {
        step: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<String>,
        attempt: u32,
        wait_ms: u64,
        reason: String,
    },
    /// A poll of an `until` step found the condition false; the next comes after `wait_ms`.
    Poll {
        step: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<String>,
        n: u32,
        wait_ms: u64,
    },
    TokenFetched {
        profile: String,
        grant: String,
        reason: String,
    },
    /// The token endpoint's answer (its body masked by every sink, as everything is).
    TokenResponse {
        profile: String,
        url: String,
        grant: String,
        /// `None`: no answer came.
        status: Option<u16>,
        duration_ms: u64,
        body_preview: String,
    },
    /// SIGINT or SIGTERM: no new request starts; those in flight get `grace_ms` to finish.
    Interrupted {
        grace_ms: u64,
    },
    IterationFinished {
        step: String,
        index: usize,
        succeeded: bool,
    },
    StepFinished {
        step: String,
        status: crate::result::Status,
        duration_ms: u64,
        error: Option<String>,
    },
    RunFinished {
        status: crate::result::Status,
        duration_ms: u64,
    },
}

/// Which events a sink looks at, so that the runner builds only those: a fan-out would
/// otherwise make events and request detail nobody reads, several allocations per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest {
    /// `RequestSent` and `ResponseReceived`.
    pub exchanges: bool,
    /// Their headers and body previews.
    pub detail: bool,
    /// `IterationFinished` (progress).
    pub iterations: bool,
}

impl Interest {
    pub const ALL: Interest = Interest {
        exchanges: true,
        detail: true,
        iterations: true,
    };
    pub const NONE: Interest = Interest {
        exchanges: false,
        detail: false,
        iterations: false,
    };

    /// What either wants.
    pub fn or(self, other: Interest) -> Interest {
        Interest {
            exchanges: self.exchanges || other.exchanges,
            detail: self.detail || other.detail,
            iterations: self.iterations || other.iterations,
        }
    }
}

/// Receives events. Implementations must be cheap: they run on the request path.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: &Event);

    /// A step of the root recipe is over, with all it did (the terminal prints its line).
    fn step_done(&self, _step: &crate::result::StepResult) {}

    /// Which events this sink looks at; asked once per run.
    fn interest(&self) -> Interest {
        Interest::ALL
    }
}

/// A shared sink is a sink (so that a writer can be fanned out to and still be finished after).
impl<T: EventSink + ?Sized> EventSink for std::sync::Arc<T> {
    fn emit(&self, event: &Event) {
        (**self).emit(event);
    }

    fn step_done(&self, step: &crate::result::StepResult) {
        (**self).step_done(step);
    }

    fn interest(&self) -> Interest {
        (**self).interest()
    }
}

/// Discards events.
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _: &Event) {}

    fn interest(&self) -> Interest {
        Interest::NONE
    }
}

/// Sends each event to several sinks.
pub struct Fanout(pub Vec<Box<dyn EventSink>>);

impl EventSink for Fanout {
    fn emit(&self, event: &Event) {
        for sink in &self.0 {
            sink.emit(event);
        }
    }

    fn step_done(&self, step: &crate::result::StepResult) {
        for sink in &self.0 {
            sink.step_done(step);
        }
    }

    fn interest(&self) -> Interest {
        self.0
            .iter()
            .fold(Interest::NONE, |all, sink| all.or(sink.interest()))
    }
}
