//! What can be restored from where: each snapshot of an instance's lineage (host tier) and each
//! backup (repository tier), with how far its log chain reaches as the host that holds it (or
//! any host of the engine, for a repository's records) reckons it.

use crate::catalog::backups::{self as backup_rows, BackupRow};
use crate::catalog::hosts;
use crate::catalog::instances::{self as irows, InstanceRow};
use crate::catalog::repositories::{self, RepositoryRow};
use crate::catalog::repository_logs as repo_logs;
use crate::catalog::snapshots::{self, SnapshotRow};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::transport::CallError;
use crate::wire::logs::{Coverage, CoverageSpec, LogListing, SnapshotReach, SnapshotStart};
use crate::wire::{ErrorCode, Op};
use anyhow::{Context, Result};
use time::OffsetDateTime;

/// A snapshot, the incarnation of the instance whose log archive follows it, and how far
/// that chain reaches.
#[derive(Debug, Clone)]
pub struct Reach {
    pub origin: InstanceRow,
    pub snap: SnapshotRow,
    pub reach: SnapshotReach,
    /// Where the snapshot and the logs after it are kept.
    pub tier: Tier,
}

/// The two tiers a restore can start from.
#[derive(Debug, Clone)]
pub enum Tier {
    /// The snapshot and the log archive on the incarnation's host (fast).
    Host,
    /// A backup of the snapshot and the shipped logs in a repository.
    Repository(Box<InRepository>),
}

/// A backup and the log shipments after it, in a repository.
#[derive(Debug, Clone)]
pub struct InRepository {
    pub repository: RepositoryRow,
    pub backup: BackupRow,
    /// The restic snapshots of the incarnation's log shipments there.
    pub shipments: Vec<String>,
}

/// Which tiers a restore may start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tiers {
    /// The host's, where it reaches the target; the repository's otherwise.
    Any,
    /// Only a repository's (`--from-repository`).
    Repository,
}

/// The instance and the ones it replaced by recovery, newest first: its history.
pub(crate) fn incarnations(ctx: &Ctx, inst: &InstanceRow) -> Result<Vec<InstanceRow>> {
    let conn = ctx.catalog.conn();
    let mut out = vec![inst.clone()];
    let mut cur = inst.id;
    while let Some(prev) = irows::replaces(conn, cur)? {
        if out.iter().any(|i| i.id == prev) {
            break;
        }
        out.push(irows::get(conn, prev)?);
        cur = prev;
    }
    Ok(out)
}

/// One incarnation's snapshots on its own host (where its log archive is), with how far the
/// archive reaches after each.
fn coverage_of(
    ctx: &Ctx,
    inc: &InstanceRow,
    position: Option<&str>,
) -> Result<(Vec<Reach>, Coverage)> {
    let host_id = inc.host_id.context("the instance has no host")?;
    let host = hosts::get(ctx.catalog.conn(), host_id)?;
    let mut snaps: Vec<SnapshotRow> = snapshots::list(ctx.catalog.conn(), Some(&inc.name))?
        .into_iter()
        .filter(|s| {
            s.instance_id == inc.id
                && s.host_id == Some(host_id)
                && s.status == snapshots::status::AVAILABLE
        })
        .filter(|s| s.position.is_some() && s.consistent_at.is_some())
        .collect();
    snaps.sort_by_key(|s| s.consistent_at.as_deref().and_then(crate::times::parse));
    let spec = CoverageSpec {
        instance: inc.uid.clone(),
        engine: inc.engine.clone(),
        snapshots: snaps.iter().filter_map(start_of).collect(),
        target: position.map(str::to_string),
        given: None,
    };
    let v =
        crate::control::hosts::reach::call(&host, Op::LogCoverage(spec)).map_err(|e| match e {
            // A position the engine cannot read is the user's to fix.
            CallError::Remote(w) if w.code == ErrorCode::InvalidInput => {
                invalid(w.message, w.hint.unwrap_or_default())
            }
            e => crate::control::hosts::reach::explain_for(&host, e),
        })?;
    let cov: Coverage = serde_json::from_value(v)?;
    let pairs = snaps
        .into_iter()
        .zip(cov.snapshots.iter().cloned())
        .map(|(snap, reach)| Reach {
            origin: inc.clone(),
            snap,
            reach,
            tier: Tier::Host,
        })
        .collect();
    Ok((pairs, cov))
}

/// One incarnation's backups in each repository, with how far the logs shipped there reach
/// after each. dbctl cannot order an engine's positions, so a host running the engine
/// reckons it from the shipped files' records: the first of the hosts that answers, not
/// counting those in `avoid` (known not to).
fn repository_coverage_of(
    ctx: &Ctx,
    inc: &InstanceRow,
    position: Option<&str>,
    avoid: &[i64],
) -> Result<(Vec<Reach>, Coverage)> {
    let conn = ctx.catalog.conn();
    let mut pairs = Vec::new();
    let mut total = Coverage::default();
    let kept: Vec<BackupRow> = backup_rows::list(conn)?
        .into_iter()
        .filter(|b| b.instance_id == inc.id && b.status == backup_rows::status::AVAILABLE)
        .collect();
    for repo in repositories::list(conn)? {
        let mut backups: Vec<(BackupRow, SnapshotRow)> = kept
            .iter()
            .filter(|b| b.repository_id == repo.id && b.restic_id.is_some())
            .filter_map(|b| Some((b.clone(), snapshots::get(conn, b.snapshot_id).ok()?)))
            .filter(|(_, s)| s.position.is_some() && s.consistent_at.is_some())
            .collect();
        if backups.is_empty() {
            continue;
        }
        backups.sort_by_key(|(_, s)| start_time(s));
        let shipped = repo_logs::list(conn, repo.id, inc.id)?;
        let (marks, _) = repo_logs::marks(conn, repo.id, inc.id)?;
        let mut shipments: Vec<String> = shipped
            .iter()
            .map(|l| l.restic_id.clone())
            .filter(|id| !id.is_empty())
            .collect();
        shipments.sort();
        shipments.dedup();
        let spec = CoverageSpec {
            instance: inc.uid.clone(),
            engine: inc.engine.clone(),
            snapshots: backups.iter().filter_map(|(_, s)| start_of(s)).collect(),
            target: position.map(str::to_string),
            given: Some(LogListing {
                files: shipped.into_iter().map(|l| l.file).collect(),
                marks,
            }),
        };
        let cov = reckon(ctx, &inc.engine, &spec, avoid)?;
        total.segments += cov.segments;
        total.target = total.target.or(cov.target.clone());
        for ((backup, snap), reach) in backups.into_iter().zip(cov.snapshots.iter().cloned()) {
            pairs.push(Reach {
                origin: inc.clone(),
                snap,
                reach,
                tier: Tier::Repository(Box::new(InRepository {
                    repository: repo.clone(),
                    backup,
                    shipments: shipments.clone(),
                })),
            });
        }
    }
    Ok((pairs, total))
}

/// Asks a host running the engine for the coverage `spec` gives.
fn reckon(ctx: &Ctx, engine: &str, spec: &CoverageSpec, avoid: &[i64]) -> Result<Coverage> {
    let v = crate::control::hosts::reach::any_host_call(
        ctx,
        engine,
        &Op::LogCoverage(spec.clone()),
        avoid,
    )?;
    Ok(serde_json::from_value(v)?)
}

/// Every snapshot of the instance's history (its own and those of the incarnations it
/// replaced), oldest first, with how far the logs reach after each. An earlier
/// incarnation's host that does not answer leaves its part out.
///
/// The repository tier's backups join them (`tiers`). When the instance's own host does not
/// answer (or is gone), the repository's reach stands alone; without any, that host's error
/// is the answer.
pub(super) fn coverage(
    ctx: &Ctx,
    inst: &InstanceRow,
    position: Option<&str>,
    tiers: Tiers,
) -> Result<(Vec<Reach>, Coverage)> {
    let mut pairs = Vec::new();
    let mut cov = Coverage::default();
    let mut host_error = None;
    let mut dead = Vec::new();
    let history = incarnations(ctx, inst)?;
    if tiers == Tiers::Any {
        for (i, inc) in history.iter().enumerate() {
            match coverage_of(ctx, inc, position) {
                Ok((more, c)) => {
                    pairs.extend(more);
                    cov.segments += c.segments;
                    if i == 0 {
                        cov = Coverage {
                            segments: cov.segments,
                            ..c
                        };
                    }
                }
                // A target the current incarnation's engine cannot read is the user's to fix;
                // an earlier incarnation's log may simply not hold it.
                Err(e)
                    if e.downcast_ref::<crate::control::base::error::Invalid>()
                        .is_some() =>
                {
                    if i == 0 {
                        return Err(e);
                    }
                }
                Err(e) => {
                    dead.extend(inc.host_id);
                    if i == 0 {
                        host_error = Some(e);
                    }
                }
            }
        }
    }
    let mut repo_error = None;
    for inc in &history {
        match repository_coverage_of(ctx, inc, position, &dead) {
            Ok((more, c)) => {
                pairs.extend(more);
                cov.segments += c.segments;
                cov.target = cov.target.or(c.target);
            }
            // Asked of the repository alone, its answer stands; beside the host's tier, a
            // target only the host's archive can place (a transaction) is the host's.
            Err(e)
                if tiers == Tiers::Repository
                    && e.downcast_ref::<crate::control::base::error::Invalid>()
                        .is_some() =>
            {
                return Err(e)
            }
            Err(e) => repo_error = repo_error.or(Some(e)),
        }
    }
    if pairs.is_empty() {
        if let Some(e) = host_error.or(repo_error) {
            return Err(e);
        }
    }
    pairs.sort_by_key(|r| start_time(&r.snap));
    Ok((pairs, cov))
}

/// Where a snapshot's log chain starts (None before it is complete).
pub(crate) fn start_of(s: &SnapshotRow) -> Option<SnapshotStart> {
    Some(SnapshotStart {
        snapshot: s.uid.clone(),
        position: s.position.clone()?,
        branch: s.branch.unwrap_or(1),
    })
}

/// When a snapshot restores from: the moment it was consistent.
pub(super) fn start_time(s: &SnapshotRow) -> Option<OffsetDateTime> {
    s.consistent_at.as_deref().and_then(crate::times::parse)
}
