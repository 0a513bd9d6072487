//! How the executor reports progress: a trait the CLI implements (spinners on a terminal).

pub trait Progress: Sync {
    /// Step `idx` (0-based) of `total` starts its attempt `attempt` (1-based).
    fn step_started(&self, idx: u32, total: u32, name: &str, attempt: u32);
    /// A line from the host about the running step.
    fn message(&self, text: &str);
    /// The step ended; `error` is None on success.
    fn step_finished(&self, idx: u32, name: &str, error: Option<&str>);
    /// Bytes moved so far by a step that streams data (`total` 0 when unknown).
    fn bytes(&self, _done: u64, _total: u64) {}
}

/// Reports nothing (detached runs, the sweeper, tests).
pub struct Silent;

impl Progress for Silent {
    fn step_started(&self, _: u32, _: u32, _: &str, _: u32) {}
    fn message(&self, _: &str) {}
    fn step_finished(&self, _: u32, _: &str, _: Option<&str>) {}
}
