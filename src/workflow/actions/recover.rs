//! recover: a broken instance rebuilt from a snapshot and its logs, taking over its name and
//! endpoint.

use super::steps::{
    bring_here, catalog_step, drop_brought, host_step, iref, restore_new_step, snapshot_step,
    start_step, CloneFrom,
};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::InstanceRow;
use crate::catalog::snapshots::SnapshotRow;
use crate::wire::Op;
use crate::workflow::plan::{CatalogChange, PlannedStep};

/// The step that stops the old server, whose answer says up to when its log was archived.
pub const STOP_OLD: &str = "stop-old";
/// The step that restores the new server, whose answer says what it recovered to.
pub use super::steps::RESTORE;

/// What its end means for the catalog. A failed recovery leaves the old
/// instance as it was (its server stopped, if one was running at all).
pub const MEANING: Meaning = Meaning {
    name: "recover",
    after_failure: AfterFailure::Unchanged,
    success_event: "recovered",
};

/// recover: stop the old server, archiving its last commits (if it runs) -> [stream the
/// snapshot and its logs to the new host] -> restore the snapshot plus the logs of its
/// incarnation (`from.source`) to the target into `new` (undo: destroy) -> start (undo: stop)
/// -> [drop the streamed copies] -> snapshot the result -> `new` takes the old name and
/// endpoint.
///
/// Without `old_host` (gone, or not answering: the recovery then comes from a repository)
/// the old server is neither stopped nor dropped.
pub fn steps(
    old: &InstanceRow,
    old_host: Option<i64>,
    from: &CloneFrom,
    new: &InstanceRow,
    host_id: i64,
    after: &SnapshotRow,
) -> Vec<PlannedStep> {
    // A move takes its snapshot of the old server while it still serves.
    let mut steps: Vec<PlannedStep> = Vec::new();
    if from.fresh {
        steps.push(snapshot_step(
            "snapshot-source",
            from.source,
            from.source_host,
            from.snapshot,
        ));
    }
    // A server that still runs has its last commits archived as it stops, so none is lost.
    // If the recovery fails, it is started again: production is never left stopped by a
    // rebuild that did not happen.
    steps.extend(old_host.map(|h| {
        host_step(
            STOP_OLD,
            h,
            Op::StopArchived(iref(old)),
            None,
            Some(Op::Start(iref(old))),
            &old.uid,
        )
    }));
    steps.extend(bring_here(from, host_id));
    // On the host it was on, the new server keeps the old one's port (stopped by now).
    let restore = restore_new_step(new, host_id, from, None);
    steps.push(match old_host {
        Some(h) if h == host_id => super::steps::taking_port_of(restore, &old.uid),
        _ => restore,
    });
    steps.push(start_step(new, host_id));
    steps.extend(drop_brought(from, host_id, &new.uid));
    steps.push(snapshot_step("snapshot-recovered", new, host_id, after));
    steps.push(catalog_step(
        "take-over",
        CatalogChange::TakeOver {
            old_id: old.id,
            new_id: new.id,
        },
    ));
    // The replaced server's OS user goes, and its directory is set aside on its host, never
    // deleted here: what it held may be all there is of commits the rebuild did not reach.
    // Its snapshots and log archive stay (the instance's history).
    if let Some(h) = old_host {
        let mut drop_old = host_step(
            "set-old-server-aside",
            h,
            Op::Retire(crate::wire::RetireSpec {
                instance: old.uid.clone(),
                reason: format!("replaced by {} (a rebuild of {})", new.uid, old.name),
            }),
            None,
            None,
            &old.uid,
        );
        drop_old.spec.best_effort = true;
        steps.push(drop_old);
    }
    steps
}
