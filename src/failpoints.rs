//! Fault injection for the resumability and undo tests, set through $DBCTL_FAILPOINTS: shared
//! by the executor and dbhost's engines, so it belongs to neither.
//!
//! `crash-after:STEP` aborts the process right after STEP's request returned and before the
//! catalog records it (the worst moment for a crash); `fail:STEP` makes every attempt of STEP
//! fail after it acted (a verification that never passes); `fail-before:STEP` makes every
//! attempt fail before it acts (a host that keeps refusing); `interrupt-after:STEP` sends this
//! process SIGINT once STEP is recorded, as a Ctrl-C at that moment would. Unset (always, outside tests) this costs one environment lookup per step.

/// Whether the failpoint `kind:step` is set.
pub fn armed(kind: &str, step: &str) -> bool {
    std::env::var(crate::env::DBCTL_FAILPOINTS)
        .map(|v| v.split(',').any(|f| f.trim() == format!("{kind}:{step}")))
        .unwrap_or(false)
}

/// Kills the process, as a crash or `kill -9` would, when `crash-after:step` is set.
pub fn crash_after(step: &str) {
    if armed("crash-after", step) {
        // SIGKILL rather than abort: no unwinding, no core file, nothing flushed.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
    }
}

/// Sends this process SIGINT (through the real handler) when `interrupt-after:step` is set.
pub fn interrupt_after(step: &str) {
    if armed("interrupt-after", step) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGINT);
    }
}
