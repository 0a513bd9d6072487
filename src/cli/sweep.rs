//! `dbctl sweep`: run queued and abandoned workflows, then exit (for cron).

use super::Env;
use crate::control::runs;
use anyhow::Result;
use clap::Args;

/// Run every queued workflow and resume every one whose runner is gone, then exit.
///
/// Exits 1 when any of them failed.
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
    let failed = results.iter().filter(|r| r.outcome != "succeeded").count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} workflows did not succeed", results.len());
    }
    Ok(())
}
