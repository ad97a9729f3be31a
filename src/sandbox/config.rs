//! How to start a sandbox: ports, seed data and where the request log goes.

use std::path::Path;

use super::data::SandboxData;
use super::error::SandboxError;
use super::log::LogSink;

/// Everything `start` needs. `Default` gives any free ports, the demo data and no log.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// Port of the main listener on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Port of the Oracle runtime listener on 127.0.0.1; 0 picks a free one.
    pub runtime_port: u16,
    pub data: SandboxData,
    pub log: LogSink,
}

impl SandboxConfig {
    /// A config serving `data` on free ports, without a log.
    pub fn new(data: SandboxData) -> Self {
        Self {
            data,
            ..Self::default()
        }
    }

    /// Reads and validates a data file (YAML, or JSON for `*.json`).
    pub fn from_data_file(path: &Path) -> Result<SandboxData, SandboxError> {
        SandboxData::load(path)
    }

    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub fn with_runtime_port(mut self, port: u16) -> Self {
        self.runtime_port = port;
        self
    }

    pub fn with_log(mut self, log: LogSink) -> Self {
        self.log = log;
        self
    }
}
