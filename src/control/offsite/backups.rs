//! Backups into repositories of the off-host tier: take (a new snapshot, or one the host
//! keeps, streamed into the repository), list, show, pin, delete.

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;

use crate::catalog::backups::{self, status, BackupRow};
use crate::catalog::instances::status as istatus;
use crate::catalog::repositories::{self, RepositoryRow};
use crate::catalog::snapshots;
use crate::catalog::{hosts, now};
use crate::control::planning;
use crate::control::planning::check_not_busy;
use crate::control::planning::Plan;
use crate::workflow::actions::{self, ActionKind};
use anyhow::{Context, Result};
use serde::Serialize;

/// A backup as `list` and `show` print it.
#[derive(Debug, Clone, Serialize)]
pub struct BackupView {
    pub id: i64,
    pub instance: String,
    pub repository: String,
    pub status: String,
    /// The restic snapshot holding it (restic or rustic can restore it by this id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restic_id: Option<String>,
    /// The host snapshot it copies, and what that restores to.
    pub snapshot: String,
    pub engine: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// What it added to the repository after deduplication and compression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_bytes: Option<u64>,
    pub pinned: bool,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<i64>,
}

fn view(ctx: &Ctx, b: &BackupRow) -> Result<BackupView> {
    let conn = ctx.catalog.conn();
    let snap = snapshots::get(conn, b.snapshot_id)?;
    let repo = repository_by_id(ctx, b.repository_id)?;
    Ok(BackupView {
        id: b.id,
        instance: snap.instance_name.clone(),
        repository: repo.name,
        status: b.status.clone(),
        restic_id: b.restic_id.clone(),
        snapshot: snap.uid,
        engine: snap.engine,
        position: snap.position,
        taken_at: snap.taken_at,
        files: b.files,
        bytes: b.bytes,
        added_bytes: b.added_bytes,
        pinned: b.pinned,
        created_at: b.created_at.clone(),
        workflow_id: b.workflow_id,
    })
}

fn repository_by_id(ctx: &Ctx, id: i64) -> Result<RepositoryRow> {
    repositories::list(ctx.catalog.conn())?
        .into_iter()
        .find(|r| r.id == id)
        .with_context(|| format!("repository #{id} is not in the catalog"))
}

/// The repository a backup of `inst` goes to: the one named, its policy's, or the only one
/// there is.
fn choose_repository(
    ctx: &Ctx,
    inst: &crate::catalog::instances::InstanceRow,
    named: Option<&str>,
) -> Result<RepositoryRow> {
    let conn = ctx.catalog.conn();
    if named.is_none() {
        if let Some(p) = crate::catalog::backup_policies::get(conn, inst.id)? {
            return repository_by_id(ctx, p.repository_id);
        }
    }
    if let Some(name) = named {
        return repositories::get(conn, name)?.ok_or_else(|| {
            invalid(
                format!("no repository named `{name}`"),
                "see `dbctl repository list`, or add one with `dbctl repository add`",
            )
        });
    }
    let mut all = repositories::list(conn)?;
    match all.len() {
        1 => Ok(all.remove(0)),
        0 => Err(invalid(
            "there is no repository to back up into",
            "add one with `dbctl repository add NAME --url file:///PATH` (or s3://BUCKET/PREFIX)",
        )),
        _ => Err(invalid(
            "there are several repositories",
            "say which with --repository (`dbctl repository list`)",
        )),
    }
}

/// What `backup create` is asked for.
#[derive(Debug, Clone, Default)]
pub struct BackupOpts {
    pub instance: String,
    pub repository: Option<String>,
    /// Copy this host snapshot instead of taking a new one.
    pub snapshot: Option<i64>,
    /// Expiry never removes it.
    pub keep_forever: bool,
}

/// Plans a backup of an instance; writes it unless `dry_run`.
///
/// # Errors
/// Unknown, unavailable or busy instance, an unknown repository or snapshot; the catalog
/// fails.
pub fn plan_create(ctx: &mut Ctx, o: &BackupOpts, dry_run: bool) -> Result<Plan> {
    let inst = crate::control::base::lookup::instance(ctx, &o.instance)?;
    let repo = choose_repository(ctx, &inst, o.repository.as_deref())?;
    check_not_busy(ctx, &inst)?;
    let host_id = inst.host_id.context("instance has no host")?;
    let (mut snap, fresh) = match o.snapshot {
        Some(id) => {
            let s = crate::control::restore::snapshots::get(ctx, id)?;
            if s.instance_id != inst.id || s.status != snapshots::status::AVAILABLE {
                return Err(invalid(
                    format!(
                        "snapshot {id} is not an available snapshot of `{}`",
                        inst.name
                    ),
                    format!("see `dbctl snapshot list {}`", inst.name),
                ));
            }
            if s.host_id.is_none() {
                return Err(invalid(
                    format!("snapshot {id}'s host was removed"),
                    "back up a snapshot a host still keeps, or a new one (leave out --snapshot)",
                ));
            }
            (s, false)
        }
        None => {
            if inst.status != istatus::AVAILABLE {
                return Err(invalid(
                    format!("instance `{}` is {}, not available", inst.name, inst.status),
                    "a new snapshot needs a running instance; give --snapshot ID to back up one the host keeps",
                ));
            }
            (
                planning::new_snapshot_row(
                    &inst,
                    host_id,
                    crate::catalog::snapshots::kind::MANUAL,
                    Some("backup"),
                ),
                true,
            )
        }
    };
    let snap_host = snap.host_id.unwrap_or(host_id);
    let host = hosts::get(ctx.catalog.conn(), snap_host)?;
    let mut backup = BackupRow {
        id: 0,
        repository_id: repo.id,
        snapshot_id: snap.id,
        instance_id: inst.id,
        workflow_id: None,
        status: status::CREATING.into(),
        restic_id: None,
        files: None,
        bytes: None,
        added_bytes: None,
        pinned: o.keep_forever,
        created_at: now(),
        finished_at: None,
        deleted_at: None,
    };
    let plan = Plan::new(
        ActionKind::Backup,
        &inst.name,
        &host.name,
        format!("from host {} into repository {}", host.name, repo.name),
        actions::backup::steps(&inst, snap_host, &snap, fresh, &repo.name, &backup),
    );
    planning::submit(ctx, plan, dry_run, |tx| {
        if fresh {
            snap.id = snapshots::insert(tx, &snap)?;
        }
        backup.snapshot_id = snap.id;
        backup.id = backups::insert(tx, &backup)?;
        let steps = actions::backup::steps(&inst, snap_host, &snap, fresh, &repo.name, &backup);
        let wf = planning::write_workflow(tx, ActionKind::Backup, &inst, &steps)?;
        if fresh {
            snapshots::set_workflow(tx, snap.id, wf)?;
        }
        backups::set_workflow(tx, backup.id, wf)?;
        Ok((wf, steps))
    })
}

/// The backup a restore of `inst` starts from: backup `id` (which must be of `inst` or an
/// instance it replaced), else its newest one; with the snapshot row it copies and its
/// repository.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] when there is no such backup.
pub fn choose(
    ctx: &Ctx,
    inst: &crate::catalog::instances::InstanceRow,
    id: Option<i64>,
) -> Result<(BackupRow, snapshots::SnapshotRow, RepositoryRow)> {
    let history: Vec<i64> = crate::control::restore::coverage::incarnations(ctx, inst)?
        .iter()
        .map(|i| i.id)
        .collect();
    let conn = ctx.catalog.conn();
    let mine = |b: &BackupRow| history.contains(&b.instance_id);
    let b = match id {
        Some(id) => {
            let b = get(ctx, id)?;
            if !mine(&b) || b.status != status::AVAILABLE {
                return Err(invalid(
                    format!("backup {id} is not an available backup of `{}`", inst.name),
                    format!("`dbctl backup list {}` shows its backups", inst.name),
                ));
            }
            b
        }
        None => backups::list(conn)?
            .into_iter()
            .filter(|b| mine(b) && b.status == status::AVAILABLE)
            .max_by_key(|b| {
                (
                    snapshots::get(conn, b.snapshot_id)
                        .ok()
                        .and_then(|s| s.taken_at),
                    b.id,
                )
            })
            .ok_or_else(|| {
                invalid(
                    format!("`{}` has no backup in any repository", inst.name),
                    format!("take one with `dbctl backup create {}`", inst.name),
                )
            })?,
    };
    let snap = snapshots::get(conn, b.snapshot_id)?;
    let repo = repository_by_id(ctx, b.repository_id)?;
    Ok((b, snap, repo))
}

/// Whether `inst` (or an instance it replaced) has a backup in a repository.
///
/// # Errors
/// The catalog fails.
pub fn has_backup(ctx: &Ctx, inst: &crate::catalog::instances::InstanceRow) -> Result<bool> {
    Ok(choose(ctx, inst, None).is_ok())
}

/// # Errors
/// [`crate::control::base::error::Invalid`] when no backup has that id.
pub fn get(ctx: &Ctx, id: i64) -> Result<BackupRow> {
    backups::find(ctx.catalog.conn(), id)?
        .filter(|b| b.status != status::DELETED)
        .ok_or_else(|| {
            invalid(
                format!("no backup {id}"),
                "`dbctl backup list` shows the backups",
            )
        })
}

/// # Errors
/// Unknown backup; the catalog fails.
pub fn show(ctx: &Ctx, id: i64) -> Result<BackupView> {
    view(ctx, &get(ctx, id)?)
}

/// Backups, oldest first, optionally of one instance name (every incarnation of it).
///
/// # Errors
/// The catalog fails.
pub fn list(ctx: &Ctx, instance: Option<&str>) -> Result<Vec<BackupView>> {
    let mut out = Vec::new();
    for b in backups::list(ctx.catalog.conn())? {
        let v = view(ctx, &b)?;
        if instance.is_none_or(|n| n == v.instance) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Pins or unpins a backup: expiry never removes a pinned one.
///
/// # Errors
/// Unknown backup; the catalog fails.
pub fn pin(ctx: &Ctx, id: i64, pinned: bool) -> Result<BackupView> {
    let b = get(ctx, id)?;
    backups::set_pinned(ctx.catalog.conn(), b.id, pinned)?;
    show(ctx, id)
}

/// Removes a backup from its repository (its data goes once no other backup uses it, at the
/// repository's next prune) and the catalog.
///
/// # Errors
/// Unknown, pinned or unfinished backup; the repository cannot be reached.
pub fn delete(ctx: &Ctx, id: i64, force: bool, dry_run: bool) -> Result<BackupView> {
    let b = get(ctx, id)?;
    if b.pinned {
        return Err(invalid(
            format!("backup {id} is pinned"),
            format!("unpin it first with `dbctl backup unpin {id}`"),
        ));
    }
    if b.status != status::AVAILABLE {
        return Err(invalid(
            format!("backup {id} is {}", b.status),
            format!(
                "wait for workflow {} first",
                b.workflow_id.unwrap_or_default()
            ),
        ));
    }
    let repo = repository_by_id(ctx, b.repository_id)?;
    // The oldest backup of the instance in this repository is where its window there starts.
    let oldest = backups::list(ctx.catalog.conn())?
        .into_iter()
        .filter(|o| {
            o.instance_id == b.instance_id
                && o.repository_id == b.repository_id
                && o.status == status::AVAILABLE
        })
        .min_by(|x, y| x.created_at.cmp(&y.created_at).then(x.id.cmp(&y.id)));
    let inst = crate::catalog::instances::get(ctx.catalog.conn(), b.instance_id)?;
    if oldest.as_ref().is_some_and(|o| o.id == b.id) && !force {
        return Err(invalid(
            format!(
                "backup {id} is the oldest of `{}` in repository {}: its restorable window there starts at it",
                inst.name, repo.name
            ),
            "pass --force to delete it anyway (the window then starts at the next backup, if any)",
        ));
    }
    if dry_run {
        return view(ctx, &b);
    }
    let (store, key) = crate::repo::reach(&repo, &ctx.secrets)?;
    let restic_id = b.restic_id.clone().context("the backup has no restic id")?;
    crate::repo::backups::forget(&store, &key, &restic_id).map_err(|e| {
        anyhow::anyhow!(
            "removing backup {id} from repository {}: {}",
            repo.name,
            crate::repo::brief(&e)
        )
    })?;
    backups::set_status(ctx.catalog.conn(), b.id, status::DELETED)?;
    crate::catalog::events::add(
        ctx.catalog.conn(),
        Some((inst.id, &inst.name)),
        None,
        "backup_deleted",
        &format!(
            "backup {id} of {} ({}) deleted from repository {} by hand",
            inst.name, b.created_at, repo.name
        ),
    )?;
    let mut v = view(ctx, &b)?;
    v.status = status::DELETED.into();
    Ok(v)
}
