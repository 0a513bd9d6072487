//! Step errors and the one retry loop steps and undos share: transient failures are tried
//! again with exponential backoff, within the step's budget.

use crate::transport::CallError;
use std::time::Duration;

pub(super) struct StepError {
    pub message: String,
    /// Trying the same step again may help.
    pub transient: bool,
    /// The host could not be reached: neither the step nor an undo can act, so the workflow
    /// pauses (resumable) instead of failing.
    pub unreachable: bool,
}

impl StepError {
    pub fn retryable(message: String) -> Self {
        StepError {
            message,
            transient: true,
            unreachable: false,
        }
    }

    pub fn fatal(message: String) -> Self {
        StepError {
            message,
            transient: false,
            unreachable: false,
        }
    }
}

impl From<anyhow::Error> for StepError {
    fn from(e: anyhow::Error) -> Self {
        StepError::fatal(format!("{e:#}"))
    }
}

/// A transport's error on `host`, classified.
pub(super) fn call_error(host: &str, e: CallError) -> StepError {
    StepError {
        message: format!("on host {host}: {e}"),
        transient: e.is_transient(),
        unreachable: matches!(e, CallError::Unreachable(_)),
    }
}

/// Runs `attempt` until it succeeds, fails for good, `retries` attempts after the first have
/// failed, or `give_up` says so; waits `backoff_ms`, doubling, between attempts. Each
/// attempt is given its number (from 1) and the error of the one before it.
///
/// # Errors
/// The last attempt's error.
pub(super) fn with_retries<T>(
    retries: u32,
    backoff_ms: u64,
    give_up: &dyn Fn() -> bool,
    mut attempt: impl FnMut(u32, Option<&StepError>) -> Result<T, StepError>,
) -> Result<T, StepError> {
    let mut previous = None;
    for n in 1.. {
        match attempt(n, previous.as_ref()) {
            Ok(v) => return Ok(v),
            Err(e) if !e.transient || n > retries || give_up() => return Err(e),
            Err(e) => {
                previous = Some(e);
                std::thread::sleep(Duration::from_millis(backoff_ms << (n - 1)));
            }
        }
    }
    unreachable!("the attempts run until one returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_transient_failures_within_the_budget_only() {
        let mut seen = vec![];
        let r = with_retries(2, 0, &|| false, |n, before| {
            seen.extend(before.map(|e| e.message.clone()));
            if n < 3 {
                Err(StepError::retryable(format!("try {n}")))
            } else {
                Ok(n)
            }
        });
        assert_eq!(r.ok(), Some(3));
        assert_eq!(seen, ["try 1", "try 2"]);
        let r: Result<(), _> = with_retries(1, 0, &|| false, |n, _| {
            Err(StepError::retryable(format!("try {n}")))
        });
        assert_eq!(r.err().map(|e| e.message), Some("try 2".into()));
        // A failure for good is not tried again, nor is anything after a give-up.
        let mut tries = 0;
        let _: Result<(), _> = with_retries(5, 0, &|| false, |_, _| {
            tries += 1;
            Err(StepError::fatal("no".into()))
        });
        assert_eq!(tries, 1);
        let mut tries = 0;
        let _: Result<(), _> = with_retries(5, 0, &|| true, |_, _| {
            tries += 1;
            Err(StepError::retryable("no".into()))
        });
        assert_eq!(tries, 1);
    }
}
