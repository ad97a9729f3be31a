//! The exit code of a command, and the policy that turns a run's result into one.

use crate::result::{RunResult, Status};

/// What a command's process exits with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// A step failed.
    Failed = 1,
    /// The recipe or the command line is invalid; nothing was sent.
    Invalid = 2,
    /// Authentication failed.
    Auth = 3,
    /// Stopped by SIGINT/SIGTERM (128 + SIGINT).
    Interrupted = 130,
}

/// The exit code of a finished run: authentication failures first (a refused token fails
/// everything after it), then an interruption, then any failed step.
pub fn exit_for(result: &RunResult) -> Exit {
    if result.auth_failed() {
        Exit::Auth
    } else if result.status == Status::Interrupted {
        Exit::Interrupted
    } else if result.status == Status::Failed {
        Exit::Failed
    } else {
        Exit::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{ErrorInfo, ErrorKind, StepResult};

    fn run(status: Status, error: Option<ErrorKind>) -> RunResult {
        RunResult {
            status,
            steps: vec![StepResult {
                error: error.map(|kind| ErrorInfo::new(kind, "x")),
                ..StepResult::new("a", status)
            }],
            outputs: None,
            error: None,
        }
    }

    #[test]
    fn exit_codes_by_result() {
        let table = [
            (Status::Succeeded, None, Exit::Success),
            (Status::Failed, Some(ErrorKind::Status), Exit::Failed),
            (Status::Failed, Some(ErrorKind::Auth), Exit::Auth),
            (Status::Interrupted, None, Exit::Interrupted),
            (Status::Interrupted, Some(ErrorKind::Auth), Exit::Auth),
        ];
        for (status, error, exit) in table {
            assert_eq!(exit_for(&run(status, error)), exit, "{status:?} {error:?}");
        }
    }
}
