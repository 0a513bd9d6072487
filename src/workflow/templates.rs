//! Action templates: each action compiled, for its instance and host, into an ordered step list.
//!
//! Steps are engine-neutral requests; dbhost's engine module decides what each means.

use super::plan::{Action, CatalogChange, Check, Expect, PlannedStep, Record, StepSpec};
use crate::catalog::instances::{status, InstanceRow};
use crate::catalog::snapshots::SnapshotRow;
use crate::wire::{
    AsideMode, AsideSpec, InstanceRef, LogExportSpec, Op, PasswordSpec, ProvisionSpec, PruneSpec,
    RecoverySpec, RestoreSpec, Size, SnapshotRef, SnapshotSpec, SnapshotStart,
};

const HOST_RETRIES: u32 = 2;
const BACKOFF_MS: u64 = 1000;

fn host_step(
    name: &str,
    host_id: i64,
    op: Op,
    verify: Option<Expect>,
    undo: Option<Op>,
    instance: &str,
) -> PlannedStep {
    PlannedStep {
        name: name.into(),
        spec: StepSpec {
            action: Action::Host { host_id, op },
            verify: verify.map(|expect| Check {
                host_id,
                instance: instance.into(),
                expect,
            }),
            undo,
            record: None,
            retries: HOST_RETRIES,
            backoff_ms: BACKOFF_MS,
            best_effort: false,
        },
    }
}

fn catalog_step(name: &str, change: CatalogChange) -> PlannedStep {
    PlannedStep {
        name: name.into(),
        spec: StepSpec {
            action: Action::Catalog { change },
            verify: None,
            undo: None,
            record: None,
            retries: 0,
            backoff_ms: 0,
            best_effort: false,
        },
    }
}

fn iref(i: &InstanceRow) -> InstanceRef {
    InstanceRef {
        instance: i.uid.clone(),
    }
}

/// create: provision (undo: destroy) -> start (undo: stop) -> mark available.
pub fn create(i: &InstanceRow, host_id: i64, port: Option<u16>) -> Vec<PlannedStep> {
    let mut provision = host_step(
        "provision",
        host_id,
        Op::Provision(ProvisionSpec {
            instance: i.uid.clone(),
            engine: i.engine.clone(),
            port,
            size: Size {
                cpus: i.cpus,
                memory_mb: i.memory_mb,
                max_connections: i.max_connections,
            },
            admin_user: i.admin_user.clone(),
            archive_timeout_secs: i.archive_timeout_secs,
            admin_password: String::new(),
        }),
        Some(Expect::Exists),
        Some(Op::Destroy(iref(i))),
        &i.uid,
    );
    provision.spec.record = Some(Record::InstanceRuntime { instance_id: i.id });
    vec![
        provision,
        start_step(i, host_id),
        catalog_step(
            "mark-available",
            CatalogChange::SetStatus {
                instance_id: i.id,
                status: status::AVAILABLE.into(),
            },
        ),
    ]
}

/// start: the server runs and answers queries (undo: stop it).
fn start_step(i: &InstanceRow, host_id: i64) -> PlannedStep {
    host_step(
        "start",
        host_id,
        Op::Start(iref(i)),
        Some(Expect::Accepting),
        Some(Op::Stop(iref(i))),
        &i.uid,
    )
}

/// restore: a new instance from a snapshot in `host_id`'s store, replayed to `recovery`'s
/// target if any (undo: destroy it); its port and version are recorded.
fn restore_new_step(
    new: &InstanceRow,
    host_id: i64,
    snapshot: &str,
    port: Option<u16>,
    recovery: Option<RecoverySpec>,
) -> PlannedStep {
    let mut step = host_step(
        "restore",
        host_id,
        Op::Restore(RestoreSpec {
            instance: new.uid.clone(),
            snapshot: snapshot.into(),
            port,
            size: size_of(new),
            admin_user: new.admin_user.clone(),
            archive_timeout_secs: new.archive_timeout_secs,
            recovery,
            in_place: false,
        }),
        Some(Expect::Exists),
        Some(Op::Destroy(iref(new))),
        &new.uid,
    );
    step.spec.record = Some(Record::InstanceRuntime {
        instance_id: new.id,
    });
    step
}

fn size_of(i: &InstanceRow) -> Size {
    Size {
        cpus: i.cpus,
        memory_mb: i.memory_mb,
        max_connections: i.max_connections,
    }
}

/// An online snapshot of `i` on its host (undo: delete it there).
fn snapshot_step(name: &str, i: &InstanceRow, host_id: i64, snap: &SnapshotRow) -> PlannedStep {
    let mut step = host_step(
        name,
        host_id,
        Op::SnapshotCreate(SnapshotSpec {
            instance: i.uid.clone(),
            snapshot: snap.uid.clone(),
        }),
        None,
        Some(Op::SnapshotDelete(SnapshotRef {
            snapshot: snap.uid.clone(),
        })),
        &i.uid,
    );
    step.spec.record = Some(Record::SnapshotTaken {
        snapshot_id: snap.id,
    });
    step
}

/// snapshot: one online snapshot, recorded in the catalog when it is complete.
pub fn snapshot(i: &InstanceRow, host_id: i64, snap: &SnapshotRow) -> Vec<PlannedStep> {
    vec![snapshot_step("snapshot", i, host_id, snap)]
}

/// snapshot delete: remove it from its host, drop the archived logs no kept snapshot needs
/// any more (`prune`), then forget it.
pub fn snapshot_delete(snap: &SnapshotRow, host_id: i64, prune: PruneSpec) -> Vec<PlannedStep> {
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

/// A step streaming data from one host to another (undo: `undo` on the receiving host).
fn transfer_step(name: &str, from: (i64, Op), to: (i64, Op), bytes: u64, undo: Op) -> PlannedStep {
    PlannedStep {
        name: name.into(),
        spec: StepSpec {
            action: Action::Transfer {
                from_host: from.0,
                to_host: to.0,
                export: from.1,
                import: to.1,
                bytes,
            },
            verify: None,
            undo: Some(undo),
            record: None,
            retries: HOST_RETRIES,
            backoff_ms: BACKOFF_MS,
            best_effort: false,
        },
    }
}

/// Streams a snapshot (and, for a point-in-time restore, the logs replay needs from it) from
/// the host that keeps them to `to`; each undone by deleting the copy there.
fn transfer_steps(
    source: &InstanceRow,
    from: i64,
    to: i64,
    snap: &SnapshotRow,
    with_logs: bool,
) -> Vec<PlannedStep> {
    let r = SnapshotRef {
        snapshot: snap.uid.clone(),
    };
    let mut steps = vec![transfer_step(
        "transfer",
        (from, Op::SnapshotExport(r.clone())),
        (to, Op::SnapshotImport(r.clone())),
        snap.size_bytes.unwrap_or(0),
        Op::SnapshotDelete(r),
    )];
    if with_logs {
        let start = snap.position.clone().map(|position| SnapshotStart {
            snapshot: snap.uid.clone(),
            position,
            branch: snap.branch.unwrap_or(1),
        });
        steps.push(transfer_step(
            "transfer-logs",
            (
                from,
                Op::LogExport(LogExportSpec {
                    instance: source.uid.clone(),
                    engine: source.engine.clone(),
                    from: start,
                }),
            ),
            (to, Op::LogImport(iref(source))),
            0,
            drop_logs(source),
        ));
    }
    steps
}

/// The transferred logs land under the source's name in the target host's archive.
fn drop_logs(source: &InstanceRow) -> Op {
    Op::LogPrune(PruneSpec {
        instance: source.uid.clone(),
        engine: source.engine.clone(),
        keep: vec![],
        keep_snapshots: vec![],
        keep_all: false,
    })
}

/// Removes what [`transfer_steps`] brought to `host` once the new server runs on its own data.
fn drop_transferred(
    source: &InstanceRow,
    host: i64,
    snap: &SnapshotRow,
    with_logs: bool,
    owner: &str,
) -> Vec<PlannedStep> {
    let mut steps = vec![host_step(
        "drop-transfer-copy",
        host,
        Op::SnapshotDelete(SnapshotRef {
            snapshot: snap.uid.clone(),
        }),
        None,
        None,
        owner,
    )];
    if with_logs {
        steps.push(host_step(
            "drop-transferred-logs",
            host,
            drop_logs(source),
            None,
            None,
            owner,
        ));
    }
    steps
}

/// The steps that stream `from`'s snapshot (and, for a point-in-time restore, its logs) to
/// `host_id`; none when it is already there.
fn bring_here(from: &CloneFrom, host_id: i64) -> Vec<PlannedStep> {
    if from.source_host == host_id {
        return Vec::new();
    }
    let with_logs = from.recovery.is_some();
    transfer_steps(
        from.source,
        from.source_host,
        host_id,
        from.snapshot,
        with_logs,
    )
}

/// The steps that drop what [`bring_here`] streamed, once `owner` runs on its own data.
fn drop_brought(from: &CloneFrom, host_id: i64, owner: &str) -> Vec<PlannedStep> {
    if from.source_host == host_id {
        return Vec::new();
    }
    let with_logs = from.recovery.is_some();
    drop_transferred(from.source, host_id, from.snapshot, with_logs, owner)
}

/// Where a clone comes from.
pub struct CloneFrom<'a> {
    pub source: &'a InstanceRow,
    pub source_host: i64,
    pub snapshot: &'a SnapshotRow,
    /// Take `snapshot` first (it does not exist yet).
    pub fresh: bool,
    /// Replay the source's archived logs past the snapshot to a target.
    pub recovery: Option<crate::wire::RecoverySpec>,
}

/// clone: [snapshot the source] -> [stream it to the target host] -> restore (undo: destroy)
/// -> start (undo: stop) -> new password -> [drop the streamed copy] -> mark available.
pub fn clone(
    new: &InstanceRow,
    host_id: i64,
    from: &CloneFrom,
    port: Option<u16>,
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
    let snap = SnapshotRef {
        snapshot: from.snapshot.uid.clone(),
    };
    steps.extend(bring_here(from, host_id));
    steps.push(restore_new_step(
        new,
        host_id,
        &snap.snapshot,
        port,
        from.recovery.clone(),
    ));
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
    steps.push(catalog_step(
        "mark-available",
        CatalogChange::SetStatus {
            instance_id: new.id,
            status: status::AVAILABLE.into(),
        },
    ));
    steps
}

/// recover: stop the old server, archiving its last commits (if it runs) -> [stream the
/// snapshot and its logs to the new host] -> restore the snapshot plus the logs of its
/// incarnation (`from.source`) to the target into `new` (undo: destroy) -> start (undo: stop)
/// -> [drop the streamed copies] -> snapshot the result -> `new` takes the old name and
/// endpoint.
pub fn recover(
    old: &InstanceRow,
    old_host: i64,
    from: &CloneFrom,
    new: &InstanceRow,
    host_id: i64,
    after: &SnapshotRow,
) -> Vec<PlannedStep> {
    // A server that still runs has its last commits archived as it stops, so none is lost.
    let mut steps = vec![host_step(
        "stop-old",
        old_host,
        Op::StopArchived(iref(old)),
        None,
        None,
        &old.uid,
    )];
    steps.extend(bring_here(from, host_id));
    steps.push(restore_new_step(
        new,
        host_id,
        &from.snapshot.uid,
        None,
        from.recovery.clone(),
    ));
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
    // The replaced server's directory and OS user go; its snapshots and log archive stay
    // (the instance's history).
    let mut drop_old = host_step(
        "drop-old-server",
        old_host,
        Op::Destroy(iref(old)),
        None,
        None,
        &old.uid,
    );
    drop_old.spec.best_effort = true;
    steps.push(drop_old);
    steps
}

/// restore in place: set the data aside, archiving its last commits (undo: put it back and
/// start it) -> [stream the snapshot and logs here] -> restore the snapshot plus logs into
/// the same instance, same port -> start (undo: stop) -> [drop the streamed copies] ->
/// snapshot the result -> drop the old data -> available.
pub fn restore_in_place(
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
    steps.push(host_step(
        "restore",
        host_id,
        Op::Restore(RestoreSpec {
            instance: i.uid.clone(),
            snapshot: from.snapshot.uid.clone(),
            port: None,
            size: size_of(i),
            admin_user: i.admin_user.clone(),
            archive_timeout_secs: i.archive_timeout_secs,
            recovery: from.recovery.clone(),
            in_place: true,
        }),
        Some(Expect::Exists),
        None,
        &i.uid,
    ));
    steps.push(start_step(i, host_id));
    steps.extend(drop_brought(from, host_id, &i.uid));
    steps.extend([
        snapshot_step("snapshot-restored", i, host_id, after),
        host_step(
            "drop-old-data",
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

/// delete: [final snapshot] -> stop (undo: start) -> destroy -> drop the logs no kept
/// snapshot (`kept`, the final one included) needs -> forget.
pub fn delete(
    i: &InstanceRow,
    host_id: i64,
    final_snapshot: Option<&SnapshotRow>,
    kept: &[String],
) -> Vec<PlannedStep> {
    let mut keep_snapshots = kept.to_vec();
    keep_snapshots.extend(final_snapshot.map(|s| s.uid.clone()));
    let mut steps: Vec<PlannedStep> = final_snapshot
        .map(|s| snapshot_step("final-snapshot", i, host_id, s))
        .into_iter()
        .collect();
    steps.extend([
        host_step(
            "stop",
            host_id,
            Op::Stop(iref(i)),
            Some(Expect::Stopped),
            Some(Op::Start(iref(i))),
            &i.uid,
        ),
        host_step(
            "destroy",
            host_id,
            Op::Destroy(iref(i)),
            Some(Expect::Absent),
            None,
            &i.uid,
        ),
        PlannedStep {
            // Clean-up once the server is gone: logs left behind are safe, undoing is not.
            spec: StepSpec {
                best_effort: true,
                ..host_step(
                    "prune-logs",
                    host_id,
                    Op::LogPrune(PruneSpec {
                        instance: i.uid.clone(),
                        engine: i.engine.clone(),
                        keep: vec![],
                        keep_snapshots,
                        keep_all: false,
                    }),
                    None,
                    None,
                    &i.uid,
                )
                .spec
            },
            name: "prune-logs".into(),
        },
        catalog_step("forget", CatalogChange::Forget { instance_id: i.id }),
    ]);
    steps
}

/// The instance's status once a failed workflow has been undone (None: unchanged).
pub fn status_after_failure(action: &str) -> Option<&'static str> {
    match action {
        // Undo removed everything the create or clone made, so the name is free again.
        "create" | "clone" => Some(status::DELETED),
        // Undo restarted the server: it is as it was.
        "delete" => Some(status::AVAILABLE),
        // A snapshot never changed the instance; a failed recovery leaves the old one as it
        // was (its server stopped, if one was running at all).
        // An in-place restore's undo put the old data back.
        "snapshot" | "snapshot-delete" | "recover" | "restore" => None,
        _ => Some(status::FAILED),
    }
}

/// The event recorded when an action succeeds.
pub fn success_event(action: &str) -> &'static str {
    match action {
        "create" => "created",
        "clone" => "cloned",
        "delete" => "deleted",
        "snapshot" => "snapshot_taken",
        "snapshot-delete" => "snapshot_deleted",
        "recover" => "recovered",
        "restore" => "restored_in_place",
        _ => "succeeded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst() -> InstanceRow {
        InstanceRow {
            id: 7,
            name: "prod".into(),
            uid: "prod-abc".into(),
            engine: "postgres".into(),
            engine_version: None,
            class: "small".into(),
            cpus: 1.0,
            memory_mb: 1024,
            max_connections: 100,
            storage_gb: 10,
            host_id: Some(1),
            port: None,
            admin_user: "dbadmin".into(),
            status: status::CREATING.into(),
            lease_workflow_id: None,
            created_at: String::new(),
            deleted_at: None,
            source_instance: None,
            source_snapshot_id: None,
            archive_timeout_secs: 60,
        }
    }

    #[test]
    fn create_provisions_then_starts_with_undo_for_each() {
        let steps = create(&inst(), 1, Some(6000));
        let names: Vec<_> = steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["provision", "start", "mark-available"]);
        assert_eq!(
            steps[0].spec.undo,
            Some(Op::Destroy(InstanceRef {
                instance: "prod-abc".into()
            }))
        );
        assert_eq!(
            steps[1].spec.verify.as_ref().unwrap().expect,
            Expect::Accepting
        );
        // The password is filled in at send time, never stored in the plan.
        let json = serde_json::to_string(&steps[0].spec).unwrap();
        assert!(!json.contains("admin_password"), "{json}");
    }

    #[test]
    fn specs_round_trip_through_json() {
        for s in delete(&inst(), 3, None, &[]) {
            let back: StepSpec =
                serde_json::from_str(&serde_json::to_string(&s.spec).unwrap()).unwrap();
            assert_eq!(back, s.spec);
        }
    }
}
