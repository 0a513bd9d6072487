//! Point-in-time recovery: parsing targets, the restorable window, and choosing the snapshot a
//! restore starts from.

use super::coverage::{coverage, start_time, Reach, Tier, Tiers};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;

use crate::catalog::instances::{status as istatus, InstanceRow};
use crate::catalog::log_ranges::{self, LogRange};
use crate::catalog::snapshots::SnapshotRow;
use crate::catalog::{hosts, now};
use crate::transport::CallError;
use crate::wire::logs::{Coverage, Place, SnapshotReach};
use crate::wire::{InstanceRef, Op, Target};
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
    use super::super::targets::{parse_target, parse_time};
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
