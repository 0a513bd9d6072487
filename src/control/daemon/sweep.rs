//! One pass of the control plane's own work, as `sweep` (cron) and each turn of `daemon` do
//! it: fire due schedules, queue due backups, run queued and abandoned workflows, ship logs,
//! expire, prune the history.

use crate::control::admin::runs;
use crate::control::admin::runs::SweepResult;
use crate::control::base::home::Home;
use anyhow::Result;
use serde::Serialize;

/// What one pass did.
#[derive(Debug, Serialize)]
pub struct Swept {
    pub scheduled: Vec<crate::control::daemon::schedules::Fired>,
    pub queued: Vec<crate::control::daemon::periodic::Queued>,
    /// Pending class changes started in their maintenance window.
    pub maintenance: Vec<crate::control::daemon::periodic::Queued>,
    /// Automatic snapshots taken, and those retention dropped.
    pub snapshots: Vec<crate::control::daemon::periodic::Queued>,
    pub snapshots_expired: Vec<crate::control::daemon::periodic::Queued>,
    /// Instances whose lifetime ended (expired or idle), their deletion queued.
    pub instances_expired: Vec<crate::control::daemon::periodic::Queued>,
    pub workflows: Vec<SweepResult>,
    pub shipped: Vec<crate::control::offsite::shipping::ShipReport>,
    pub expired: Vec<crate::control::offsite::expiry::Expired>,
    /// Events older than the retention, removed.
    pub events_pruned: usize,
    /// Set-aside data older than `[replaced] keep_days`, removed ("HOST/NAME").
    pub replaced_removed: Vec<String>,
}

/// Runs one pass.
///
/// # Errors
/// The catalog cannot be opened or read.
pub fn pass(home: &Home) -> Result<Swept> {
    let scheduled =
        crate::control::daemon::schedules::fire_due(&mut home.open()?, jiff::Timestamp::now())?;
    let queued = crate::control::daemon::periodic::queue_due(
        &mut home.open()?,
        time::OffsetDateTime::now_utc(),
    )?;
    let maintenance = crate::control::instances::modify::queue_due(
        &mut home.open()?,
        time::OffsetDateTime::now_utc(),
    )?;
    let now = time::OffsetDateTime::now_utc();
    let snapshots = crate::control::daemon::autosnapshots::queue_due(&mut home.open()?, now)?;
    let snapshots_expired =
        crate::control::daemon::autosnapshots::expire_due(&mut home.open()?, now)?;
    let instances_expired =
        crate::control::instances::lifetimes::expire_due(&mut home.open()?, now)?;
    crate::control::data::drills::close_abandoned(&mut home.open()?)?;
    let workflows = runs::sweep(home)?;
    // After the workflows: those of a dead clone into another engine have ended.
    crate::control::data::cross_engine::close_abandoned(home)?;
    let shipped = crate::control::offsite::shipping::ship_all(&home.open()?)?;
    let expired = crate::control::offsite::expiry::expire_all(&home.open()?, false)?;
    let events_pruned =
        crate::control::admin::events::prune(&home.open()?, time::OffsetDateTime::now_utc())?;
    let replaced_removed = crate::control::hosts::replaced::expire_due(
        &home.open()?,
        time::OffsetDateTime::now_utc(),
    )?;
    Ok(Swept {
        scheduled,
        queued,
        maintenance,
        snapshots,
        snapshots_expired,
        instances_expired,
        workflows,
        shipped,
        expired,
        events_pruned,
        replaced_removed,
    })
}

/// What a pass's expiry would remove now (backups and log shipments past their policy),
/// removing nothing.
///
/// # Errors
/// The catalog cannot be opened or read.
pub fn would_expire(home: &Home) -> Result<Vec<crate::control::offsite::expiry::Expired>> {
    crate::control::offsite::expiry::expire_all(&home.open()?, true)
}

impl Swept {
    /// Whether it did nothing at all.
    pub fn idle(&self) -> bool {
        self.scheduled.is_empty()
            && self.queued.is_empty()
            && self.maintenance.is_empty()
            && self.snapshots.is_empty()
            && self.snapshots_expired.is_empty()
            && self.instances_expired.is_empty()
            && self.workflows.is_empty()
            && self.shipped.is_empty()
            && self.expired.is_empty()
            && self.replaced_removed.is_empty()
    }

    /// What went wrong, for the exit status: a workflow that failed (1) or paused (3), a
    /// backup that could not be queued, expiry or shipping that failed (1).
    pub fn failure(&self) -> Option<anyhow::Error> {
        let ran: Vec<_> = self
            .workflows
            .iter()
            .filter(|r| r.outcome != "skipped")
            .collect();
        let failed = ran
            .iter()
            .filter(|r| r.outcome == "failed" || r.outcome == "error")
            .count();
        if failed > 0 {
            return Some(anyhow::anyhow!(
                "{failed} of the {} workflows run did not succeed",
                ran.len()
            ));
        }
        if let Some(paused) = ran.iter().find(|r| r.outcome == "interrupted") {
            return Some(
                crate::control::base::error::Resumable {
                    workflow_id: paused.workflow_id,
                    reason: paused.error.clone(),
                }
                .into(),
            );
        }
        if let Some(bad) = self.queued.iter().find(|q| q.error.is_some()) {
            return Some(anyhow::anyhow!(
                "the periodic backup of {} could not be queued: {}",
                bad.instance,
                bad.error.clone().unwrap_or_default()
            ));
        }
        if let Some(bad) = self
            .snapshots
            .iter()
            .chain(&self.snapshots_expired)
            .find(|q| q.error.is_some())
        {
            return Some(anyhow::anyhow!(
                "the automatic snapshots of {} could not be taken or expired: {}",
                bad.instance,
                bad.error.clone().unwrap_or_default()
            ));
        }
        if let Some(bad) = self.maintenance.iter().find(|q| q.error.is_some()) {
            return Some(anyhow::anyhow!(
                "the pending change of {} could not be applied: {}",
                bad.instance,
                bad.error.clone().unwrap_or_default()
            ));
        }
        if let Some(bad) = self.expired.iter().find(|e| e.error.is_some()) {
            return Some(anyhow::anyhow!(
                "expiring the backups of {} failed: {}",
                bad.instance,
                bad.error.clone().unwrap_or_default()
            ));
        }
        if let Some(bad) = self.shipped.iter().find(|s| s.error.is_some()) {
            return Some(anyhow::anyhow!(
                "shipping the logs of {} into repository {} failed: {}",
                bad.instance,
                bad.repository,
                bad.error.clone().unwrap_or_default()
            ));
        }
        None
    }
}
