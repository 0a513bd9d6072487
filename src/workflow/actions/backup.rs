//! backup: a snapshot of an instance copied into a repository of the off-host tier.

use super::steps::{snapshot_step, upload_step};
use super::{AfterFailure, Meaning};
use crate::catalog::backups::BackupRow;
use crate::catalog::instances::InstanceRow;
use crate::catalog::snapshots::SnapshotRow;
use crate::workflow::plan::PlannedStep;

/// What its end means for the catalog. A backup never changes the instance.
pub const MEANING: Meaning = Meaning {
    name: "backup",
    after_failure: AfterFailure::Unchanged,
    success_event: "backed_up",
};

/// backup: [snapshot the instance (undo: delete it)] -> stream the snapshot into the
/// repository (nothing stays there unless all of it arrived).
pub fn steps(
    i: &InstanceRow,
    host_id: i64,
    snap: &SnapshotRow,
    fresh: bool,
    repository: &str,
    backup: &BackupRow,
) -> Vec<PlannedStep> {
    let mut steps = Vec::new();
    if fresh {
        steps.push(snapshot_step("snapshot", i, host_id, snap));
    }
    steps.push(upload_step(host_id, snap, repository, backup.id));
    steps
}
