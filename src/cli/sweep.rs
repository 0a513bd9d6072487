//! `dbctl sweep`: run queued and abandoned workflows, then exit (for cron).

use super::Env;
use crate::control::runs;
use anyhow::Result;
use clap::Args;

/// Fire the schedules due (`dbctl schedule`), queue the backups due (an instance inside its
/// backup window without one since it opened),
/// run every queued workflow and resume every one whose runner is gone, ship every
/// instance's new archived logs into its backup repository, expire what backup policies no
/// longer keep, then exit.
///
/// Exits 0 when every workflow it ran succeeded (one another sweep or runner had is
/// `skipped`, not a failure), 1 when any failed, 3 when any paused (a host that does not
/// answer).
#[derive(Debug, Args)]
pub struct SweepArgs {}

/// What one sweep did.
#[derive(serde::Serialize)]
struct Swept<'a> {
    scheduled: &'a [crate::control::schedules::Fired],
    queued: &'a [crate::control::periodic::Queued],
    workflows: &'a [runs::SweepResult],
    shipped: &'a [crate::control::shipping::ShipReport],
    expired: &'a [crate::control::expiry::Expired],
    /// Events older than the retention, removed.
    events_pruned: usize,
}

pub fn run(env: &Env, _: &SweepArgs) -> Result<()> {
    let scheduled = crate::control::schedules::fire_due(&mut env.open()?, jiff::Timestamp::now())?;
    let queued =
        crate::control::periodic::queue_due(&mut env.open()?, time::OffsetDateTime::now_utc())?;
    let results = runs::sweep(&env.home)?;
    let shipped = crate::control::shipping::ship_all(&env.open()?)?;
    let expired = crate::control::expiry::expire_all(&env.open()?)?;
    let events_pruned =
        crate::control::events::prune(&env.open()?, time::OffsetDateTime::now_utc())?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&Swept {
            scheduled: &scheduled,
            queued: &queued,
            workflows: &results,
            shipped: &shipped,
            expired: &expired,
            events_pruned,
        });
    } else if results.is_empty() && shipped.is_empty() && expired.is_empty() {
        p.note("nothing to do");
    } else if !results.is_empty() {
        p.table(
            &["workflow", "action", "outcome", "error"],
            results
                .iter()
                .map(|r| {
                    vec![
                        r.workflow_id.to_string(),
                        r.action.clone(),
                        r.outcome.clone(),
                        r.error.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        );
    }
    if !p.is_json() && !shipped.is_empty() {
        p.table(
            &[
                "instance",
                "repository",
                "log files shipped",
                "bytes",
                "error",
            ],
            shipped
                .iter()
                .map(|s| {
                    vec![
                        s.instance.clone(),
                        s.repository.clone(),
                        s.files.to_string(),
                        s.bytes.to_string(),
                        s.error.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        );
    }
    if !p.is_json() && !expired.is_empty() {
        p.table(
            &[
                "instance",
                "repository",
                "backups removed",
                "log files removed",
                "error",
            ],
            expired
                .iter()
                .map(|e| {
                    vec![
                        e.instance.clone(),
                        e.repository.clone(),
                        e.backups
                            .iter()
                            .map(i64::to_string)
                            .collect::<Vec<_>>()
                            .join(","),
                        e.log_files.to_string(),
                        e.error.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        );
    }
    let ran: Vec<_> = results.iter().filter(|r| r.outcome != "skipped").collect();
    let failed = ran
        .iter()
        .filter(|r| r.outcome == "failed" || r.outcome == "error")
        .count();
    if failed > 0 {
        anyhow::bail!(
            "{failed} of the {} workflows run did not succeed",
            ran.len()
        );
    }
    if let Some(paused) = ran.iter().find(|r| r.outcome == "interrupted") {
        return Err(crate::control::error::Resumable {
            workflow_id: paused.workflow_id,
            reason: paused.error.clone(),
        }
        .into());
    }
    if let Some(bad) = queued.iter().find(|q| q.error.is_some()) {
        anyhow::bail!(
            "the periodic backup of {} could not be queued: {}",
            bad.instance,
            bad.error.clone().unwrap_or_default()
        );
    }
    if let Some(bad) = expired.iter().find(|e| e.error.is_some()) {
        anyhow::bail!(
            "expiring the backups of {} failed: {}",
            bad.instance,
            bad.error.clone().unwrap_or_default()
        );
    }
    if let Some(bad) = shipped.iter().find(|s| s.error.is_some()) {
        anyhow::bail!(
            "shipping the logs of {} into repository {} failed: {}",
            bad.instance,
            bad.repository,
            bad.error.clone().unwrap_or_default()
        );
    }
    Ok(())
}
