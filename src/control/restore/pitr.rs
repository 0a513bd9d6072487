//! Point-in-time recovery: parsing targets, the restorable window, and choosing the snapshot a
//! restore starts from.

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;

use crate::catalog::backups::{self as backup_rows, BackupRow};
use crate::catalog::instances::{self as irows, status as istatus, InstanceRow};
use crate::catalog::log_ranges::{self, LogRange};
use crate::catalog::repositories::{self, RepositoryRow};
use crate::catalog::repository_logs as repo_logs;
use crate::catalog::snapshots::{self, SnapshotRow};
use crate::catalog::{hosts, now};
use crate::transport::CallError;
use crate::wire::{
    Coverage, CoverageSpec, ErrorCode, InstanceRef, LogListing, Op, Place, SnapshotReach,
    SnapshotStart, Target,
};
use anyhow::{Context, Result};
use serde::Serialize;
use time::OffsetDateTime;

/// The span of time an instance can be restored to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Window {
    pub instance: String,
    /// The oldest point any kept snapshot, with the logs after it, restores to.
    pub earliest: Option<String>,
    /// The newest: the last archived commit (or later, up to where the archive is known to
    /// be complete) reachable from a snapshot.
    pub latest: Option<String>,
    pub latest_position: Option<String>,
    pub snapshots: usize,
    pub segments: u64,
    /// The first missing log segment, if the archive has a hole.
    pub gap: Option<String>,
    /// Spans inside earliest..latest that no snapshot and log chain reaches (a missing
    /// segment, or the time between two incarnations of the instance).
    pub holes: Vec<Hole>,
    /// What a timeline draws: each snapshot's point by tier, and the spans restorable.
    #[serde(skip)]
    pub timeline: Timeline,
}

/// The parts of a restorable window a picture of it shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// Where each snapshot restores from, on the host tier.
    pub host: Vec<OffsetDateTime>,
    /// Where each repository backup restores from.
    pub repository: Vec<OffsetDateTime>,
    /// The spans a snapshot and its logs reach, merged, oldest first.
    pub spans: Vec<(OffsetDateTime, OffsetDateTime)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hole {
    pub from: String,
    pub to: String,
}

/// A time to the second, rounded into the span it bounds (up for a start, down for an end),
/// so that a time copied from a message is inside what it says.
fn to_second(t: &str, up: bool) -> String {
    match crate::times::parse(t) {
        Some(v) => {
            let whole = v.replace_nanosecond(0).unwrap_or(v);
            crate::times::format(if up && whole < v {
                whole + time::Duration::SECOND
            } else {
                whole
            })
        }
        None => t.to_string(),
    }
}

impl Window {
    /// The window in one line, its holes named: "FROM .. TO except A .. B".
    pub fn describe(&self) -> String {
        match (&self.earliest, &self.latest) {
            (Some(e), Some(l)) => {
                let (from, to) = (to_second(e, true), to_second(l, false));
                // A window within one second (a new instance's base snapshot) has no whole
                // second inside it: then its ends as they are.
                let inverted = crate::times::parse(&from)
                    .zip(crate::times::parse(&to))
                    .is_some_and(|(f, t)| f > t);
                let mut d = if inverted {
                    format!("{e} .. {l}")
                } else {
                    format!("{from} .. {to}")
                };
                if !self.holes.is_empty() {
                    let holes: Vec<String> = self
                        .holes
                        .iter()
                        // Each hole's ends rounded into the spans either side of it.
                        .map(|h| {
                            format!(
                                "{} .. {}",
                                to_second(&h.from, false),
                                to_second(&h.to, true)
                            )
                        })
                        .collect();
                    d += &format!(" except {}", holes.join(", "));
                }
                d
            }
            _ => "empty (no snapshot yet)".into(),
        }
    }
}

/// A time as users write it: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC), "now", or "N units ago".
///
/// # Errors
/// [`crate::control::base::error::Invalid`] saying which forms are accepted.
pub fn parse_time(s: &str, now: OffsetDateTime) -> Result<OffsetDateTime> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(v) = crate::times::parse(t) {
        return Ok(v);
    }
    if let Some(v) = crate::times::parse(&format!("{}Z", t.replacen(' ', "T", 1))) {
        return Ok(v);
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    if let [n, unit, "ago"] = words.as_slice() {
        if let Ok(n) = n.parse::<i64>() {
            let secs = match unit.trim_end_matches('s') {
                "second" | "sec" => Some(1),
                "minute" | "min" => Some(60),
                "hour" => Some(3600),
                "day" => Some(86400),
                "week" => Some(7 * 86400),
                _ => None,
            };
            if let Some(s) = secs {
                return Ok(now - time::Duration::seconds(n * s));
            }
        }
    }
    Err(invalid(
        format!("cannot read the time `{s}`"),
        "use RFC 3339 (2026-11-24T10:15:00Z), \"2026-11-24 10:15:00\" (UTC), \"now\" or \"N minutes ago\"",
    ))
}

/// The target the user asked for, resolved (times to absolute UTC). A position is the
/// engine's to read: dbhost checks and orders it when the target is placed.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for unreadable times.
pub fn parse_target(
    at: Option<&str>,
    position: Option<&str>,
    latest: bool,
) -> Result<Option<Target>> {
    Ok(match (at, position, latest) {
        (Some(t), None, false) => Some(Target::Time(crate::times::format(parse_time(
            t,
            OffsetDateTime::now_utc(),
        )?))),
        (None, Some(p), false) if p.trim().is_empty() => {
            return Err(invalid(
                "--position is empty",
                "give a log position as the engine writes it (PostgreSQL: e.g. 0/3000060)",
            ))
        }
        (None, Some(p), false) => Some(Target::Position(p.trim().to_string())),
        (None, None, true) => Some(Target::Latest),
        (None, None, false) => None,
        _ => {
            return Err(invalid(
                "--at, --position and --latest exclude each other",
                "give one of them",
            ))
        }
    })
}

/// `--lsn` names PostgreSQL's positions: on an instance of another engine it is refused,
/// naming that engine's own form, rather than read as whatever that engine calls a position.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] when `lsn_given` and `instance` does not run PostgreSQL; the
/// instance's own lookup errors.
pub fn check_lsn_spelling(ctx: &Ctx, instance: &str, lsn_given: bool) -> Result<()> {
    if !lsn_given {
        return Ok(());
    }
    let inst = match irows::lost_by_name(ctx.catalog.conn(), instance)? {
        Some(lost) if irows::live_by_name(ctx.catalog.conn(), instance)?.is_none() => lost,
        _ => crate::control::base::lookup::instance(ctx, instance)?,
    };
    if inst.engine == "postgres" {
        return Ok(());
    }
    let engine = crate::control::base::engines::get(&inst.engine)?;
    Err(invalid(
        format!("--lsn is PostgreSQL's; `{instance}` runs {}", inst.engine),
        format!("give --position with {}", engine.position_example),
    ))
}

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
fn coverage(
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
fn start_time(s: &SnapshotRow) -> Option<OffsetDateTime> {
    s.consistent_at.as_deref().and_then(crate::times::parse)
}

/// The latest time a snapshot's chain reaches: its last archived commit, or a later time up
/// to which the archive is known to hold every commit, or the snapshot itself.
fn reach_time(s: &SnapshotRow, r: &SnapshotReach) -> Option<OffsetDateTime> {
    let logs = r.until_time.as_deref().and_then(crate::times::parse);
    let complete = r.complete_until.as_deref().and_then(crate::times::parse);
    start_time(s).max(logs).max(complete)
}

/// The restorable spans of time, merged where snapshots' chains overlap, oldest first.
fn spans(pairs: &[Reach]) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    let mut all: Vec<(OffsetDateTime, OffsetDateTime)> = pairs
        .iter()
        .filter_map(|r| Some((start_time(&r.snap)?, reach_time(&r.snap, &r.reach)?)))
        .collect();
    all.sort();
    let mut merged: Vec<(OffsetDateTime, OffsetDateTime)> = Vec::new();
    for (from, to) in all {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// The window `pairs` give, without recording it.
fn window_of(inst: &InstanceRow, pairs: &[Reach], cov: &Coverage) -> Window {
    let spans = spans(pairs);
    let mut timeline = Timeline {
        spans: spans.clone(),
        ..Default::default()
    };
    for r in pairs {
        if let Some(t) = start_time(&r.snap) {
            match r.tier {
                Tier::Host => timeline.host.push(t),
                Tier::Repository(_) => timeline.repository.push(t),
            }
        }
    }
    let best = pairs
        .iter()
        .filter_map(|r| reach_time(&r.snap, &r.reach).map(|t| (t, &r.reach)))
        .max_by_key(|(t, _)| *t);
    Window {
        instance: inst.name.clone(),
        earliest: spans.first().map(|(from, _)| crate::times::format(*from)),
        latest: spans.last().map(|(_, to)| crate::times::format(*to)),
        latest_position: best.map(|(_, r)| r.until_position.clone()),
        snapshots: pairs.len(),
        segments: cov.segments,
        gap: pairs.iter().find_map(|r| r.reach.gap.clone()),
        holes: spans
            .windows(2)
            .map(|w| Hole {
                from: crate::times::format(w[0].1),
                to: crate::times::format(w[1].0),
            })
            .collect(),
        timeline,
    }
}

/// Computes (and records in the catalog) the instance's restorable window.
///
/// # Errors
/// The instance's host cannot be reached.
pub fn window(ctx: &Ctx, inst: &InstanceRow) -> Result<Window> {
    let (pairs, cov) = coverage(ctx, inst, None, Tiers::Any)?;
    let w = window_of(inst, &pairs, &cov);
    log_ranges::put(
        ctx.catalog.conn(),
        inst.id,
        &LogRange {
            segments: cov.segments,
            first_segment: cov.first_segment,
            last_segment: cov.last_segment,
            first_time: cov.first_time,
            last_time: cov.last_time,
            gap: w.gap.clone(),
            refreshed_at: now(),
        },
    )?;
    Ok(w)
}

/// Whether snapshot `s`, with the chain `r` after it, restores to `target`.
fn fits(target: &Target, s: &SnapshotRow, r: &SnapshotReach) -> bool {
    match target {
        Target::Latest => true,
        Target::Time(t) => {
            let t = crate::times::parse(t);
            t.is_some() && start_time(s) <= t && t <= reach_time(s, r)
        }
        // dbhost placed it: only the engine orders positions.
        Target::Position(_) => r.target == Some(Place::Within),
    }
}

/// Archives a running instance's current log segment now (so that the archive holds every
/// commit made so far). Returns the reason when its host does not answer: what was
/// archived (or shipped) before is then all there is to restore.
///
/// # Errors
/// The host refuses, or the switch fails there.
fn switch_log(ctx: &Ctx, inst: &InstanceRow) -> Result<Option<String>> {
    let host = hosts::get(ctx.catalog.conn(), inst.host_id.context("no host")?)?;
    match crate::control::hosts::reach::call(
        &host,
        Op::LogSwitch(InstanceRef {
            instance: inst.uid.clone(),
        }),
    ) {
        Ok(_) => Ok(None),
        Err(e @ CallError::Unreachable(_)) => Ok(Some(
            crate::control::hosts::reach::explain_for(&host, e).to_string(),
        )),
        Err(e) => Err(crate::control::hosts::reach::explain_for(&host, e)),
    }
}

/// Where a restore starts and how far it replays ([`choose`]).
pub struct Choice {
    pub reach: Reach,
    pub target: Target,
    /// Set when the target could not be brought as far as asked: why, and how far it goes.
    pub caveat: Option<String>,
}

/// Chooses the newest snapshot (of the instance or an incarnation it replaced) from which the
/// log chain reaches `target`, and the target to give recovery. A time at or past the last
/// archived commit becomes that commit's position, so that recovery that falls short of it
/// (a damaged segment) fails instead of promoting early; `latest` is resolved the same way
/// by dbhost when the restore runs. On a running source, a target past what is archived
/// (`latest`, "now", a minute ago) first has the current segment archived, so the copy is
/// as recent as the request. Returns the chosen snapshot with the incarnation whose log
/// archive follows it.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] printing the window when the target is outside it (naming a
/// missing segment when a hole is why); an unreachable host.
///
/// With `broken_source` the switch is attempted but may fail: a server that is gone cannot
/// close its segment, and recovery then takes what was archived. A `dry_run` switches
/// nothing: it shows what the archive holds now.
pub fn choose(
    ctx: &Ctx,
    inst: &InstanceRow,
    target: &Target,
    broken_source: bool,
    dry_run: bool,
    tiers: Tiers,
) -> Result<Choice> {
    let position = match target {
        Target::Position(p) => Some(p.as_str()),
        _ => None,
    };
    let (mut pairs, mut cov) = match coverage(ctx, inst, position, tiers) {
        // A transaction the archive does not hold: say what it does hold.
        Err(e)
            if position.is_some()
                && e.downcast_ref::<crate::control::base::error::Invalid>()
                    .is_some() =>
        {
            let bad = e
                .downcast::<crate::control::base::error::Invalid>()
                .expect("checked");
            let (pairs, cov) = coverage(ctx, inst, None, tiers)?;
            let w = window_of(inst, &pairs, &cov);
            return Err(invalid(
                format!(
                    "{}; the restorable window of `{}` is {} (up to position {})",
                    bad.what,
                    inst.name,
                    w.describe(),
                    w.latest_position.as_deref().unwrap_or("none")
                ),
                bad.fix,
            ));
        }
        r => r?,
    };
    // Only a target newer than everything archived needs the switch (one before the
    // window must not change the source at all).
    let past_archive = match target {
        Target::Latest => true,
        Target::Time(t) => {
            let newest = pairs
                .iter()
                .filter_map(|r| reach_time(&r.snap, &r.reach))
                .max();
            !pairs.is_empty() && crate::times::parse(t) > newest
        }
        Target::Position(_) => {
            !pairs.is_empty()
                && pairs
                    .iter()
                    .filter(|r| r.origin.id == inst.id)
                    .all(|r| r.reach.target == Some(Place::After))
        }
    };
    // A dry run must not switch the source's log, but must accept what the real run
    // accepts: a target past the archive on a live server is reached once the run switches.
    let switch_skipped =
        past_archive && inst.status == istatus::AVAILABLE && dry_run && tiers == Tiers::Any;
    // A source whose host does not answer cannot close its segment: the target is then what
    // its archive and the repository hold, and the caller says so.
    let mut silent = None;
    if past_archive && inst.status == istatus::AVAILABLE && !dry_run && tiers == Tiers::Any {
        match switch_log(ctx, inst) {
            Ok(None) => {}
            Ok(Some(why)) => silent = Some(why),
            Err(e) if !broken_source => return Err(e),
            Err(_) => {}
        }
        if silent.is_none() {
            (pairs, cov) = coverage(ctx, inst, position, tiers)?;
        }
    }
    // The position as the engine writes it.
    let target = &match (target, &cov.target) {
        (Target::Position(_), Some(p)) => Target::Position(p.clone()),
        _ => target.clone(),
    };
    // Positions belong to one incarnation's log: they choose among its snapshots only. So
    // does `latest`, and only on the branch the log goes on with: a snapshot taken before
    // an in-place restore would replay the branch that restore abandoned.
    let candidate = |r: &&Reach| match target {
        Target::Time(_) => true,
        Target::Position(_) => r.origin.id == inst.id,
        Target::Latest => r.origin.id == inst.id && r.reach.on_newest_branch,
    };
    // The host's tier where it reaches the target (it is faster: nothing to fetch), the
    // newest snapshot there; the repository's otherwise.
    if let Some(chosen) = pairs
        .iter()
        .filter(candidate)
        .filter(|r| fits(target, &r.snap, &r.reach))
        .max_by_key(|r| (matches!(r.tier, Tier::Host), start_time(&r.snap)))
    {
        let (s, r) = (&chosen.snap, &chosen.reach);
        // Recovery stops a time target only on seeing a later commit; at or past the last
        // archived commit there is none, so stop right after that commit's record instead
        // (recovery then fails, rather than promoting early, if it cannot get there).
        let last_commit = || {
            Target::Position(
                r.until_commit_position
                    .clone()
                    .or_else(|| s.position.clone())
                    .unwrap_or_default(),
            )
        };
        let resolved = match target {
            // dbhost resolves it when the restore runs, to what is archived by then.
            Target::Latest => Target::Latest,
            Target::Time(t) => {
                let t = crate::times::parse(t);
                match r.until_time.as_deref().and_then(crate::times::parse) {
                    Some(last) if t < Some(last) => target.clone(),
                    _ if r.unscanned.is_some() => {
                        return Err(invalid(
                            format!(
                                "the commits in log segment {} could not be read when it was archived, so which commit is the last before {} is unknown",
                                r.unscanned.clone().unwrap_or_default(),
                                crate::times::format(t.unwrap_or(OffsetDateTime::UNIX_EPOCH))
                            ),
                            "give a position (--position) instead",
                        ))
                    }
                    _ => last_commit(),
                }
            }
            Target::Position(_) => target.clone(),
        };
        // Past what was archived, on a source that could not archive the rest: say how far
        // the copy goes, so no commit is dropped in silence.
        let caveat = silent.map(|why| {
            format!(
                "{why}; so the copy goes as far as what was archived{}, through {}: commits made after that on `{}` are not in it",
                match chosen.tier {
                    Tier::Host => String::new(),
                    Tier::Repository(ref r) => format!(" in repository {}", r.repository.name),
                },
                reach_time(s, r).map_or_else(|| "its snapshot".into(), crate::times::format),
                inst.name
            )
        });
        return Ok(Choice {
            reach: chosen.clone(),
            target: resolved,
            caveat,
        });
    }
    if switch_skipped {
        if let Some(newest) = pairs
            .iter()
            .filter(|r| r.origin.id == inst.id && r.reach.on_newest_branch)
            .filter(|r| matches!(r.tier, Tier::Host))
            .max_by_key(|r| start_time(&r.snap))
        {
            return Ok(Choice {
                reach: newest.clone(),
                target: target.clone(),
                caveat: None,
            });
        }
    }
    let w = window_of(inst, &pairs, &cov);
    let what = match target {
        Target::Time(t) => format!(
            "{t} is outside the restorable window of `{}`: {}",
            inst.name,
            w.describe()
        ),
        Target::Position(p) => format!(
            "position {p} is outside the restorable range of `{}` (up to {})",
            inst.name,
            w.latest_position
                .clone()
                .unwrap_or_else(|| "nothing".into())
        ),
        Target::Latest if w.snapshots > 0 => format!(
            "`{}` has no snapshot on the timeline its log goes on with (an in-place restore came after them)",
            inst.name
        ),
        Target::Latest => format!("`{}` has no snapshot to restore from", inst.name),
    };
    let fix = match &w.gap {
        Some(seg) => format!("the log archive is missing segment {seg}; choose a target before it, or take a new snapshot"),
        None => "choose a target inside it (`dbctl restorable-window NAME`)".into(),
    };
    Err(invalid(what, fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_said_to_the_second_inside_its_ends_and_names_its_holes() {
        let w = |e: &str, l: &str, holes: Vec<Hole>| Window {
            earliest: Some(e.into()),
            latest: Some(l.into()),
            holes,
            ..Default::default()
        };
        assert_eq!(
            w("2026-12-07T10:00:00.2Z", "2026-12-07T11:00:00.9Z", vec![]).describe(),
            "2026-12-07T10:00:01Z .. 2026-12-07T11:00:00Z"
        );
        // Within one second: no whole second is inside, so its ends as they are (before,
        // it read 10:00:01Z .. 10:00:00Z).
        assert_eq!(
            w("2026-12-07T10:00:00.2Z", "2026-12-07T10:00:00.9Z", vec![]).describe(),
            "2026-12-07T10:00:00.2Z .. 2026-12-07T10:00:00.9Z"
        );
        let hole = Hole {
            from: "2026-12-07T10:20:00.5Z".into(),
            to: "2026-12-07T10:30:00.5Z".into(),
        };
        assert_eq!(
            w("2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z", vec![hole]).describe(),
            "2026-12-07T10:00:00Z .. 2026-12-07T11:00:00Z except 2026-12-07T10:20:00Z .. 2026-12-07T10:30:01Z"
        );
        assert_eq!(Window::default().describe(), "empty (no snapshot yet)");
    }

    #[test]
    fn reads_the_time_forms_users_write() {
        let now = crate::times::parse("2026-11-24T12:00:00Z").unwrap();
        assert_eq!(
            crate::times::format(parse_time("10 minutes ago", now).unwrap()),
            "2026-11-24T11:50:00Z"
        );
        assert_eq!(
            crate::times::format(parse_time("2 hours ago", now).unwrap()),
            "2026-11-24T10:00:00Z"
        );
        assert_eq!(
            crate::times::format(parse_time("now", now).unwrap()),
            "2026-11-24T12:00:00Z"
        );
        assert_eq!(
            crate::times::format(parse_time("2026-11-24T10:15:00+01:00", now).unwrap()),
            "2026-11-24T09:15:00Z"
        );
        assert_eq!(
            crate::times::format(parse_time("2026-11-24 10:15:00.5", now).unwrap()),
            "2026-11-24T10:15:00.5Z"
        );
        for bad in ["yesterday", "10 parsecs ago", "2026-13-01T00:00:00Z", ""] {
            assert!(parse_time(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn targets_exclude_each_other_and_positions_stay_the_engines() {
        assert!(parse_target(Some("now"), Some("0/1"), false).is_err());
        assert_eq!(
            parse_target(None, Some(" 0/3a "), false).unwrap(),
            Some(Target::Position("0/3a".into()))
        );
        assert_eq!(
            parse_target(None, None, true).unwrap(),
            Some(Target::Latest)
        );
    }
}
