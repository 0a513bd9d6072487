//! Recovery of a broken instance: a new instance from its newest snapshot and all its logs (or
//! up to a time), on the host that keeps them, taking over its name and endpoint.

use crate::control::base::home::Ctx;

use crate::catalog::instances::{self as irows, status, InstanceRow};
use crate::catalog::snapshots;
use crate::catalog::{hosts, now};
use crate::control::planning;
use crate::control::planning::Plan;
use crate::control::restore::restores;
use crate::wire::{Op, Target};
use crate::workflow::actions::{self, ActionKind};
use anyhow::Result;

/// Plans `recover NAME [--at]`; writes it unless `dry_run`.
///
/// # Errors
/// Unknown or busy instance, a host that does not answer, a target outside the window.
pub fn plan_recover(
    ctx: &mut Ctx,
    name: &str,
    target: Option<Target>,
    onto: Option<&str>,
    from_repository: bool,
    dry_run: bool,
) -> Result<Plan> {
    let old = recoverable(ctx, name)?;
    // The old host, when it answers: it keeps the fast tier and can stop the old server.
    // Without it (gone, or not answering) only a repository can rebuild the instance.
    let reached = match old.host_id {
        Some(id) => {
            let h = hosts::get(ctx.catalog.conn(), id)?;
            match crate::control::hosts::reach::call(&h, Op::Facts) {
                Ok(_) => Ok(h),
                Err(e) => Err(crate::control::hosts::reach::explain_for(&h, e)),
            }
        }
        None => Err(anyhow::anyhow!("its host was removed")),
    };
    let old_host = match reached {
        Ok(h) => Some(h),
        // Silent, not removed: its server may still run, and nothing here can stop it, so
        // rebuilding elsewhere is for the user to ask.
        Err(e) if onto.is_none() && old.host_id.is_some() => {
            let elsewhere = if crate::control::offsite::backups::has_backup(ctx, &old)? {
                format!("; or, if it is gone, rebuild `{name}` from its repository on another host with --host H (its old server cannot be stopped from here: make sure it is down)")
            } else {
                String::new()
            };
            anyhow::bail!(
                "{e}; recovery there needs the snapshots and log archive kept on that host; bring it back, then recover again{elsewhere}"
            )
        }
        Err(e) => {
            if !crate::control::offsite::backups::has_backup(ctx, &old)? {
                anyhow::bail!(
                    "`{name}` cannot be recovered: {e}, and it has no backup in a repository; bring the host back (or add it again), then recover again"
                );
            }
            None
        }
    };
    let tiers = if old_host.is_some() && !from_repository {
        crate::control::restore::coverage::Tiers::Any
    } else {
        crate::control::restore::coverage::Tiers::Repository
    };
    let old_server = old_host.as_ref().map(|h| h.id);
    rebuild(
        ctx,
        &old,
        Rebuild {
            kind: ActionKind::Recover,
            target: target.unwrap_or(Target::Latest),
            onto: onto.map(str::to_string),
            home: old_host,
            old_server,
            class: None,
            storage_gb: None,
            archive_timeout_secs: None,
            tiers,
            fresh_snapshot: false,
        },
        dry_run,
    )
}

/// How an instance is rebuilt as a new server that takes over its name and endpoint.
pub(crate) struct Rebuild {
    pub kind: ActionKind,
    pub target: Target,
    /// A host asked for.
    pub onto: Option<String>,
    /// The host it stays on when it still fits there.
    pub home: Option<crate::catalog::hosts::HostRow>,
    /// The host whose old server is stopped first (its last commits archived) and dropped
    /// at the end; None when there is none to stop (hibernated, or its host is gone).
    pub old_server: Option<i64>,
    /// Another class for the new server.
    pub class: Option<String>,
    /// More storage, another archive timeout for the new server (`modify`).
    pub storage_gb: Option<u64>,
    pub archive_timeout_secs: Option<u32>,
    pub tiers: crate::control::restore::coverage::Tiers,
    /// Take a new snapshot of the running old server first and restore that to the latest
    /// point (a move: replay only what was committed meanwhile).
    pub fresh_snapshot: bool,
}

/// Plans rebuilding `old` as `r` says; writes it unless `dry_run`.
///
/// # Errors
/// A target outside the window, no host with room, a host that does not answer.
pub(crate) fn rebuild(ctx: &mut Ctx, old: &InstanceRow, r: Rebuild, dry_run: bool) -> Result<Plan> {
    let name = old.name.clone();
    let old = old.clone();
    let (class_name, class) = match &r.class {
        Some(c) => (c.clone(), Some(ctx.config.class(c)?)),
        None => (old.class.clone(), None),
    };
    let point = match (r.fresh_snapshot, r.old_server) {
        (true, Some(h)) => restores::Point {
            snap: planning::new_snapshot_row(
                &old,
                h,
                crate::catalog::snapshots::kind::RECOVERY,
                Some("move"),
            ),
            origin: old.clone(),
            recovery: crate::wire::RecoverySpec {
                log_instance: old.uid.clone(),
                target: Target::Latest,
            },
            repository: None,
            caveat: None,
        },
        _ => restores::point(ctx, &old, &r.target, true, dry_run, r.tiers)?,
    };
    let fresh = r.fresh_snapshot && r.old_server.is_some();
    let snap = point.snap.clone();
    let from = point.source()?;
    let origin_host = (point.repository.is_none()).then_some(from.source_host);
    // Onto the same host (it replaces itself there), or another one that has room: the
    // snapshot and the logs are streamed there from the host that keeps them.
    let need = crate::control::hosts::placement::Need {
        engine: old.engine.clone(),
        cpus: class.as_ref().map_or(old.cpus, |c| c.cpus),
        memory_mb: class.as_ref().map_or(old.memory_mb, |c| c.memory_mb),
        storage_gb: r.storage_gb.unwrap_or(old.storage_gb).max(old.storage_gb),
    };
    // The old host is healthy enough if it can hold the new server in place of the old one.
    let home_fits = match &r.home {
        Some(h) => {
            let others: Vec<InstanceRow> = irows::holding_room_on(ctx.catalog.conn(), h.id)?
                .into_iter()
                .filter(|i| i.id != old.id)
                .collect();
            let fresh = hosts::get(ctx.catalog.conn(), h.id)?;
            crate::control::hosts::placement::misfit(&fresh, &others, &need, &ctx.config.placement)
                .is_none()
        }
        None => false,
    };
    let onto = match (r.onto, home_fits) {
        (Some(h), _) => Some(h),
        (None, true) => None,
        (None, false) => Some(planning::place(ctx, None, &need, &class_name)?.0.name),
    };
    let new_host = match (onto.as_deref(), &r.home) {
        (None, Some(h)) => h.clone(),
        (h, _) => {
            // Without a home it still fits on, `onto` was given or placed above.
            let (chosen, _) = planning::place(ctx, h, &need, &class_name)?;
            crate::control::hosts::reach::call(
                &chosen,
                Op::Preflight(crate::wire::PreflightSpec {
                    engine: old.engine.clone(),
                    admin_user: old.admin_user.clone(),
                    port: None,
                    storage_gb: need.storage_gb,
                }),
            )
            .map_err(|e| planning::preflight_error(&chosen, e))?;
            chosen
        }
    };
    let mut new = InstanceRow {
        id: 0,
        // A name of its own until it takes over the old one's at the end.
        name: format!(
            "{}-{:06x}",
            &old.name[..old.name.len().min(50)],
            rand::random::<u32>() & 0xff_ffff
        ),
        uid: String::new(),
        engine: old.engine.clone(),
        engine_version: None,
        class: class_name.clone(),
        cpus: need.cpus,
        memory_mb: need.memory_mb,
        max_connections: class
            .as_ref()
            .map_or(old.max_connections, |c| c.max_connections),
        storage_gb: need.storage_gb,
        host_id: Some(new_host.id),
        port: None,
        admin_user: old.admin_user.clone(),
        status: status::CREATING.into(),
        lease_workflow_id: None,
        created_at: now(),
        deleted_at: None,
        source_instance: Some(old.name.clone()),
        source_snapshot_id: Some(snap.id),
        archive_timeout_secs: r.archive_timeout_secs.unwrap_or(old.archive_timeout_secs),
    };
    new.uid = new.name.clone();
    let mut after = planning::new_snapshot_row(
        &new,
        new_host.id,
        crate::catalog::snapshots::kind::RECOVERY,
        Some("after-recovery"),
    );
    let to = if fresh {
        "the latest point (a new snapshot, then every log after it)".to_string()
    } else {
        point.describe()
    };
    let place = match origin_host {
        None => format!(
            "on host {}, from its backup in repository {}",
            new_host.name,
            point
                .repository
                .as_ref()
                .map_or("", |r| r.repository.as_str())
        ),
        Some(o) if o == new_host.id => format!(
            "on host {} (where its snapshots and logs are)",
            new_host.name
        ),
        Some(o) => {
            let keeper = hosts::get(ctx.catalog.conn(), o)?;
            format!(
                "on host {}, streamed from {} (where its snapshots and logs are)",
                new_host.name, keeper.name
            )
        }
    };
    let stopped = match (r.kind, r.old_server) {
        (ActionKind::Recover, None) => {
            "; the old server's host does not answer, so it is not stopped: make sure it is down"
        }
        _ => "",
    };
    let old_host_id = r.old_server;
    let kind = r.kind;
    // A move made by `modify` ends by clearing the class change it was waiting as.
    let source_host = from.source_host;
    let (recovery, repository) = (from.recovery.clone(), from.repository.clone());
    let origin = point.origin.clone();
    let steps_for = |new: &InstanceRow,
                     after: &snapshots::SnapshotRow,
                     snap: &snapshots::SnapshotRow| {
        let from = actions::CloneFrom {
            source: &origin,
            source_host,
            snapshot: snap,
            fresh,
            recovery: recovery.clone(),
            repository: repository.clone(),
        };
        let mut steps = actions::recover::steps(&old, old_host_id, &from, new, new_host.id, after);
        if kind == ActionKind::Modify {
            steps.push(actions::modify::resized_step(
                new.id,
                &new.class,
                actions::modify::size_of(new),
                new.archive_timeout_secs,
            ));
        }
        steps
    };
    let plan = Plan::new(
        kind,
        &name,
        &new_host.name,
        if fresh {
            format!("{place}, to {to}; the endpoint moves to the new server")
        } else {
            format!(
                "{place}, from snapshot {} to {to}; the endpoint moves to the new server{stopped}",
                snap.id
            )
        },
        steps_for(&new, &after, &snap),
    );
    // The roles come from the snapshot, so the recovered server keeps the old password.
    let password = if dry_run {
        None
    } else {
        Some(ctx.secrets.get(&old.uid)?)
    };
    let uid = new.uid.clone();
    let mut snap = snap;
    planning::submit_new_instance(ctx, &uid, password, plan, dry_run, |tx| {
        if fresh {
            snap.id = snapshots::insert(tx, &snap)?;
        }
        new.source_snapshot_id = Some(snap.id);
        new.id = irows::insert(tx, &new)?;
        after.instance_id = new.id;
        after.id = snapshots::insert(tx, &after)?;
        let steps = steps_for(&new, &after, &snap);
        let wf = planning::write_workflow(tx, kind, &old, &steps)?;
        irows::set_lease(tx, new.id, Some(wf))?;
        snapshots::set_workflow(tx, after.id, wf)?;
        if fresh {
            snapshots::set_workflow(tx, snap.id, wf)?;
        }
        Ok((wf, steps))
    })
}

/// The instance `recover NAME` rebuilds: the live one of that name (not busy), else the
/// newest one lost with its host, which lives on in a repository.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] when there is none, or it is busy or being created.
fn recoverable(ctx: &Ctx, name: &str) -> Result<InstanceRow> {
    if irows::live_by_name(ctx.catalog.conn(), name)?.is_some() {
        return planning::settled(ctx, name).map(|(i, _)| i);
    }
    irows::lost_by_name(ctx.catalog.conn(), name)?.ok_or_else(|| {
        crate::control::base::error::invalid(
            format!("no instance named `{name}`"),
            "`dbctl list` shows the instances",
        )
    })
}

/// Whether the instance's server runs and answers queries: recovering it then stops a
/// healthy server, which needs the user's confirmation. An unreachable host answers false
/// (planning says what is wrong with it).
///
/// # Errors
/// Unknown instance, or the catalog fails.
pub fn serving(ctx: &Ctx, name: &str) -> Result<bool> {
    let Some(inst) = irows::live_by_name(ctx.catalog.conn(), name)? else {
        return Ok(false);
    };
    let Some(host_id) = inst.host_id else {
        return Ok(false);
    };
    let host = hosts::get(ctx.catalog.conn(), host_id)?;
    let op = Op::Status(crate::wire::InstanceRef {
        instance: inst.uid.clone(),
    });
    Ok(crate::control::hosts::reach::call(&host, op)
        .ok()
        .and_then(|v| serde_json::from_value::<crate::wire::InstanceStatus>(v).ok())
        .is_some_and(|st| st.running && st.accepting))
}

/// What a finished recovery (or in-place restore) did, for people: the point it reached and
/// what it did not bring back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The point it recovered to, as its host said it.
    pub recovered_to: Option<String>,
    /// Every commit up to this time is in the recovered copy.
    pub reached: Option<String>,
    /// The last commit the archive held in the chain replayed.
    pub archive_until: Option<String>,
    /// Every commit of the old server made before this time was archived as it stopped.
    pub archived_until: Option<String>,
    /// Its old host did not answer: the old server was not stopped.
    pub old_server_unreached: bool,
    /// Where the replaced data was set aside ("HOST replaced/NAME"), when it had data.
    pub set_aside: Option<String>,
    /// What was not brought back, in one line (None: nothing).
    pub not_brought_back: Option<String>,
    /// How many commits after the point reached the archive still holds (where the engine's
    /// log reader counted them).
    pub commits_not_brought_back: Option<u64>,
    /// Whether commits of the old server may be gone for good (in neither the archive nor
    /// the set-aside data).
    pub lost: bool,
    /// The address clients used before and the one they use now, when it changed.
    pub address_before: Option<String>,
    pub address_after: Option<String>,
    /// The address changed and no `[endpoints] hook` tells clients.
    pub address_unannounced: bool,
}

impl Report {
    /// One line on what, if anything, was lost.
    pub fn loss(&self) -> String {
        match &self.not_brought_back {
            Some(what) => format!("not brought back: {what}"),
            None => match (&self.archived_until, &self.reached) {
                (Some(t), _) => format!(
                    "nothing was lost: the old server's log was archived up to {t}, when it stopped, and every archived commit was replayed"
                ),
                (None, Some(r)) => format!(
                    "nothing was lost that the archive held: every archived commit (through {r}) was replayed"
                ),
                (None, None) => "nothing was lost that the archive held".into(),
            },
        }
    }

    /// The whole report in a few lines: the point, the loss, an address that changed.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(to) = &self.recovered_to {
            out.push(format!("recovered to {to}"));
        }
        out.push(self.loss());
        if let (Some(before), Some(after)) = (&self.address_before, &self.address_after) {
            out.push(if self.address_unannounced {
                format!(
                    "its address changed from {before} to {after}, and no [endpoints] hook is set: clients that connect to {before} must be told"
                )
            } else {
                format!("its address changed from {before} to {after} (the endpoint hook was run)")
            });
        }
        out
    }
}

/// Reads what recovery (or in-place restore) workflow `wf` recorded in its steps.
///
/// # Errors
/// The catalog fails.
pub fn report(ctx: &Ctx, wf: i64) -> Result<Report> {
    use crate::workflow::plan::{Action, CatalogChange, StepSpec};
    let conn = ctx.catalog.conn();
    let steps = crate::catalog::workflows::steps(conn, wf)?;
    let output = |names: &[&str]| -> Option<crate::wire::InstanceStatus> {
        let s = steps.iter().find(|s| names.contains(&s.name.as_str()))?;
        serde_json::from_str(s.output.as_deref()?).ok()
    };
    let restored = output(&[actions::recover::RESTORE]);
    let stopped = output(&[actions::recover::STOP_OLD, "set-data-aside"]);
    let aside = output(&["set-old-server-aside", "set-old-data-aside"]);
    let old_server_unreached = !steps
        .iter()
        .any(|s| s.name == actions::recover::STOP_OLD || s.name == "set-data-aside");
    let (reached, archive_until) = restored
        .as_ref()
        .map(|s| (s.reached.clone(), s.archive_until.clone()))
        .unwrap_or_default();
    let counted = restored.as_ref().and_then(|s| s.commits_after);
    let archived_until = stopped.and_then(|s| s.archived_until);
    let aside_host = steps
        .iter()
        .find(|s| s.name.starts_with("set-old-"))
        .and_then(|s| serde_json::from_str::<StepSpec>(&s.spec).ok())
        .and_then(|spec| match spec.action {
            Action::Host { host_id, .. } => hosts::get(conn, host_id).ok(),
            _ => None,
        });
    let set_aside = aside.and_then(|s| s.set_aside).map(|n| match &aside_host {
        Some(h) => format!("host {} replaced/{n}", h.name),
        None => format!("replaced/{n}"),
    });
    // Commits after the point reached that the archive holds: a person's earlier target.
    let in_archive = match (&reached, &archive_until) {
        (Some(r), Some(end))
            if crate::times::parse(r)
                .zip(crate::times::parse(end))
                .is_some_and(|(r, end)| end > r) =>
        {
            let what = match counted {
                Some(1) => "the 1 commit".to_string(),
                Some(n) => format!("the {n} commits"),
                None => "the commits".into(),
            };
            Some(format!(
                "{what} after {r} through {end}; they stay in the archive (the restorable window reaches them: `dbctl restore NAME --at TIME --as COPY`)"
            ))
        }
        _ => None,
    };
    let mut lost = false;
    let never_archived = if old_server_unreached {
        lost = true;
        Some(format!(
            "the old server's host did not answer, so it was not stopped: anything it committed after {} that was not shipped is lost, and it must not come back on its own",
            reached.as_deref().or(restored.as_ref().and_then(|s| s.recovered_to.as_deref())).unwrap_or("the recovered point")
        ))
    } else if archived_until.is_none() {
        // The old server was down: whatever it committed after its last archived commit
        // was never archived.
        let last = reached
            .clone()
            .or(archive_until.clone())
            .unwrap_or_else(|| "the snapshot".into());
        Some(match &set_aside {
            Some(place) => format!(
                "whatever the old server committed after {last} (the last archived commit) was never archived; its data directory is set aside on {place} and may hold it"
            ),
            None => {
                lost = true;
                format!(
                    "whatever the old server committed after {last} (the last archived commit) was never archived and is lost with its data directory"
                )
            }
        })
    } else {
        None
    };
    let not_brought_back = match (in_archive, never_archived) {
        (Some(a), Some(b)) => Some(format!("{a}; and {b}")),
        (a, b) => a.or(b),
    };
    // The address clients used and the one they use now.
    let take_over = steps
        .iter()
        .filter_map(|s| serde_json::from_str::<StepSpec>(&s.spec).ok())
        .find_map(|spec| match spec.action {
            Action::Catalog {
                change: CatalogChange::TakeOver { old_id, new_id },
            } => Some((old_id, new_id)),
            _ => None,
        });
    let address = |id: i64| -> Option<String> {
        let i = irows::get(conn, id).ok()?;
        let h = hosts::get(conn, i.host_id?).ok()?;
        Some(crate::catalog::endpoints::join(&h.address, i.port?))
    };
    let (address_before, address_after) = match take_over {
        Some((old, new)) => match (address(old), address(new)) {
            (Some(a), Some(b)) if a != b => (Some(a), Some(b)),
            _ => (None, None),
        },
        None => (None, None),
    };
    let address_unannounced = address_before.is_some() && ctx.config.endpoints.hook.is_empty();
    Ok(Report {
        recovered_to: restored.and_then(|s| s.recovered_to),
        reached,
        archive_until,
        archived_until,
        old_server_unreached,
        set_aside,
        not_brought_back,
        commits_not_brought_back: counted,
        lost,
        address_before,
        address_after,
        address_unannounced,
    })
}

/// Records what recovery (or in-place restore) workflow `wf` brought back and what not, as
/// an event of the instance's (`recovery_report`); returns the report.
///
/// # Errors
/// The catalog fails.
pub fn record_report(ctx: &Ctx, wf: i64) -> Result<Report> {
    let r = report(ctx, wf)?;
    let w = crate::catalog::workflows::get(ctx.catalog.conn(), wf)?;
    let inst = match w.instance_id {
        Some(id) => irows::get(ctx.catalog.conn(), id).ok(),
        None => None,
    };
    crate::catalog::events::add(
        ctx.catalog.conn(),
        inst.as_ref().map(|i| (i.id, i.name.as_str())),
        Some(wf),
        "recovery_report",
        &r.lines().join("; "),
    )?;
    Ok(r)
}
