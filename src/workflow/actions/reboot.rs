//! reboot: an instance's server stopped and started again on its data.

use super::steps::{start_step, stop_step};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::InstanceRow;
use crate::workflow::plan::PlannedStep;

/// What its end means for the catalog. Undo started the server again.
pub const MEANING: Meaning = Meaning {
    name: "reboot",
    after_failure: AfterFailure::Unchanged,
    success_event: "rebooted",
};

/// reboot: stop (undo: start) -> start, answering queries.
pub fn steps(i: &InstanceRow, host_id: i64) -> Vec<PlannedStep> {
    vec![stop_step(i, host_id, false), start_step(i, host_id)]
}
