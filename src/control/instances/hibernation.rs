//! Hibernating an instance (its server gone, its host's room free, nothing it committed lost)
//! and resuming it on any host with room, with no time limit in between.

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;

use crate::catalog::backups::{self, BackupRow};
use crate::catalog::instances::status;
use crate::catalog::{backup_policies, hosts, now, repositories, snapshots};
use crate::control::planning;
use crate::control::planning::Plan;
use crate::control::restore::recover::rebuild;
use crate::control::restore::recover::Rebuild;
use crate::wire::{Op, Target};
use crate::workflow::actions::{self, ActionKind};
use anyhow::Result;

/// Plans `hibernate NAME`; writes it unless `dry_run`.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown, busy or not running instance.
pub fn plan_hibernate(ctx: &mut Ctx, name: &str, dry_run: bool) -> Result<Plan> {
    let (inst, host) = planning::settled(ctx, name)?;
    if inst.status != status::AVAILABLE {
        return Err(invalid(
            format!("instance `{name}` is {}", inst.status),
            "only a running instance can hibernate (its final snapshot is taken online); start it first",
        ));
    }
    let mut snap = planning::new_snapshot_row(
        &inst,
        host.id,
        crate::catalog::snapshots::kind::FINAL,
        Some("hibernate"),
    );
    // With a repository, the final snapshot goes there too: the instance then survives the
    // loss of the host it hibernated on.
    let repo = match backup_policies::get(ctx.catalog.conn(), inst.id)? {
        Some(p) => repositories::list(ctx.catalog.conn())?
            .into_iter()
            .find(|r| r.id == p.repository_id),
        None => None,
    };
    let mut backup = repo.as_ref().map(|r| BackupRow {
        id: 0,
        repository_id: r.id,
        snapshot_id: 0,
        instance_id: inst.id,
        workflow_id: None,
        status: backups::status::CREATING.into(),
        restic_id: None,
        files: None,
        bytes: None,
        added_bytes: None,
        pinned: false,
        created_at: now(),
        finished_at: None,
        deleted_at: None,
    });
    let steps_for = |s: &snapshots::SnapshotRow, b: Option<&BackupRow>| {
        let with = repo.as_ref().zip(b).map(|(r, b)| (r.name.as_str(), b));
        actions::hibernate::steps(&inst, host.id, s, with)
    };
    let note = match &repo {
        Some(r) => format!(
            "on host {}: a final snapshot, also into repository {}, then its server and data go",
            host.name, r.name
        ),
        None => format!(
            "on host {}: a final snapshot, then its server and data go",
            host.name
        ),
    };
    let plan = Plan::new(
        ActionKind::Hibernate,
        name,
        &host.name,
        note,
        steps_for(&snap, backup.as_ref()),
    );
    planning::submit(ctx, plan, dry_run, |tx| {
        snap.id = snapshots::insert(tx, &snap)?;
        if let Some(b) = backup.as_mut() {
            b.snapshot_id = snap.id;
            b.id = backups::insert(tx, b)?;
        }
        let steps = steps_for(&snap, backup.as_ref());
        let wf = planning::write_workflow(tx, ActionKind::Hibernate, &inst, &steps)?;
        snapshots::set_workflow(tx, snap.id, wf)?;
        if let Some(b) = &backup {
            backups::set_workflow(tx, b.id, wf)?;
        }
        Ok((wf, steps))
    })
}

/// Plans `resume NAME [--host H] [--class C]`: on the host it hibernated on when that still
/// has room (the cheap path: nothing to stream), else on `onto` or wherever placement finds
/// room; from its final snapshot and every log after it (its repository's copies when that
/// host does not answer). Writes it unless `dry_run`.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown or busy instance, one not hibernated, a class no
/// host can hold.
pub fn plan_resume(
    ctx: &mut Ctx,
    name: &str,
    onto: Option<&str>,
    class: Option<&str>,
    dry_run: bool,
) -> Result<Plan> {
    let inst = crate::control::base::lookup::instance(ctx, name)?;
    if inst.status != status::HIBERNATED {
        return Err(invalid(
            format!("instance `{name}` is {}, not hibernated", inst.status),
            "only a hibernated instance resumes (`dbctl list` shows the status)",
        ));
    }
    planning::check_not_busy(ctx, &inst)?;
    let home = match inst.host_id {
        Some(id) => {
            let h = hosts::get(ctx.catalog.conn(), id)?;
            crate::control::hosts::reach::call(&h, Op::Facts)
                .ok()
                .map(|_| h)
        }
        None => None,
    };
    rebuild(
        ctx,
        &inst,
        Rebuild {
            kind: ActionKind::Resume,
            target: Target::Latest,
            onto: onto.map(str::to_string),
            home,
            old_server: None,
            class: class.map(str::to_string),
            storage_gb: None,
            archive_timeout_secs: None,
            fresh_snapshot: false,
            tiers: crate::control::restore::coverage::Tiers::Any,
        },
        dry_run,
    )
}
