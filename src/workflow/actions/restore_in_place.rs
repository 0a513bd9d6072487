//! restore in place: an instance put back to a point in time, keeping its name, port and
//! endpoint.

use super::steps::{
    bring_here, catalog_step, drop_brought, host_step, size_of, snapshot_step, start_step,
    streamed_if_repository, CloneFrom,
};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::{status, InstanceRow};
use crate::catalog::snapshots::SnapshotRow;
use crate::wire::{AsideMode, AsideSpec, Op, RestoreSpec};
use crate::workflow::plan::{CatalogChange, Expect, PlannedStep};

/// What its end means for the catalog. Its undo put the old data back.
pub const MEANING: Meaning = Meaning {
    name: "restore",
    after_failure: AfterFailure::Unchanged,
    success_event: "restored_in_place",
};

/// restore in place: set the data aside, archiving its last commits (undo: put it back and
/// start it) -> [stream the snapshot and logs here] -> restore the snapshot plus logs into
/// the same instance, same port -> start (undo: stop) -> [drop the streamed copies] ->
/// snapshot the result -> drop the old data -> available.
pub fn steps(
    i: &InstanceRow,
    host_id: i64,
    from: &CloneFrom,
    after: &SnapshotRow,
) -> Vec<PlannedStep> {
    let aside = |mode| {
        Op::DataAside(AsideSpec {
            instance: i.uid.clone(),
            mode,
        })
    };
    let mut steps = vec![host_step(
        "set-data-aside",
        host_id,
        aside(AsideMode::Set),
        None,
        Some(aside(AsideMode::PutBack)),
        &i.uid,
    )];
    steps.extend(bring_here(from, host_id));
    steps.push(streamed_if_repository(
        host_step(
            "restore",
            host_id,
            Op::Restore(RestoreSpec {
                instance: i.uid.clone(),
                snapshot: from.local_snapshot(),
                port: None,
                size: size_of(i),
                admin_user: i.admin_user.clone(),
                archive_timeout_secs: i.archive_timeout_secs,
                recovery: from.recovery.clone(),
                in_place: true,
                port_from: None,
            }),
            Some(Expect::Exists),
            None,
            &i.uid,
        ),
        from,
    ));
    steps.push(start_step(i, host_id));
    steps.extend(drop_brought(from, host_id, &i.uid));
    steps.extend([
        snapshot_step("snapshot-restored", i, host_id, after),
        host_step(
            "set-old-data-aside",
            host_id,
            aside(AsideMode::Drop),
            None,
            None,
            &i.uid,
        ),
        catalog_step(
            "mark-available",
            CatalogChange::SetStatus {
                instance_id: i.id,
                status: status::AVAILABLE.into(),
            },
        ),
    ]);
    steps
}
