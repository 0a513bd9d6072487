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
#[derive(Debug, thiserror::Error)]
#[error("workflow {workflow_id} stopped before it finished; resume it with `dbctl workflow resume {workflow_id}`")]
pub struct Resumable {
    pub workflow_id: i64,
}

/// A workflow ran and failed; its completed steps were undone. Exit status 1.
#[derive(Debug, thiserror::Error)]
#[error("workflow {workflow_id} ({action}) failed: {reason}")]
pub struct WorkflowFailed {
    pub workflow_id: i64,
    pub action: String,
    pub reason: String,
}
