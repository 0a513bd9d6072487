//! snapshot: one online snapshot of a running instance.

use super::steps::snapshot_step;
use super::{AfterFailure, Meaning};
use crate::catalog::instances::InstanceRow;
use crate::catalog::snapshots::SnapshotRow;
use crate::workflow::plan::PlannedStep;

/// What its end means for the catalog. A snapshot never changes the
/// instance.
pub const MEANING: Meaning = Meaning {
    name: "snapshot",
    after_failure: AfterFailure::Unchanged,
    success_event: "snapshot_taken",
};

/// snapshot: one online snapshot, recorded in the catalog when it is complete.
pub fn steps(i: &InstanceRow, host_id: i64, snap: &SnapshotRow) -> Vec<PlannedStep> {
    vec![snapshot_step("snapshot", i, host_id, snap)]
}
