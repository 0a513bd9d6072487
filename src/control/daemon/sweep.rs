//! One pass of the control plane's own work, as `sweep` (cron) and each turn of `daemon` do
//! it: fire due schedules, queue due backups, run queued and abandoned workflows, ship logs,
//! expire, prune the history.

use super::swept::{JobFailed, Swept};
use crate::control::base::home::Home;
use anyhow::Result;

/// Runs one pass: every job of [`super::jobs::JOBS`].
///
/// # Errors
/// The catalog cannot be opened (every job would fail the same way).
pub fn pass(home: &Home) -> Result<Swept> {
    home.open()?;
    Ok(run_jobs(home, super::jobs::JOBS))
}

/// Runs `jobs` in order; one that fails is recorded and the rest still run.
pub fn run_jobs(home: &Home, jobs: &[&dyn super::jobs::Job]) -> Swept {
    let mut out = Swept::default();
    for job in jobs {
        if let Err(e) = job.run(home, &mut out) {
            out.jobs_failed.push(JobFailed {
                job: job.name().into(),
                error: format!("{e:#}"),
            });
        }
    }
    out
}

/// What a pass's expiry would remove now (backups and log shipments past their policy),
/// removing nothing.
///
/// # Errors
/// The catalog cannot be opened or read.
pub fn would_expire(home: &Home) -> Result<Vec<crate::control::offsite::expiry::Expired>> {
    crate::control::offsite::expiry::expire_all(&home.open()?, true)
}

#[cfg(test)]
mod tests {
    use super::super::jobs::{Job, Step, JOBS};
    use super::*;

    fn fails(_: &Home, _: &mut Swept) -> Result<()> {
        anyhow::bail!("the catalog went away")
    }

    fn prunes(_: &Home, out: &mut Swept) -> Result<()> {
        out.events_pruned += 3;
        Ok(())
    }

    #[test]
    fn a_failing_job_is_recorded_and_the_jobs_after_it_still_run() {
        let home = Home::resolve(Some("/nonexistent/dbctl-home".into()));
        let jobs: &[&dyn Job] = &[
            &Step("first", prunes),
            &Step("broken", fails),
            &Step("last", prunes),
        ];
        let out = run_jobs(&home, jobs);
        assert_eq!(out.events_pruned, 6);
        assert_eq!(
            out.jobs_failed,
            [JobFailed {
                job: "broken".into(),
                error: "the catalog went away".into()
            }]
        );
        assert!(!out.idle());
        let e = out.failure().unwrap().to_string();
        assert!(e.contains("broken") && e.contains("went away"), "{e}");
    }

    #[test]
    fn every_job_has_a_name_of_its_own() {
        let mut names: Vec<&str> = JOBS.iter().map(|j| j.name()).collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
        assert!(all >= 13);
    }
}
