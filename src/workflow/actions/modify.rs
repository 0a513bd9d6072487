//! modify: an instance's class or archive timeout changed in place (its settings rewritten,
//! the server restarted when the class changes). A class its host has no room for moves the
//! instance instead: that workflow is recover's, with [`resized_step`] at its end.

use super::steps::{catalog_step, host_step};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::InstanceRow;
use crate::wire::{Op, ReconfigureSpec, Size};
use crate::workflow::plan::{CatalogChange, PlannedStep};

/// What its end means for the catalog. Undo put the old settings back.
pub const MEANING: Meaning = Meaning {
    name: "modify",
    after_failure: AfterFailure::Unchanged,
    success_event: "modified",
};

/// The step that rewrites the settings (and restarts), whose time is the downtime.
pub const RECONFIGURE: &str = "reconfigure";

pub fn size_of(i: &InstanceRow) -> Size {
    Size {
        cpus: i.cpus,
        memory_mb: i.memory_mb,
        max_connections: i.max_connections,
    }
}

/// modify in place: rewrite the settings, restarting when `restart` (undo: the old ones,
/// restarted) -> record the new class and timeout.
pub fn steps(
    i: &InstanceRow,
    host_id: i64,
    class: &str,
    size: Size,
    archive_timeout_secs: u32,
    restart: bool,
) -> Vec<PlannedStep> {
    let spec = |size: Size, archive_timeout_secs: u32| {
        Op::Reconfigure(ReconfigureSpec {
            instance: i.uid.clone(),
            size,
            archive_timeout_secs,
            restart,
        })
    };
    vec![
        host_step(
            RECONFIGURE,
            host_id,
            spec(size, archive_timeout_secs),
            None,
            Some(spec(size_of(i), i.archive_timeout_secs)),
            &i.uid,
        ),
        resized_step(i.id, class, size, archive_timeout_secs),
    ]
}

/// Records the instance's new class and timeout (and clears the pending change it was).
pub fn resized_step(
    instance_id: i64,
    class: &str,
    size: Size,
    archive_timeout_secs: u32,
) -> PlannedStep {
    catalog_step(
        "record-size",
        CatalogChange::Resized {
            instance_id,
            class: class.into(),
            size,
            archive_timeout_secs,
        },
    )
}
