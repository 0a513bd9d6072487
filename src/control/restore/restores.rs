//! Restores to a point in time, planned in one place: the snapshot and log archive that
//! reach a target (shared by clones to a point, in-place restores and recovery), and the
//! in-place restore itself.

use crate::catalog::instances::InstanceRow;
use crate::catalog::snapshots::SnapshotRow;
use crate::control::base::home::Ctx;
use crate::control::planning;
use crate::control::planning::Plan;
use crate::control::restore::pitr;
use crate::wire::{RecoverySpec, Target};
use crate::workflow::actions::{self, ActionKind, CloneFrom, FromRepository};
use anyhow::{Context, Result};

/// Where a restore to a point in time starts: a snapshot, the incarnation whose log archive
/// follows it, and how far to replay.
pub struct Point {
    pub snap: SnapshotRow,
    pub origin: InstanceRow,
    pub recovery: RecoverySpec,
    /// From a repository: the backup and the shipped logs, and the names they take on the
    /// host that restores them.
    pub repository: Option<FromRepository>,
    /// Why the copy stops short of what was asked (the source's host does not answer).
    pub caveat: Option<String>,
}

impl Point {
    /// The snapshot and archive to replay, as a new or replaced server's source.
    pub fn source(&self) -> Result<CloneFrom<'_>> {
        let source_host = match &self.repository {
            // Nothing is read from a host: the restore runs where it is placed.
            Some(_) => 0,
            None => self
                .snap
                .host_id
                .context("the snapshot's host was removed")?,
        };
        Ok(CloneFrom {
            source: &self.origin,
            source_host,
            snapshot: &self.snap,
            fresh: false,
            recovery: Some(self.recovery.clone()),
            repository: self.repository.clone(),
        })
    }

    /// Where it comes from, for people.
    pub fn describe_source(&self) -> String {
        match &self.repository {
            Some(r) => format!(
                "backup of snapshot {} in repository {}",
                self.snap.id, r.repository
            ),
            None => format!("snapshot {}", self.snap.id),
        }
    }

    /// The target replay goes to, for people, with what it stops short of.
    pub fn describe(&self) -> String {
        match &self.caveat {
            Some(c) => format!("{} ({c})", describe_target(&self.recovery.target)),
            None => describe_target(&self.recovery.target),
        }
    }
}

/// Chooses where restoring `inst` to `target` starts (see [`pitr::choose`]).
///
/// # Errors
/// A target outside the window, an unreachable host.
pub fn point(
    ctx: &Ctx,
    inst: &InstanceRow,
    target: &Target,
    broken_source: bool,
    dry_run: bool,
    tiers: crate::control::restore::coverage::Tiers,
) -> Result<Point> {
    let pitr::Choice {
        reach: chosen,
        target: resolved,
        caveat,
    } = pitr::choose(ctx, inst, target, broken_source, dry_run, tiers)?;
    let repository = match &chosen.tier {
        crate::control::restore::coverage::Tier::Host => None,
        crate::control::restore::coverage::Tier::Repository(r) => Some(from_repository(
            &chosen.origin,
            &r.repository.name,
            r.backup.restic_id.clone().unwrap_or_default(),
            r.shipments.clone(),
        )),
    };
    Ok(Point {
        recovery: RecoverySpec {
            // Replay reads the logs brought from the repository, under a name of their own.
            log_instance: repository
                .as_ref()
                .map_or_else(|| chosen.origin.uid.clone(), |r| r.staging.clone()),
            target: resolved,
        },
        snap: chosen.snap,
        origin: chosen.origin,
        repository,
        caveat,
    })
}

/// A restore from backup `restic_id` of `origin` in `repository` (with `shipments` of its
/// logs), under names the receiving host cannot already use for anything else.
pub fn from_repository(
    origin: &InstanceRow,
    repository: &str,
    restic_id: String,
    shipments: Vec<String>,
) -> FromRepository {
    let tag = format!(
        "{}-r{:08x}",
        &origin.uid[..origin.uid.len().min(60)],
        rand::random::<u32>()
    );
    FromRepository {
        repository: repository.into(),
        restic_id,
        shipments,
        staging: format!("{tag}-logs"),
    }
}

/// A target, for people.
pub fn describe_target(t: &Target) -> String {
    match t {
        Target::Time(t) => format!("{t} (UTC)"),
        Target::Position(p) => format!("position {p}"),
        Target::Latest => "the latest archived commit".into(),
    }
}

/// Plans `restore NAME --in-place` to `target`; writes it unless `dry_run`.
///
/// # Errors
/// Unknown or busy instance, a host that does not answer, a target outside the window.
pub fn plan_in_place(
    ctx: &mut Ctx,
    name: &str,
    target: Target,
    from_repository: bool,
    dry_run: bool,
) -> Result<Plan> {
    let (inst, host) = planning::settled(ctx, name)?;
    let host_id = host.id;
    let tiers = if from_repository {
        crate::control::restore::coverage::Tiers::Repository
    } else {
        crate::control::restore::coverage::Tiers::Any
    };
    let point = point(ctx, &inst, &target, true, dry_run, tiers)?;
    let from = point.source()?;
    let mut after = planning::new_snapshot_row(
        &inst,
        host_id,
        crate::catalog::snapshots::kind::RECOVERY,
        Some("after-restore"),
    );
    let plan = Plan::new(
        ActionKind::RestoreInPlace,
        name,
        &host.name,
        format!(
            "in place on host {}, from {} to {}; name, port and endpoint stay",
            host.name,
            point.describe_source(),
            point.describe()
        ),
        actions::restore_in_place::steps(&inst, host_id, &from, &after),
    );
    planning::submit(ctx, plan, dry_run, |tx| {
        planning::write_with_snapshot(tx, ActionKind::RestoreInPlace, &inst, &mut after, &|a| {
            actions::restore_in_place::steps(&inst, host_id, &from, a)
        })
    })
}
