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

/// Runs `attempt` on `state` until it succeeds, fails for good, `retries` attempts after the
/// first have failed, or `give_up` says so. Before each retry, `before_retry` is told of the
/// failure (the executor records it, so it shows while the step waits), then it waits
/// `backoff_ms`, doubling. Each attempt is given its number, from 1.
///
/// # Errors
/// The last attempt's error, or what `before_retry` returned.
pub(super) fn with_retries<S, T>(
    state: &mut S,
    retries: u32,
    backoff_ms: u64,
    give_up: &dyn Fn() -> bool,
    mut attempt: impl FnMut(&mut S, u32) -> Result<T, StepError>,
    mut before_retry: impl FnMut(&mut S, &StepError) -> Result<(), StepError>,
) -> Result<T, StepError> {
    for n in 1.. {
        match attempt(state, n) {
            Ok(v) => return Ok(v),
            Err(e) if !e.transient || n > retries || give_up() => return Err(e),
            Err(e) => {
                before_retry(state, &e)?;
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
        let mut seen: Vec<String> = vec![];
        let r = with_retries(
            &mut seen,
            2,
            0,
            &|| false,
            |_, n| {
                if n < 3 {
                    Err(StepError::retryable(format!("try {n}")))
                } else {
                    Ok(n)
                }
            },
            |seen, e| {
                seen.push(e.message.clone());
                Ok(())
            },
        );
        assert_eq!(r.ok(), Some(3));
        assert_eq!(seen, ["try 1", "try 2"]);
        let r: Result<(), _> = with_retries(
            &mut (),
            1,
            0,
            &|| false,
            |_, n| Err(StepError::retryable(format!("try {n}"))),
            |_, _| Ok(()),
        );
        assert_eq!(r.err().map(|e| e.message), Some("try 2".into()));
        // A failure for good is not tried again, nor is anything after a give-up.
        for (give_up, error) in [
            (false, StepError::fatal("no".into())),
            (true, StepError::retryable("no".into())),
        ] {
            let mut tries = 0;
            let _: Result<(), _> = with_retries(
                &mut tries,
                5,
                0,
                &|| give_up,
                |tries, _| {
                    *tries += 1;
                    Err(StepError {
                        message: error.message.clone(),
                        ..error
                    })
                },
                |_, _| Ok(()),
            );
            assert_eq!(tries, 1);
        }
    }
}
