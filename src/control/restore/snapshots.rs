//! Snapshot operations: take, delete, list, show, verify.

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;

use crate::catalog::hosts;
use crate::catalog::instances::status as istatus;
use crate::catalog::snapshots::{self, status, SnapshotRow};
use crate::control::planning;
use crate::control::planning::check_not_busy;
use crate::control::planning::Plan;
use crate::wire::logs::PruneSpec;
use crate::wire::{Op, SnapshotRef, VerifyReport};
use crate::workflow::actions::{self, ActionKind};
use anyhow::{Context, Result};

/// Plans an online snapshot of `name`; writes it unless `dry_run`.
///
/// # Errors
/// Unknown, unavailable or busy instance; the catalog fails.
pub fn plan_create(ctx: &mut Ctx, name: &str, tag: Option<&str>, dry_run: bool) -> Result<Plan> {
    plan_create_as(
        ctx,
        name,
        crate::catalog::snapshots::kind::MANUAL,
        tag,
        dry_run,
    )
}

/// Plans a snapshot of `kind` (`manual`, or `automatic`, which snapshot retention expires).
///
/// # Errors
/// As [`plan_create`].
pub fn plan_create_as(
    ctx: &mut Ctx,
    name: &str,
    kind: &str,
    tag: Option<&str>,
    dry_run: bool,
) -> Result<Plan> {
    let inst = crate::control::base::lookup::instance(ctx, name)?;
    if inst.status != istatus::AVAILABLE {
        return Err(invalid(
            format!("instance `{name}` is {}, not available", inst.status),
            "snapshots are taken of running instances; wait for it or fix it first",
        ));
    }
    check_not_busy(ctx, &inst)?;
    let host_id = inst.host_id.context("instance has no host")?;
    let host = hosts::get(ctx.catalog.conn(), host_id)?;
    let mut snap = planning::new_snapshot_row(&inst, host_id, kind, tag);
    let plan = Plan::new(
        ActionKind::Snapshot,
        name,
        &host.name,
        format!("on host {}", host.name),
        actions::snapshot::steps(&inst, host_id, &snap),
    );
    planning::submit(ctx, plan, dry_run, |tx| {
        planning::write_with_snapshot(tx, ActionKind::Snapshot, &inst, &mut snap, &|s| {
            actions::snapshot::steps(&inst, host_id, s)
        })
    })
}

/// Labels the snapshot workflow `wf` of `name` is making.
///
/// # Errors
/// The catalog fails.
pub fn label_new(ctx: &Ctx, name: &str, wf: i64, labels: &[(String, String)]) -> Result<()> {
    if let Some(s) = list(ctx, Some(name))?
        .into_iter()
        .find(|s| s.workflow_id == Some(wf))
    {
        crate::catalog::labels::set(
            ctx.catalog.conn(),
            crate::catalog::labels::kind::SNAPSHOT,
            s.id,
            labels,
        )?;
    }
    Ok(())
}

/// Of `all`, the snapshots carrying every label of `labels` (`KEY=VALUE`; none: all).
///
/// # Errors
/// A bad label; the catalog fails.
pub fn labelled(ctx: &Ctx, all: Vec<SnapshotRow>, labels: &[String]) -> Result<Vec<SnapshotRow>> {
    let wanted = crate::control::base::labels::parse(labels)?;
    let conn = ctx.catalog.conn();
    let mut out = Vec::new();
    for s in all {
        if crate::catalog::labels::matches(
            conn,
            crate::catalog::labels::kind::SNAPSHOT,
            s.id,
            &wanted,
        )? {
            out.push(s);
        }
    }
    Ok(out)
}

/// # Errors
/// [`crate::control::base::error::Invalid`] when no snapshot has that id.
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
    check_not_busy(ctx, &inst)?;
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
        keep: kept
            .iter()
            .filter_map(crate::control::restore::coverage::start_of)
            .collect(),
        keep_snapshots: vec![],
        // One still being taken needs everything from now on: keep all that is there.
        keep_all: kept.iter().any(|s| s.position.is_none()),
        given: None,
    };
    let steps = actions::snapshot_delete::steps(&snap, host_id, prune);
    let plan = Plan::new(
        ActionKind::SnapshotDelete,
        &snap.instance_name,
        &host.name,
        format!("snapshot {id} on host {}", host.name),
        steps.clone(),
    );
    planning::submit(ctx, plan, dry_run, |tx| {
        let wf = planning::write_workflow(tx, ActionKind::SnapshotDelete, &inst, &steps)?;
        snapshots::set_status(tx, snap.id, status::DELETING)?;
        Ok((wf, steps))
    })
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
    let v = crate::control::hosts::reach::call(
        &host,
        Op::SnapshotVerify(SnapshotRef {
            snapshot: snap.uid.clone(),
        }),
    )
    .map_err(|e| crate::control::hosts::reach::explain_for(&host, e))?;
    Ok(serde_json::from_value(v)?)
}
