//! clone: a new, independent instance from a snapshot of another (`clone`, and `restore
//! --as` to a point in time).

use super::steps::{
    bring_here, catalog_step, drop_brought, host_step, restore_new_step, snapshot_step, start_step,
    CloneFrom,
};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::{status, InstanceRow};
use crate::wire::{Op, PasswordSpec};
use crate::workflow::plan::{CatalogChange, Expect, PlannedStep};

/// What its end means for the catalog. Undo removed the new instance, so
/// its name is free again.
pub const MEANING: Meaning = Meaning {
    name: "clone",
    after_failure: AfterFailure::Set(status::DELETED),
    success_event: "cloned",
};

/// clone: [snapshot the source] -> [stream it to the target host] -> restore (undo: destroy)
/// -> start (undo: stop) -> new password -> [drop the streamed copy] -> mark available.
pub fn steps(
    new: &InstanceRow,
    host_id: i64,
    from: &CloneFrom,
    port: Option<u16>,
    base: Option<&crate::catalog::snapshots::SnapshotRow>,
) -> Vec<PlannedStep> {
    let mut steps = Vec::new();
    if from.fresh {
        steps.push(snapshot_step(
            "snapshot-source",
            from.source,
            from.source_host,
            from.snapshot,
        ));
    }
    steps.extend(bring_here(from, host_id));
    steps.push(restore_new_step(new, host_id, from, port));
    steps.push(start_step(new, host_id));
    steps.push(host_step(
        "set-password",
        host_id,
        Op::SetPassword(PasswordSpec {
            instance: new.uid.clone(),
            password: String::new(),
        }),
        Some(Expect::Accepting),
        None,
        &new.uid,
    ));
    steps.extend(drop_brought(from, host_id, &new.uid));
    // Its own base snapshot: from its first moment, it can be rebuilt without its source.
    steps.extend(base.map(|b| snapshot_step(super::create::BASE, new, host_id, b)));
    steps.push(catalog_step(
        "mark-available",
        CatalogChange::SetStatus {
            instance_id: new.id,
            status: status::AVAILABLE.into(),
        },
    ));
    steps
}
