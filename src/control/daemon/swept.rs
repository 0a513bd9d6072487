//! What one pass of the control plane's own work did: each job's typed outcome, the jobs that
//! failed, and what that means for the exit status.

use crate::control::admin::runs::SweepResult;
use serde::Serialize;

/// What one pass did: each job's typed outcome, and the jobs that failed.
#[derive(Debug, Default, Serialize)]
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
    /// Jobs that failed, in the order they ran; the others ran all the same.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jobs_failed: Vec<JobFailed>,
}

/// A job of the pass that failed, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JobFailed {
    pub job: String,
    pub error: String,
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
            && self.jobs_failed.is_empty()
    }

    /// What went wrong, for the exit status: a workflow that failed (1) or paused (3), a
    /// backup that could not be queued, expiry or shipping that failed (1).
    pub fn failure(&self) -> Option<anyhow::Error> {
        if let Some(f) = self.jobs_failed.first() {
            return Some(anyhow::anyhow!("the {} job failed: {}", f.job, f.error));
        }
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
