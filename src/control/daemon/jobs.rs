//! The periodic jobs of a pass, as one registry: each job is a function of its own module
//! (what it does) and one entry in [`JOBS`] (when, in the pass's order). A pass runs them
//! all; a job that fails is recorded with its error and the ones after it still run. The
//! monitor is not among them: the daemon runs it on a thread of its own, at its own interval.

use super::swept::Swept;
use crate::control::base::home::Home;
use anyhow::Result;

/// One periodic job.
pub trait Job: Sync {
    /// Its name, in the pass's record of what failed.
    fn name(&self) -> &'static str;
    /// Runs it once, putting what it did into `out`.
    ///
    /// # Errors
    /// Whatever stopped it; the pass records it and goes on.
    fn run(&self, home: &Home, out: &mut Swept) -> Result<()>;
}

/// A job that is one function.
pub struct Step(pub &'static str, pub fn(&Home, &mut Swept) -> Result<()>);

impl Job for Step {
    fn name(&self) -> &'static str {
        self.0
    }
    fn run(&self, home: &Home, out: &mut Swept) -> Result<()> {
        (self.1)(home, out)
    }
}

/// Every job, in the order a pass runs them: what queues work first, then the workflows that
/// do it, then what ships, expires and prunes after them.
pub static JOBS: &[&dyn Job] = &[
    &Step("schedules", schedules),
    &Step("backup windows", backup_windows),
    &Step("maintenance windows", maintenance_windows),
    &Step("automatic snapshots", automatic_snapshots),
    &Step("snapshot expiry", snapshot_expiry),
    &Step("lifetimes", lifetimes),
    &Step("abandoned drills", abandoned_drills),
    &Step("workflows", workflows),
    // After the workflows: those of a dead clone into another engine have ended.
    &Step("abandoned cross-engine clones", abandoned_cross_engine),
    &Step("log shipping", shipping),
    &Step("backup and log expiry", expiry),
    &Step("events retention", events_retention),
    &Step("set-aside data retention", replaced_retention),
];

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn schedules(home: &Home, out: &mut Swept) -> Result<()> {
    out.scheduled = super::schedules::fire_due(&mut home.open()?, jiff::Timestamp::now())?;
    Ok(())
}

fn backup_windows(home: &Home, out: &mut Swept) -> Result<()> {
    out.queued = super::periodic::queue_due(&mut home.open()?, now())?;
    Ok(())
}

fn maintenance_windows(home: &Home, out: &mut Swept) -> Result<()> {
    out.maintenance = crate::control::instances::modify::queue_due(&mut home.open()?, now())?;
    Ok(())
}

fn automatic_snapshots(home: &Home, out: &mut Swept) -> Result<()> {
    out.snapshots = super::autosnapshots::queue_due(&mut home.open()?, now())?;
    Ok(())
}

fn snapshot_expiry(home: &Home, out: &mut Swept) -> Result<()> {
    out.snapshots_expired = super::autosnapshots::expire_due(&mut home.open()?, now())?;
    Ok(())
}

fn lifetimes(home: &Home, out: &mut Swept) -> Result<()> {
    out.instances_expired =
        crate::control::instances::lifetimes::expire_due(&mut home.open()?, now())?;
    Ok(())
}

fn abandoned_drills(home: &Home, _: &mut Swept) -> Result<()> {
    // (Each closed drill says so in its own event.)
    crate::control::data::drills::close_abandoned(&mut home.open()?).map(|_| ())
}

fn workflows(home: &Home, out: &mut Swept) -> Result<()> {
    out.workflows = crate::control::admin::runs::sweep(home)?;
    Ok(())
}

fn abandoned_cross_engine(home: &Home, _: &mut Swept) -> Result<()> {
    // (Each scratch copy removed says so in its own event.)
    crate::control::data::cross_engine::close_abandoned(home).map(|_| ())
}

fn shipping(home: &Home, out: &mut Swept) -> Result<()> {
    out.shipped = crate::control::offsite::shipping::ship_all(&home.open()?)?;
    Ok(())
}

fn expiry(home: &Home, out: &mut Swept) -> Result<()> {
    out.expired = crate::control::offsite::expiry::expire_all(&home.open()?, false)?;
    Ok(())
}

fn events_retention(home: &Home, out: &mut Swept) -> Result<()> {
    out.events_pruned = crate::control::admin::events::prune(&home.open()?, now())?;
    Ok(())
}

fn replaced_retention(home: &Home, out: &mut Swept) -> Result<()> {
    out.replaced_removed = crate::control::hosts::replaced::expire_due(&home.open()?, now())?;
    Ok(())
}
