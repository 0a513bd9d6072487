//! Clone planning: a new, independent instance from a source's snapshot (taken first when
//! asked or when there is none), on the same host or streamed to another.

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;

use crate::catalog::instances::{self as irows, status, InstanceRow};
use crate::catalog::snapshots::{self, SnapshotRow};
use crate::catalog::{hosts, now};
use crate::control::base::names;
use crate::control::hosts::placement::Need;
use crate::control::planning;
use crate::control::planning::check_not_busy;
use crate::control::planning::Plan;
use crate::control::restore::restores;
use crate::wire::{Op, PreflightSpec, Target};
use crate::workflow::actions::{self, ActionKind, CloneFrom};
use anyhow::Result;

#[derive(Debug, Clone, Default)]
pub struct CloneOpts {
    pub source: String,
    pub name: String,
    /// Default: the source's class.
    pub class: Option<String>,
    pub host: Option<String>,
    pub storage_gb: Option<u64>,
    pub port: Option<u16>,
    /// Clone from this snapshot of the source (default: its newest).
    pub snapshot: Option<i64>,
    /// Take a new snapshot first (also what happens when the source has none).
    pub fresh: bool,
    /// Replay the source's log archive to this point (time, position, or all of it).
    pub target: Option<Target>,
    /// Restore from a backup in a repository (this one, else the newest) instead of a
    /// host's snapshot.
    pub from_repository: bool,
    pub backup: Option<i64>,
    /// `KEY=VALUE` labels for the clone, as given.
    pub labels: Vec<String>,
    /// When it deletes itself (`--expires-in`, `--delete-when-idle`).
    pub lifetime: crate::control::instances::lifetimes::LifetimeOpts,
    /// A scratch copy dbctl makes and removes itself (a drill's, a cross-engine clone's):
    /// no base snapshot of its own, since it never outlives the work it is for.
    pub scratch: bool,
}

/// The snapshot to clone from: the one named, else the newest unless `fresh`.
fn choose_snapshot(ctx: &Ctx, src: &InstanceRow, o: &CloneOpts) -> Result<Option<SnapshotRow>> {
    match o.snapshot {
        Some(id) => {
            let snap = crate::control::restore::snapshots::get(ctx, id)?;
            let history = crate::control::restore::coverage::incarnations(ctx, src)?;
            if !history.iter().any(|i| i.id == snap.instance_id) {
                return Err(invalid(
                    format!(
                        "snapshot {id} is of `{}`, not `{}`",
                        snap.instance_name, src.name
                    ),
                    format!("`dbctl snapshot list {}` shows its snapshots", src.name),
                ));
            }
            if snap.status != snapshots::status::AVAILABLE {
                return Err(invalid(
                    format!("snapshot {id} is {}", snap.status),
                    "choose an available snapshot",
                ));
            }
            Ok(Some(snap))
        }
        None if o.fresh => Ok(None),
        None => snapshots::newest_available(ctx.catalog.conn(), src.id),
    }
}

/// The source: a live instance, or a deleted one whose snapshot is named (its final snapshot,
/// say), so that what delete kept can be brought back.
fn source(ctx: &Ctx, o: &CloneOpts) -> Result<InstanceRow> {
    if let Some(live) = irows::live_by_name(ctx.catalog.conn(), &o.source)? {
        return Ok(live);
    }
    if let Some(id) = o.snapshot {
        let snap = crate::control::restore::snapshots::get(ctx, id)?;
        if snap.instance_name == o.source {
            return irows::get(ctx.catalog.conn(), snap.instance_id);
        }
    }
    Err(invalid(
        format!("no instance named `{}`", o.source),
        "`dbctl list` shows the instances; a deleted one can be cloned from its snapshot with --snapshot ID (`dbctl snapshot list NAME`)",
    ))
}

/// Validates, places and plans `clone`; writes it unless `dry_run`.
///
/// # Errors
/// Bad input ([`crate::control::base::error::Invalid`]); an unreachable host; the catalog fails.
pub fn plan_clone(ctx: &mut Ctx, o: &CloneOpts, dry_run: bool) -> Result<Plan> {
    names::check("instance", &o.name)?;
    let labels = crate::control::base::labels::parse(&o.labels)?;
    let lifetime = crate::control::instances::lifetimes::from_opts(
        &o.lifetime,
        time::OffsetDateTime::now_utc(),
    )?;
    let src = source(ctx, o)?;
    // Nothing said of the point: a copy of the source as it is now (its newest snapshot and
    // every log after it), not as it was at that snapshot, which may predate everything in
    // it (every instance is made with an empty base snapshot).
    let as_now;
    let o = if o.target.is_none()
        && o.snapshot.is_none()
        && !o.fresh
        && !o.from_repository
        && o.backup.is_none()
        && irows::is_live(&src)
        && snapshots::list(ctx.catalog.conn(), Some(&src.name))?
            .iter()
            .any(|s| s.instance_id == src.id && s.status == snapshots::status::AVAILABLE)
    {
        as_now = CloneOpts {
            target: Some(Target::Latest),
            ..o.clone()
        };
        &as_now
    } else {
        o
    };
    if let Some(existing) = irows::live_by_name(ctx.catalog.conn(), &o.name)? {
        return Err(invalid(
            format!(
                "instance `{}` already exists (status {})",
                o.name, existing.status
            ),
            "choose another name for the clone",
        ));
    }
    let class_name = o.class.clone().unwrap_or_else(|| src.class.clone());
    let class = ctx.config.class(&class_name)?;
    // Bad input is refused before the point is chosen: choosing it may switch the source's
    // log, and a refused command changes nothing.
    if let Some(h) = &o.host {
        crate::control::base::lookup::host(ctx, h)?;
    }
    let point = match &o.target {
        Some(asked) => {
            if o.snapshot.is_some() || o.fresh {
                return Err(invalid(
                    "a point-in-time target chooses its own snapshot",
                    "leave out --snapshot and --fresh with --at, --position or --latest",
                ));
            }
            Some(restores::point(
                ctx,
                &src,
                asked,
                false,
                dry_run,
                if o.from_repository {
                    crate::control::restore::coverage::Tiers::Repository
                } else {
                    crate::control::restore::coverage::Tiers::Any
                },
            )?)
        }
        None => None,
    };
    if (o.from_repository || o.backup.is_some()) && (o.snapshot.is_some() || o.fresh) {
        return Err(invalid(
            "a clone from the repository starts from a backup, not a host's snapshot",
            "leave out --snapshot and --fresh with --from-repository and --backup",
        ));
    }
    if o.backup.is_some() && o.target.is_some() {
        return Err(invalid(
            "--backup restores that backup as it was taken; a target chooses its own backup",
            "give --from-repository with --at, --position or --latest instead",
        ));
    }
    let via = if (o.from_repository || o.backup.is_some()) && o.target.is_none() {
        Some(crate::control::offsite::backups::choose(
            ctx, &src, o.backup,
        )?)
    } else {
        None
    };
    let from_repository = via.is_some() || point.as_ref().is_some_and(|p| p.repository.is_some());
    let existing = match (&point, &via) {
        (Some(p), _) => Some(p.snap.clone()),
        (None, Some((_, snap, _))) => Some(snap.clone()),
        (None, None) => choose_snapshot(ctx, &src, o)?,
    };
    let fresh = existing.is_none();
    // The incarnation whose snapshot (and log archive) the clone starts from: the source
    // itself, or one it replaced by recovery.
    let origin = match &existing {
        Some(s) if s.instance_id != src.id => irows::get(ctx.catalog.conn(), s.instance_id)?,
        _ => src.clone(),
    };
    if fresh {
        if src.status != status::AVAILABLE {
            return Err(invalid(
                format!(
                    "instance `{}` is {}, so no snapshot can be taken of it now",
                    src.name, src.status
                ),
                "clone from one of its snapshots with --snapshot ID",
            ));
        }
        check_not_busy(ctx, &src)?;
    }
    let source_host = match &existing {
        _ if from_repository => None,
        Some(s) => Some(s.host_id.ok_or_else(|| {
            anyhow::anyhow!(
                "the snapshot's host was removed; restore from a backup with --from-repository"
            )
        })?),
        None => Some(
            src.host_id
                .ok_or_else(|| anyhow::anyhow!("the source's host was removed"))?,
        ),
    };
    let storage_gb = o.storage_gb.unwrap_or(class.storage_gb.max(src.storage_gb));
    let need = Need {
        engine: src.engine.clone(),
        cpus: class.cpus,
        memory_mb: class.memory_mb,
        storage_gb,
    };
    // Replay reads the source's log archive: on its host unless another is asked for, in
    // which case the snapshot and the logs it needs are streamed there.
    let asked = match (&o.target, &o.host, source_host) {
        (Some(_), None, Some(h)) => Some(hosts::get(ctx.catalog.conn(), h)?.name),
        (_, asked, _) => asked.clone(),
    };
    let (host, note) = planning::place(ctx, asked.as_deref(), &need, &class_name)?;
    planning::check_port(&host, o.port)?;
    crate::control::hosts::reach::call(
        &host,
        Op::Preflight(PreflightSpec {
            engine: src.engine.clone(),
            admin_user: src.admin_user.clone(),
            port: o.port,
            storage_gb,
        }),
    )
    .map_err(|e| planning::preflight_error(&host, e))?;
    // From the repository, the restore runs where it was placed.
    let source_host = source_host.unwrap_or(host.id);
    if host.id != source_host {
        // The stream starts there: refuse up front if it cannot be reached.
        let sh = hosts::get(ctx.catalog.conn(), source_host)?;
        crate::control::hosts::reach::call(&sh, Op::Facts)
            .map_err(|e| crate::control::hosts::reach::explain_for(&sh, e))?;
    }

    let mut new = InstanceRow {
        id: 0,
        name: o.name.clone(),
        uid: format!("{}-{:06x}", o.name, rand::random::<u32>() & 0xff_ffff),
        engine: src.engine.clone(),
        engine_version: None,
        class: class_name,
        cpus: class.cpus,
        memory_mb: class.memory_mb,
        max_connections: class.max_connections,
        storage_gb,
        host_id: Some(host.id),
        port: o.port,
        // Roles come with the data: the clone's admin is the source's, with a new password.
        admin_user: src.admin_user.clone(),
        status: status::CREATING.into(),
        lease_workflow_id: None,
        created_at: now(),
        deleted_at: None,
        source_instance: Some(src.name.clone()),
        source_snapshot_id: existing.as_ref().map(|s| s.id),
        archive_timeout_secs: src.archive_timeout_secs,
    };
    let mut snap = existing
        .clone()
        .unwrap_or_else(|| planning::new_snapshot_row(&src, source_host, "clone", None));
    let recovery = point.as_ref().map(|p| p.recovery.clone());
    let to = match &point {
        Some(p) if p.recovery.target == Target::Latest => format!(", to {}", p.describe()),
        Some(p) => format!(", to {} through the log archive", p.describe()),
        None => String::new(),
    };
    let from = match (&via, &point, fresh) {
        (Some((b, _, r)), _, _) => format!("backup {} in repository {}", b.id, r.name),
        (None, Some(p), _) => p.describe_source(),
        (None, None, true) => "a new snapshot".to_string(),
        (None, None, false) => format!("snapshot {}", snap.id),
    };
    let streamed = if from_repository || host.id == source_host {
        ""
    } else {
        " (streamed between hosts)"
    };
    let repository = match (&via, &point) {
        (Some((b, _, r)), _) => Some(restores::from_repository(
            &origin,
            &r.name,
            b.restic_id.clone().unwrap_or_default(),
            Vec::new(),
        )),
        (None, Some(p)) => p.repository.clone(),
        (None, None) => None,
    };
    let placement = format!("{note}, from {from} of {}{streamed}{to}", src.name);
    let mut base = (!o.scratch).then(|| {
        planning::new_snapshot_row(
            &new,
            host.id,
            crate::catalog::snapshots::kind::BASE,
            Some(planning::BASE_TAG),
        )
    });
    let steps_for = |new: &InstanceRow, snap: &SnapshotRow, base: Option<&SnapshotRow>| {
        actions::clone::steps(
            new,
            host.id,
            &CloneFrom {
                source: &origin,
                source_host,
                snapshot: snap,
                fresh,
                recovery: recovery.clone(),
                repository: repository.clone(),
            },
            o.port,
            base,
        )
    };
    let plan = Plan::new(
        ActionKind::Clone,
        &o.name,
        &host.name,
        placement,
        steps_for(&new, &snap, base.as_ref()),
    );
    let uid = new.uid.clone();
    let rules = ctx.config.placement;
    planning::submit_new_instance(ctx, &uid, None, plan, dry_run, |tx| {
        planning::reserve(tx, host.id, &need, &rules)?;
        if fresh {
            snap.id = snapshots::insert(tx, &snap)?;
            new.source_snapshot_id = Some(snap.id);
        }
        new.id = irows::insert(tx, &new)?;
        crate::catalog::labels::set(tx, crate::catalog::labels::kind::INSTANCE, new.id, &labels)?;
        crate::catalog::lifetimes::put_for(tx, new.id, lifetime.as_ref())?;
        if let Some(b) = base.as_mut() {
            b.instance_id = new.id;
            b.id = snapshots::insert(tx, b)?;
        }
        let steps = steps_for(&new, &snap, base.as_ref());
        let wf = planning::write_workflow(tx, ActionKind::Clone, &new, &steps)?;
        if fresh {
            snapshots::set_workflow(tx, snap.id, wf)?;
        }
        if let Some(b) = &base {
            snapshots::set_workflow(tx, b.id, wf)?;
        }
        Ok((wf, steps))
    })
}
