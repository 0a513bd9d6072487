//! Snapshot operations: take, delete, list, show, verify.

use super::error::invalid;
use super::home::Ctx;
use super::hosts as host_ops;
use super::instances::{self, Plan};
use crate::catalog::hosts;
use crate::catalog::instances::{status as istatus, InstanceRow};
use crate::catalog::now;
use crate::catalog::snapshots::{self, status, SnapshotRow};
use crate::wire::{Op, PruneSpec, SnapshotRef, VerifyReport};
use crate::workflow::plan::PlannedStep;
use crate::workflow::templates;
use anyhow::{Context, Result};

/// A new snapshot row (status creating), to be completed by its workflow.
pub(crate) fn new_row(
    inst: &InstanceRow,
    host_id: i64,
    kind: &str,
    tag: Option<&str>,
) -> SnapshotRow {
    SnapshotRow {
        id: 0,
        uid: format!("{}-snap-{:08x}", inst.name, rand::random::<u32>()),
        instance_id: inst.id,
        instance_name: inst.name.clone(),
        host_id: Some(host_id),
        workflow_id: None,
        kind: kind.into(),
        tag: tag.map(str::to_string),
        status: status::CREATING.into(),
        engine: inst.engine.clone(),
        engine_version: inst.engine_version.clone(),
        backend: None,
        position: None,
        taken_at: None,
        size_bytes: None,
        files: None,
        shared_files: None,
        created_at: now(),
        deleted_at: None,
        consistent_at: None,
        branch: None,
        new_bytes: None,
    }
}

/// Writes `snap` (id filled in) and the workflow `steps_for` builds for it, in one
/// transaction; the workflow leases `inst`.
pub(crate) fn write_with_snapshot(
    tx: &rusqlite::Transaction,
    action: &str,
    inst: &InstanceRow,
    snap: &mut SnapshotRow,
    steps_for: &dyn Fn(&SnapshotRow) -> Vec<PlannedStep>,
) -> Result<(i64, Vec<PlannedStep>)> {
    snap.id = snapshots::insert(tx, snap)?;
    let steps = steps_for(snap);
    let wf = instances::write_workflow(tx, action, inst, &steps)?;
    snapshots::set_workflow(tx, snap.id, wf)?;
    snap.workflow_id = Some(wf);
    Ok((wf, steps))
}

/// Plans an online snapshot of `name`; writes it unless `dry_run`.
///
/// # Errors
/// Unknown, unavailable or busy instance; the catalog fails.
pub fn plan_create(ctx: &mut Ctx, name: &str, tag: Option<&str>, dry_run: bool) -> Result<Plan> {
    let inst = instances::get(ctx, name)?;
    if inst.status != istatus::AVAILABLE {
        return Err(invalid(
            format!("instance `{name}` is {}, not available", inst.status),
            "snapshots are taken of running instances; wait for it or fix it first",
        ));
    }
    instances::check_not_busy(ctx, &inst)?;
    let host_id = inst.host_id.context("instance has no host")?;
    let host = hosts::get(ctx.catalog.conn(), host_id)?;
    let mut snap = new_row(&inst, host_id, "manual", tag);
    let mut plan = Plan {
        workflow_id: None,
        action: "snapshot".into(),
        instance: name.into(),
        host: host.name.clone(),
        placement: format!("on host {}", host.name),
        steps: templates::snapshot(&inst, host_id, &snap),
    };
    if dry_run {
        return Ok(plan);
    }
    let (wf, steps) = ctx.catalog.write(|tx| {
        write_with_snapshot(tx, "snapshot", &inst, &mut snap, &|s| {
            templates::snapshot(&inst, host_id, s)
        })
    })?;
    plan.workflow_id = Some(wf);
    plan.steps = steps;
    Ok(plan)
}

/// # Errors
/// [`super::error::Invalid`] when no snapshot has that id.
pub fn get(ctx: &Ctx, id: i64) -> Result<SnapshotRow> {
    snapshots::find(ctx.catalog.conn(), id)?
        .filter(|s| s.status != status::DELETED)
        .ok_or_else(|| {
            invalid(
                format!("no snapshot {id}"),
                "`dbctl snapshot list` shows the snapshots",
            )
        })
}

/// Plans removing a snapshot from its host and the catalog; writes it unless `dry_run`.
///
/// # Errors
/// Unknown snapshot, one still being made, a busy instance; the catalog fails.
pub fn plan_delete(ctx: &mut Ctx, id: i64, dry_run: bool) -> Result<Plan> {
    let snap = get(ctx, id)?;
    if snap.status == status::CREATING {
        return Err(invalid(
            format!("snapshot {id} is still being taken"),
            format!(
                "wait for workflow {} first",
                snap.workflow_id.unwrap_or_default()
            ),
        ));
    }
    let inst = crate::catalog::instances::get(ctx.catalog.conn(), snap.instance_id)?;
    instances::check_not_busy(ctx, &inst)?;
    let host_id = snap.host_id.context("the snapshot's host was removed")?;
    let host = hosts::get(ctx.catalog.conn(), host_id)?;
    // Logs stay from the oldest snapshot kept on this host onwards (dbhost, which orders
    // positions, finds it); never one it needs.
    let kept: Vec<SnapshotRow> = snapshots::list(ctx.catalog.conn(), Some(&snap.instance_name))?
        .into_iter()
        .filter(|s| {
            s.id != snap.id && s.instance_id == snap.instance_id && s.host_id == Some(host_id)
        })
        .filter(|s| s.status == status::AVAILABLE || s.status == status::CREATING)
        .collect();
    let prune = PruneSpec {
        instance: inst.uid.clone(),
        engine: inst.engine.clone(),
        keep: kept.iter().filter_map(super::pitr::start_of).collect(),
        keep_snapshots: vec![],
        // One still being taken needs everything from now on: keep all that is there.
        keep_all: kept.iter().any(|s| s.position.is_none()),
    };
    let steps = templates::snapshot_delete(&snap, host_id, prune);
    let mut plan = Plan {
        workflow_id: None,
        action: "snapshot-delete".into(),
        instance: snap.instance_name.clone(),
        host: host.name.clone(),
        placement: format!("snapshot {id} on host {}", host.name),
        steps,
    };
    if dry_run {
        return Ok(plan);
    }
    let wf = ctx.catalog.write(|tx| {
        let wf = instances::write_workflow(tx, "snapshot-delete", &inst, &plan.steps)?;
        snapshots::set_status(tx, snap.id, status::DELETING)?;
        Ok(wf)
    })?;
    plan.workflow_id = Some(wf);
    Ok(plan)
}

/// The instance's name when snapshot `id` is the last kept copy of it (deleting it loses
/// every point the instance can be restored to), else None.
///
/// # Errors
/// Unknown snapshot; the catalog fails.
pub fn last_of(ctx: &Ctx, id: i64) -> Result<Option<String>> {
    let snap = get(ctx, id)?;
    let others = snapshots::list(ctx.catalog.conn(), Some(&snap.instance_name))?
        .into_iter()
        .filter(|s| {
            s.id != id && s.instance_id == snap.instance_id && s.status == status::AVAILABLE
        })
        .count();
    Ok((others == 0).then_some(snap.instance_name))
}

/// # Errors
/// The catalog fails.
pub fn list(ctx: &Ctx, instance: Option<&str>) -> Result<Vec<SnapshotRow>> {
    snapshots::list(ctx.catalog.conn(), instance)
}

/// Recomputes the snapshot's checksums on its host.
///
/// # Errors
/// Unknown snapshot, an unreachable host.
pub fn verify(ctx: &Ctx, id: i64) -> Result<VerifyReport> {
    let snap = get(ctx, id)?;
    if snap.status != status::AVAILABLE {
        return Err(invalid(
            format!("snapshot {id} is {}", snap.status),
            "only available snapshots can be verified",
        ));
    }
    let host = hosts::get(
        ctx.catalog.conn(),
        snap.host_id.context("the snapshot's host was removed")?,
    )?;
    let v = host_ops::call(
        &host,
        Op::SnapshotVerify(SnapshotRef {
            snapshot: snap.uid.clone(),
        }),
    )
    .map_err(|e| host_ops::explain(&host.name, &format!("{}:{}", host.address, host.port), e))?;
    Ok(serde_json::from_value(v)?)
}
