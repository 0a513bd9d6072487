//! Workflows: actions compiled to persisted step lists, and the executor that runs them with
//! verification, retries, undo, leases and resumption.

pub mod actions;
pub mod executor;
pub mod interrupt;
pub mod plan;
pub mod progress;
