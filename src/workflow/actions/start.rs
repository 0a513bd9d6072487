//! start: a stopped instance's server started on its data again.

use super::steps::{mark_available, start_step};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::InstanceRow;
use crate::workflow::plan::PlannedStep;

/// What its end means for the catalog. Undo stopped it again.
pub const MEANING: Meaning = Meaning {
    name: "start",
    after_failure: AfterFailure::Unchanged,
    success_event: "started",
};

/// start: start it, answering queries (undo: stop) -> mark available.
pub fn steps(i: &InstanceRow, host_id: i64) -> Vec<PlannedStep> {
    vec![start_step(i, host_id), mark_available(i)]
}
