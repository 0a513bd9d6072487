//! Restore drills: proof that an instance's backups restore, with the time it took.
//!
//! A drill restores the instance (from its host's snapshots and logs, or from its repository)
//! into a scratch instance as `clone` does, runs the engine's integrity checks and the DBA's
//! queries on it (`dbctl check`), removes it, and records how long the restore took (RTO)
//! and how far the newest point restored lay behind the source's newest commit (RPO). The scratch
//! instance is made with an expiry, so one left by a drill that died is removed by the
//! daemon. A failed drill records why, is an event, and runs the notification hook.

use crate::catalog::drills::{self, status, Ending};
use crate::catalog::events;
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::instances::lifetimes::LifetimeOpts;
use crate::control::restore::clones;
use crate::control::restore::clones::CloneOpts;
use crate::wire::{CheckReport, Target};
use crate::workflow::executor::Outcome;
use crate::workflow::progress::Progress;
use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

/// How long a scratch instance lives at most: a drill that died leaves none for longer.
const SCRATCH_EXPIRES: &str = "6h";

/// What to drill.
#[derive(Debug, Clone, Default)]
pub struct DrillOpts {
    pub instance: String,
    /// Restore from the repository tier instead of the host's snapshots.
    pub from_repository: bool,
    /// The point to restore to [default: the latest].
    pub target: Option<Target>,
    /// Where the scratch instance goes [default: placement].
    pub host: Option<String>,
    /// The DBA's queries, each to return true or a row.
    pub queries: Vec<String>,
    pub database: Option<String>,
}

/// What a drill found.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub id: i64,
    pub instance: String,
    pub tier: String,
    pub target: String,
    pub passed: bool,
    /// Seconds from the drill's start to the scratch copy answering queries.
    pub rto_secs: Option<f64>,
    /// Seconds between the newest point restored and the source's newest commit.
    pub rpo_secs: Option<f64>,
    pub scratch: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<CheckReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The scratch instance's name: the instance's, cut to fit, and the drill's id.
fn scratch_name(instance: &str, id: i64) -> String {
    let tail = format!("-drill{id}");
    let keep = 63usize.saturating_sub(tail.len());
    format!("{}{tail}", &instance[..instance.len().min(keep)])
}

/// Runs a drill to its end; a drill that fails is a report with `passed: false`, not an error.
///
/// # Errors
/// Bad input (an unknown instance, a restore nothing can place or reach), said before
/// anything is made; the catalog fails.
pub fn run(ctx: &mut Ctx, o: &DrillOpts, progress: &dyn Progress) -> Result<DrillReport> {
    let inst = crate::control::base::lookup::instance(ctx, &o.instance)?;
    let started = OffsetDateTime::now_utc();
    let target = o.target.clone().unwrap_or(Target::Latest);
    let tier = if o.from_repository {
        "repository"
    } else {
        "host"
    };
    let target_text = match &target {
        Target::Latest => "latest".to_string(),
        Target::Time(t) => t.clone(),
        Target::Position(p) => p.clone(),
    };
    // The newest point the restore reaches, for the RPO.
    let point = match &target {
        Target::Time(t) => crate::times::parse(t),
        // The repository holds what was shipped: its newest commit (or its newest backup).
        _ if o.from_repository => crate::control::offsite::shipping::offsite(ctx, &inst)
            .ok()
            .flatten()
            .and_then(|off| off.logs_through.or(off.last_backup_at))
            .as_deref()
            .and_then(crate::times::parse),
        // A host-tier restore to the latest archives the current log first: its reach is
        // the window's newest point now.
        _ => crate::control::restore::pitr::window(ctx, &inst)
            .ok()
            .and_then(|w| w.latest)
            .as_deref()
            .and_then(crate::times::parse),
    };
    let clone_opts = |name: String| CloneOpts {
        source: inst.name.clone(),
        name,
        class: None,
        host: o.host.clone(),
        storage_gb: None,
        port: None,
        snapshot: None,
        fresh: false,
        target: Some(target.clone()),
        from_repository: o.from_repository,
        backup: None,
        labels: Vec::new(),
        lifetime: LifetimeOpts {
            expires_in: Some(SCRATCH_EXPIRES.into()),
            ..Default::default()
        },
        scratch: true,
    };
    // Everything the drill needs is checked before anything is recorded or made.
    if o.from_repository && crate::control::offsite::shipping::offsite(ctx, &inst)?.is_none() {
        return Err(invalid(
            format!("{} has no repository to drill from", inst.name),
            format!(
                "give it one (`dbctl backup policy {} --backup-repository R`), or drill from the host tier",
                inst.name
            ),
        ));
    }
    if let Some(db) = &o.database {
        // Asked of the source, whose copy the scratch instance is; a source that does not
        // answer leaves it to the check.
        let there = crate::control::instances::connect::connection(ctx, &inst.name)
            .and_then(|c| c.has_database(db))
            .ok();
        if there == Some(false) {
            return Err(invalid(
                format!("{} has no database `{db}`", inst.name),
                "name one it has (`dbctl connect` lists them), or leave out --database",
            ));
        }
    }
    let probe = scratch_name(&inst.name, 0);
    clones::plan_clone(ctx, &clone_opts(probe), true).map_err(|e| {
        if e.downcast_ref::<crate::control::base::error::Invalid>()
            .is_some()
        {
            e
        } else {
            invalid(
                format!("a drill of {} cannot restore: {e:#}", inst.name),
                "see `dbctl restorable-window` and `dbctl host list`",
            )
        }
    })?;
    let id = ctx.catalog.write(|tx| {
        drills::start(
            tx,
            (inst.id, &inst.name),
            tier,
            &target_text,
            &crate::times::format(started),
        )
    })?;
    let scratch = scratch_name(&inst.name, id);
    ctx.catalog
        .write(|tx| drills::set_scratch(tx, id, &scratch))?;
    let mut report = DrillReport {
        id,
        instance: inst.name.clone(),
        tier: tier.into(),
        target: target_text,
        passed: false,
        rto_secs: None,
        rpo_secs: None,
        scratch: scratch.clone(),
        checks: None,
        error: None,
    };
    let restored = clones::plan_clone(ctx, &clone_opts(scratch.clone()), false).and_then(|plan| {
        let wf = plan
            .workflow_id
            .ok_or_else(|| anyhow::anyhow!("the restore was not written"))?;
        match crate::control::admin::runs::execute(ctx, wf, progress)? {
            Outcome::Succeeded => Ok(()),
            Outcome::Failed { reason, .. } => Err(anyhow::anyhow!("{reason}")),
            Outcome::Interrupted(why) => Err(anyhow::anyhow!(
                "the restore stopped part-way{}",
                why.map(|w| format!(": {w}")).unwrap_or_default()
            )),
        }
    });
    match restored {
        Err(e) => report.error = Some(format!("the restore failed: {e:#}")),
        Ok(()) => {
            let ready = OffsetDateTime::now_utc();
            report.rto_secs = Some((ready - started).as_seconds_f64());
            // The source's newest commit as archived now (a restore to the latest point
            // archived its current log first), against the newest restored: an idle source
            // loses nothing however long ago its last commit was.
            let newest = crate::control::restore::pitr::window(ctx, &inst)
                .ok()
                .and_then(|w| w.latest)
                .as_deref()
                .and_then(crate::times::parse)
                .map_or(started, |n| n.min(started));
            // A host-tier restore to the latest point reaches what was archived as it began.
            let reached = if !o.from_repository && matches!(target, Target::Latest) {
                Some(newest)
            } else {
                point
            };
            report.rpo_secs = reached.map(|p| (newest - p).as_seconds_f64().max(0.0));
            match crate::control::data::checks::run(
                ctx,
                &scratch,
                o.database.as_deref(),
                o.queries.clone(),
            ) {
                Ok(c) => {
                    if !c.ok() {
                        let mut failed: Vec<String> = Vec::new();
                        if !c.engine_ok {
                            failed.push(format!("{}: {}", c.tool, c.engine_detail));
                        }
                        failed.extend(c.queries.iter().filter(|q| !q.ok).map(|q| {
                            format!("{}: {}", q.sql, q.detail.clone().unwrap_or_default())
                        }));
                        report.error = Some(format!("checks failed: {}", failed.join("; ")));
                    }
                    report.checks = Some(c);
                }
                Err(e) => report.error = Some(format!("the checks could not run: {e:#}")),
            }
            // The scratch copy goes whatever the checks found; one that will not go is left
            // to its expiry.
            let removed =
                crate::control::instances::delete::plan_delete(ctx, &scratch, true, false)
                    .and_then(|plan| match plan.workflow_id {
                        Some(wf) => {
                            crate::control::admin::runs::execute(ctx, wf, progress).map(|_| ())
                        }
                        None => Ok(()),
                    });
            if let Err(e) = removed {
                let note = format!(
                    "the scratch instance {scratch} could not be removed ({e:#}); it expires within {SCRATCH_EXPIRES}"
                );
                report.error = Some(match report.error.take() {
                    Some(err) => format!("{err}; {note}"),
                    None => note,
                });
            }
        }
    }
    report.passed = report.error.is_none();
    let end = crate::times::format(OffsetDateTime::now_utc());
    let message = describe(&report);
    ctx.catalog.write(|tx| {
        drills::finish(
            tx,
            id,
            &Ending {
                status: if report.passed {
                    status::PASSED
                } else {
                    status::FAILED
                },
                at: &end,
                rto_secs: report.rto_secs,
                rpo_secs: report.rpo_secs,
                report: report
                    .checks
                    .as_ref()
                    .and_then(|c| serde_json::to_string(c).ok()),
                error: report.error.as_deref(),
            },
        )?;
        events::add(
            tx,
            Some((inst.id, &inst.name)),
            None,
            if report.passed {
                "drill_passed"
            } else {
                "drill_failed"
            },
            &message,
        )
    })?;
    if !report.passed {
        // People are told; a hook that fails does not change what the drill found.
        let _ = crate::control::daemon::monitor::notify(
            &ctx.config.monitor.hook,
            &inst.name,
            "drill_failed",
            None,
            &message,
            &[],
        );
    }
    Ok(report)
}

/// The live instances whose newest passing drill is older than `[drills] warn_after_days`
/// (or that never passed one), each with a warning; none when no limit is set.
///
/// # Errors
/// The catalog fails.
pub fn overdue(ctx: &Ctx) -> Result<Vec<(crate::catalog::instances::InstanceRow, String)>> {
    let days = ctx.config.drills.warn_after_days;
    if days == 0 {
        return Ok(Vec::new());
    }
    let now = OffsetDateTime::now_utc();
    let limit = time::Duration::days(i64::from(days));
    let mut out = Vec::new();
    for inst in crate::catalog::instances::list_live(ctx.catalog.conn())? {
        let (_, passed) = drills::latest(ctx.catalog.conn(), &inst.name)?;
        let at = passed
            .as_ref()
            .and_then(|d| d.finished_at.as_deref())
            .and_then(crate::times::parse);
        let warning = match at {
            None => format!(
                "{} has never passed a restore drill (`dbctl drill {}`)",
                inst.name, inst.name
            ),
            Some(t) if now - t > limit => format!(
                "{}'s newest passing restore drill is {} old (limit {days} days)",
                inst.name,
                crate::control::instances::lifetimes::brief(now - t)
            ),
            Some(_) => continue,
        };
        out.push((inst, warning));
    }
    Ok(out)
}

/// Marks drills whose process stopped before they ended (still `running` past the scratch
/// instance's expiry) as failed, so the history never shows one running forever.
///
/// # Errors
/// The catalog fails.
pub fn close_abandoned(ctx: &mut Ctx) -> Result<usize> {
    let now = OffsetDateTime::now_utc();
    let limit =
        crate::control::instances::lifetimes::parse_duration(SCRATCH_EXPIRES, "scratch expiry")?;
    let stale: Vec<i64> = drills::list(ctx.catalog.conn(), None)?
        .into_iter()
        .filter(|d| {
            d.status == status::RUNNING
                && crate::times::parse(&d.started_at).is_some_and(|t| now - t > limit)
        })
        .map(|d| d.id)
        .collect();
    let at = crate::times::format(now);
    ctx.catalog.write(|tx| {
        for id in &stale {
            drills::finish(
                tx,
                *id,
                &Ending {
                    status: status::FAILED,
                    at: &at,
                    rto_secs: None,
                    rpo_secs: None,
                    report: None,
                    error: Some("the drill's process stopped before it ended"),
                },
            )?;
        }
        Ok(())
    })?;
    Ok(stale.len())
}

/// One line on a drill: what it restored, how long it took, what it found.
pub fn describe(r: &DrillReport) -> String {
    let timing = match (r.rto_secs, r.rpo_secs) {
        (Some(rto), Some(rpo)) => format!(
            " in {rto:.1} s (RTO), its newest point {rpo:.0} s behind the source's newest commit (RPO)"
        ),
        (Some(rto), None) => format!(" in {rto:.1} s (RTO)"),
        _ => String::new(),
    };
    match &r.error {
        None => format!(
            "drill {} of {} from the {} tier to {}: restored{timing}, every check passed",
            r.id, r.instance, r.tier, r.target
        ),
        Some(e) => format!(
            "drill {} of {} from the {} tier to {} failed{timing}: {e}",
            r.id, r.instance, r.tier, r.target
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_fit_and_say_which_drill() {
        assert_eq!(scratch_name("prod", 7), "prod-drill7");
        let long = "a".repeat(63);
        let s = scratch_name(&long, 12345);
        assert_eq!(s.len(), 63);
        assert!(s.ends_with("-drill12345"));
    }
}
