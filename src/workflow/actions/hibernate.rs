//! hibernate: an instance's server gone and its host's room freed, with everything it
//! committed kept: a final snapshot, the logs after it, and a backup in its repository.

use super::steps::{catalog_step, host_step, iref, snapshot_step, stop_step, upload_step};
use super::{AfterFailure, Meaning};
use crate::catalog::backups::BackupRow;
use crate::catalog::instances::{status, InstanceRow};
use crate::catalog::snapshots::SnapshotRow;
use crate::wire::Op;
use crate::workflow::plan::{CatalogChange, Expect, PlannedStep};

/// What its end means for the catalog. Undo started the server again.
pub const MEANING: Meaning = Meaning {
    name: "hibernate",
    after_failure: AfterFailure::Unchanged,
    success_event: "hibernated",
};

/// hibernate: final snapshot (undo: delete it) -> end the sessions, archive the last log and
/// stop (undo: start) -> [the snapshot into the repository] -> drop the server and its data
/// (the snapshot and the logs after it stay) -> mark hibernated.
pub fn steps(
    i: &InstanceRow,
    host_id: i64,
    snap: &SnapshotRow,
    backup: Option<(&str, &BackupRow)>,
) -> Vec<PlannedStep> {
    let mut steps = vec![
        snapshot_step("final-snapshot", i, host_id, snap),
        stop_step(i, host_id, true),
    ];
    if let Some((repository, b)) = backup {
        steps.push(upload_step(host_id, snap, repository, b.id));
    }
    steps.push(host_step(
        "release",
        host_id,
        Op::Destroy(iref(i)),
        Some(Expect::Absent),
        None,
        &i.uid,
    ));
    steps.push(catalog_step(
        "mark-hibernated",
        CatalogChange::SetStatus {
            instance_id: i.id,
            status: status::HIBERNATED.into(),
        },
    ));
    steps
}
