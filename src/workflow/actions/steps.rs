//! Step builders the actions share: host requests with their verification and undo,
//! catalog changes, snapshots, and streams between hosts.

use super::super::plan::{Action, CatalogChange, Check, Expect, PlannedStep, Record, StepSpec};
use crate::catalog::instances::InstanceRow;
use crate::catalog::snapshots::SnapshotRow;
use crate::wire::logs::{LogExportSpec, PruneSpec, SnapshotStart};
use crate::wire::{InstanceRef, Op, RestoreSpec, Size, SnapshotRef, SnapshotSpec};

/// The name of the step that restores a new server.
pub const RESTORE: &str = "restore";

const HOST_RETRIES: u32 = 2;
const BACKOFF_MS: u64 = 1000;

pub(super) fn host_step(
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

pub(super) fn catalog_step(name: &str, change: CatalogChange) -> PlannedStep {
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

pub(super) fn iref(i: &InstanceRow) -> InstanceRef {
    InstanceRef {
        instance: i.uid.clone(),
    }
}

/// start: the server runs and answers queries (undo: stop it).
pub(super) fn start_step(i: &InstanceRow, host_id: i64) -> PlannedStep {
    host_step(
        "start",
        host_id,
        Op::Start(iref(i)),
        Some(Expect::Accepting),
        Some(Op::Stop(iref(i))),
        &i.uid,
    )
}

/// stop: the server stopped (undo: start it); with `archived`, its sessions ended and its
/// last log archived first, so nothing it committed is missing from the archive.
pub(super) fn stop_step(i: &InstanceRow, host_id: i64, archived: bool) -> PlannedStep {
    let op = if archived {
        Op::StopArchived(iref(i))
    } else {
        Op::Stop(iref(i))
    };
    host_step(
        "stop",
        host_id,
        op,
        Some(Expect::Stopped),
        Some(Op::Start(iref(i))),
        &i.uid,
    )
}

/// mark-available: the instance serves (its endpoint points at it).
pub(super) fn mark_available(i: &InstanceRow) -> PlannedStep {
    catalog_step(
        "mark-available",
        CatalogChange::SetStatus {
            instance_id: i.id,
            status: crate::catalog::instances::status::AVAILABLE.into(),
        },
    )
}

/// restore: a new instance from `from`'s snapshot (in `host_id`'s store, or streamed from a
/// repository), replayed to `from`'s target if any (undo: destroy it); its port and version
/// are recorded.
pub(super) fn restore_new_step(
    new: &InstanceRow,
    host_id: i64,
    from: &CloneFrom,
    port: Option<u16>,
) -> PlannedStep {
    let mut step = host_step(
        RESTORE,
        host_id,
        Op::Restore(RestoreSpec {
            instance: new.uid.clone(),
            snapshot: from.local_snapshot(),
            port,
            size: size_of(new),
            admin_user: new.admin_user.clone(),
            archive_timeout_secs: new.archive_timeout_secs,
            recovery: from.recovery.clone(),
            in_place: false,
            port_from: None,
        }),
        Some(Expect::Exists),
        Some(Op::Destroy(iref(new))),
        &new.uid,
    );
    step.spec.record = Some(Record::InstanceRuntime {
        instance_id: new.id,
    });
    streamed_if_repository(step, from)
}

/// Has a restore step take over the port of `old` (a server on the same host that the
/// restored one replaces): clients keep their address.
pub(super) fn taking_port_of(mut step: PlannedStep, old: &str) -> PlannedStep {
    let spec = match &mut step.spec.action {
        Action::Host {
            op: Op::Restore(spec) | Op::RestoreStreamed(spec),
            ..
        } => Some(spec),
        Action::Download {
            import: Op::RestoreStreamed(spec) | Op::Restore(spec),
            ..
        } => Some(spec),
        _ => None,
    };
    if let Some(spec) = spec {
        spec.port_from = Some(old.to_string());
    }
    step
}

/// A restore step as it reads `from`: a host's store as it is, or a repository's backup
/// streamed through dbctl straight into the new data directory (no copy of the snapshot is
/// stored on the host first).
pub(super) fn streamed_if_repository(mut step: PlannedStep, from: &CloneFrom) -> PlannedStep {
    let (
        Some(r),
        Action::Host {
            host_id,
            op: Op::Restore(spec),
        },
    ) = (&from.repository, &step.spec.action)
    else {
        return step;
    };
    step.spec.action = Action::Download {
        repository: r.repository.clone(),
        restic_id: r.restic_id.clone(),
        to_host: *host_id,
        import: Op::RestoreStreamed(spec.clone()),
        bytes: from.snapshot.size_bytes.unwrap_or(0),
    };
    step
}

pub(super) fn size_of(i: &InstanceRow) -> Size {
    Size {
        cpus: i.cpus,
        memory_mb: i.memory_mb,
        max_connections: i.max_connections,
    }
}

/// An online snapshot of `i` on its host (undo: delete it there).
pub(super) fn snapshot_step(
    name: &str,
    i: &InstanceRow,
    host_id: i64,
    snap: &SnapshotRow,
) -> PlannedStep {
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

/// A step streaming data from one host to another (undo: `undo` on the receiving host).
pub(super) fn transfer_step(
    name: &str,
    from: (i64, Op),
    to: (i64, Op),
    bytes: u64,
    undo: Op,
) -> PlannedStep {
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

/// Streams `snap` from `host_id` into `repository` as backup `backup_id`, recorded when
/// stored. No undo: a backup is a workflow's last step, and one that did not all arrive
/// removes what it stored itself.
pub(super) fn upload_step(
    host_id: i64,
    snap: &SnapshotRow,
    repository: &str,
    backup_id: i64,
) -> PlannedStep {
    PlannedStep {
        name: "upload".into(),
        spec: StepSpec {
            action: Action::Upload {
                from_host: host_id,
                export: Op::SnapshotExport(SnapshotRef {
                    snapshot: snap.uid.clone(),
                }),
                repository: repository.into(),
                backup_id,
                bytes: snap.size_bytes.unwrap_or(0),
            },
            verify: None,
            undo: None,
            record: Some(Record::BackupStored { backup_id }),
            retries: HOST_RETRIES,
            backoff_ms: BACKOFF_MS,
            best_effort: false,
        },
    }
}

/// Streams a snapshot (and, for a point-in-time restore, the logs replay needs from it) from
/// the host that keeps them to `to`; each undone by deleting the copy there.
pub(super) fn transfer_steps(
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
                    names: None,
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
pub(super) fn drop_logs(source: &InstanceRow) -> Op {
    Op::LogPrune(PruneSpec {
        instance: source.uid.clone(),
        engine: source.engine.clone(),
        keep: vec![],
        keep_snapshots: vec![],
        keep_all: false,
        given: None,
    })
}

/// Removes what [`transfer_steps`] brought to `host` once the new server runs on its own data.
pub(super) fn drop_transferred(
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
pub(super) fn bring_here(from: &CloneFrom, host_id: i64) -> Vec<PlannedStep> {
    if let Some(r) = &from.repository {
        // The backup itself is streamed by the restore step.
        let mut steps = Vec::new();
        if from.recovery.is_some() && !r.shipments.is_empty() {
            steps.push(download_logs_step(r, host_id, &from.source.engine));
        }
        return steps;
    }
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
pub(super) fn drop_brought(from: &CloneFrom, host_id: i64, owner: &str) -> Vec<PlannedStep> {
    if let Some(r) = &from.repository {
        let mut steps = Vec::new();
        if from.recovery.is_some() && !r.shipments.is_empty() {
            steps.push(host_step(
                "drop-downloaded-logs",
                host_id,
                drop_staged_logs(r, &from.source.engine),
                None,
                None,
                owner,
            ));
        }
        return steps;
    }
    if from.source_host == host_id {
        return Vec::new();
    }
    let with_logs = from.recovery.is_some();
    drop_transferred(from.source, host_id, from.snapshot, with_logs, owner)
}

/// Streams the log shipments `r` names from the repository into `host_id`'s archive under
/// `r.staging` (undo: drop them there).
fn download_logs_step(r: &FromRepository, host_id: i64, engine: &str) -> PlannedStep {
    PlannedStep {
        name: "download-logs".into(),
        spec: StepSpec {
            action: Action::DownloadLogs {
                repository: r.repository.clone(),
                shipments: r.shipments.clone(),
                to_host: host_id,
                import: Op::LogImport(InstanceRef {
                    instance: r.staging.clone(),
                }),
            },
            verify: None,
            undo: Some(drop_staged_logs(r, engine)),
            record: None,
            retries: HOST_RETRIES,
            backoff_ms: BACKOFF_MS,
            best_effort: false,
        },
    }
}

/// Removes the logs brought from a repository.
fn drop_staged_logs(r: &FromRepository, engine: &str) -> Op {
    Op::LogPrune(PruneSpec {
        instance: r.staging.clone(),
        engine: engine.into(),
        keep: vec![],
        keep_snapshots: vec![],
        keep_all: false,
        given: None,
    })
}

/// A backup in a repository that a restore starts from instead of a host's snapshot.
#[derive(Debug, Clone)]
pub struct FromRepository {
    pub repository: String,
    pub restic_id: String,
    /// The log shipments replay reads (none without a target).
    pub shipments: Vec<String>,
    /// The archive name they land under on the receiving host: never the instance's own,
    /// whose archive that host may keep.
    pub staging: String,
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
    /// The snapshot comes from this backup, not from `source_host`.
    pub repository: Option<FromRepository>,
}

impl CloneFrom<'_> {
    /// The name of the snapshot the restore reads: on the target host, or, for a backup
    /// streamed from a repository, its restic snapshot's id (for people).
    pub fn local_snapshot(&self) -> String {
        match &self.repository {
            Some(r) => r.restic_id.clone(),
            None => self.snapshot.uid.clone(),
        }
    }
}
