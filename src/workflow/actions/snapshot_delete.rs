//! snapshot delete: a snapshot off its host and out of the catalog, with the logs only it
//! needed.

use super::steps::{catalog_step, host_step};
use super::{AfterFailure, Meaning};
use crate::catalog::snapshots::SnapshotRow;
use crate::wire::logs::PruneSpec;
use crate::wire::{Op, SnapshotRef};
use crate::workflow::plan::{CatalogChange, PlannedStep};

/// What its end means for the catalog. The instance is untouched.
pub const MEANING: Meaning = Meaning {
    name: "snapshot-delete",
    after_failure: AfterFailure::Unchanged,
    success_event: "snapshot_deleted",
};

/// snapshot delete: remove it from its host, drop the archived logs no kept snapshot needs
/// any more (`prune`), then forget it.
pub fn steps(snap: &SnapshotRow, host_id: i64, prune: PruneSpec) -> Vec<PlannedStep> {
    vec![
        host_step(
            "delete-snapshot",
            host_id,
            Op::SnapshotDelete(SnapshotRef {
                snapshot: snap.uid.clone(),
            }),
            None,
            None,
            &snap.uid,
        ),
        host_step(
            "prune-logs",
            host_id,
            Op::LogPrune(prune),
            None,
            None,
            &snap.uid,
        ),
        catalog_step(
            "forget-snapshot",
            CatalogChange::SnapshotDeleted {
                snapshot_id: snap.id,
            },
        ),
    ]
}
