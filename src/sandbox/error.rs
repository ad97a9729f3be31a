//! Why the sandbox could not start: unreadable or invalid data, or a port it could not bind.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything `start` and the data-file loader can fail with.
#[derive(Debug)]
pub enum SandboxError {
    /// The data file could not be read.
    ReadData { path: PathBuf, source: io::Error },
    /// The data file is not valid YAML/JSON for the sandbox's data model.
    ParseData { path: PathBuf, message: String },
    /// The data parsed but contradicts itself (`field` is a path like `tibco.token_org`).
    InvalidData { field: String, message: String },
    /// A listener could not be bound.
    Bind { address: String, source: io::Error },
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadData { path, source } => {
                write!(
                    f,
                    "cannot read sandbox data file `{}`: {source}",
                    path.display()
                )
            }
            Self::ParseData { path, message } => {
                write!(
                    f,
                    "invalid sandbox data file `{}`: {message}",
                    path.display()
                )
            }
            Self::InvalidData { field, message } => {
                write!(f, "invalid sandbox data at `{field}`: {message}")
            }
            Self::Bind { address, source } => {
                write!(f, "cannot listen on `{address}`: {source}")
            }
        }
    }
}

impl std::error::Error for SandboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::ReadData { source, .. } | Self::Bind { source, .. } => Some(source),
            Self::ParseData { .. } | Self::InvalidData { .. } => None,
        }
    }
}
