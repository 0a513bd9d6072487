//! stop: an instance's server stopped, its data kept on its host (as RDS stops one), every
//! commit archived first.

use super::steps::{catalog_step, stop_step};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::{status, InstanceRow};
use crate::workflow::plan::{CatalogChange, PlannedStep};

/// What its end means for the catalog. Undo started the server again.
pub const MEANING: Meaning = Meaning {
    name: "stop",
    after_failure: AfterFailure::Unchanged,
    success_event: "stopped",
};

/// stop: end its sessions, archive its last log, stop it (undo: start) -> mark stopped.
pub fn steps(i: &InstanceRow, host_id: i64) -> Vec<PlannedStep> {
    vec![
        stop_step(i, host_id, true),
        catalog_step(
            "mark-stopped",
            CatalogChange::SetStatus {
                instance_id: i.id,
                status: status::STOPPED.into(),
            },
        ),
    ]
}
