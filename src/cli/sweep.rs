//! `dbctl sweep`: run queued and abandoned workflows, then exit (for cron).

use super::Env;
use crate::control::runs;
use anyhow::Result;
use clap::Args;

/// Run every queued workflow and resume every one whose runner is gone, then exit.
///
/// Exits 0 when every workflow it ran succeeded (one another sweep or runner had is
/// `skipped`, not a failure), 1 when any failed, 3 when any paused (a host that does not
/// answer).
#[derive(Debug, Args)]
pub struct SweepArgs {}

pub fn run(env: &Env, _: &SweepArgs) -> Result<()> {
    let results = runs::sweep(&env.home)?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&results);
    } else if results.is_empty() {
        p.note("nothing to do");
    } else {
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
    Ok(())
}
