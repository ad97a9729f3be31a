//! The request log: one record per request, and where records go (nowhere, stderr, a hook).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc;

/// Which listener served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Listener {
    /// TIBCO, IBM, Oracle identity domain and Oracle design-time host.
    Main,
    /// The Oracle runtime host, which only redirects.
    OracleRuntime,
}

/// One served request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    pub listener: Listener,
    pub method: String,
    pub path: String,
    /// The status answered; 0 when an injected fault reset the connection or never answered.
    pub status: u16,
    pub duration_ms: u64,
    /// Whether an injected fault answered or delayed the request.
    pub fault: bool,
}

impl fmt::Display for RequestRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match self.listener {
            Listener::Main => "",
            Listener::OracleRuntime => "runtime ",
        };
        let fault = if self.fault { " (injected fault)" } else { "" };
        let status = match self.status {
            0 => "-".to_owned(),
            status => status.to_string(),
        };
        write!(
            f,
            "{host}{} {} {status} {} ms{fault}",
            self.method, self.path, self.duration_ms
        )
    }
}

/// Where request records go.
#[derive(Clone, Default)]
pub enum LogSink {
    /// Nowhere (counters in `Stats` are kept regardless).
    #[default]
    Quiet,
    /// One line per request on stderr, prefixed with `sandbox: `.
    Stderr,
    /// A hook called with every record.
    Callback(Arc<dyn Fn(&RequestRecord) + Send + Sync>),
}

impl LogSink {
    /// A hook called with every record.
    pub fn callback(hook: impl Fn(&RequestRecord) + Send + Sync + 'static) -> Self {
        Self::Callback(Arc::new(hook))
    }

    /// Sends every record into a channel (records are dropped once the receiver is gone).
    pub fn channel(sender: mpsc::UnboundedSender<RequestRecord>) -> Self {
        Self::callback(move |record| {
            let _ = sender.send(record.clone());
        })
    }

    pub(crate) fn emit(&self, record: &RequestRecord) {
        match self {
            Self::Quiet => {}
            Self::Stderr => eprintln!("sandbox: {record}"),
            Self::Callback(hook) => hook(record),
        }
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Quiet => "Quiet",
            Self::Stderr => "Stderr",
            Self::Callback(_) => "Callback(..)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_as_one_line() {
        let record = RequestRecord {
            listener: Listener::OracleRuntime,
            method: "GET".to_owned(),
            path: "/ic/api/integration/v1/connections".to_owned(),
            status: 307,
            duration_ms: 2,
            fault: false,
        };
        assert_eq!(
            record.to_string(),
            "runtime GET /ic/api/integration/v1/connections 307 2 ms"
        );
    }

    #[test]
    fn channel_sink_forwards_records() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let record = RequestRecord {
            listener: Listener::Main,
            method: "POST".to_owned(),
            path: "/x".to_owned(),
            status: 429,
            duration_ms: 0,
            fault: true,
        };
        LogSink::channel(tx).emit(&record);
        assert_eq!(rx.try_recv().ok(), Some(record));
    }
}
