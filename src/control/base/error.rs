//! Errors the CLI maps to exit codes: bad input is told apart from failures.

/// Bad input: what is wrong and what to do. Nothing was changed. Exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{what}; {fix}")]
pub struct Invalid {
    pub what: String,
    pub fix: String,
}

pub fn invalid(what: impl Into<String>, fix: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Invalid {
        what: what.into(),
        fix: fix.into(),
    })
}

/// A workflow stopped part-way and can be resumed. Exit status 3.
#[derive(Debug)]
pub struct Resumable {
    pub workflow_id: i64,
    /// Why it stopped, when a step could not finish (a host that does not answer).
    pub reason: Option<String>,
}

impl std::fmt::Display for Resumable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let wf = self.workflow_id;
        match &self.reason {
            Some(r) => write!(
                f,
                "workflow {wf} paused: {r}; resume it with `dbctl workflow resume {wf}` once that is fixed (`dbctl sweep` does it too)"
            ),
            None => write!(
                f,
                "workflow {wf} stopped before it finished; resume it with `dbctl workflow resume {wf}`"
            ),
        }
    }
}

impl std::error::Error for Resumable {}

/// Waiting for a workflow gave up before it finished (it goes on). Exit status 4.
#[derive(Debug, thiserror::Error)]
#[error("workflow {workflow_id} is still {status} after {waited_secs}s; it goes on: wait again, or `dbctl workflow show {workflow_id}`")]
pub struct WaitTimedOut {
    pub workflow_id: i64,
    pub status: String,
    pub waited_secs: u64,
}

/// A workflow ran and failed; its completed steps were undone. Exit status 1.
#[derive(Debug, thiserror::Error)]
#[error("workflow {workflow_id} ({action}) failed: {reason}")]
pub struct WorkflowFailed {
    pub workflow_id: i64,
    pub action: String,
    pub reason: String,
}
