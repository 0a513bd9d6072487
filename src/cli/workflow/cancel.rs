//! `dbctl workflow cancel`.

use super::show::print_workflow;
use crate::cli::progress::reporter;
use crate::cli::Env;
use crate::control::admin::runs;
use crate::workflow::executor::Outcome;
use anyhow::Result;
use clap::Args;

/// Cancel a workflow that is queued or stopped part-way: undo its completed steps, mark it failed.
///
/// Exits 0 when everything was undone, 1 when an undo failed (the workflow says which).
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The workflow's id (`dbctl workflow list`).
    pub id: i64,
}

pub fn run(env: &Env, a: &CancelArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let progress = reporter();
    let outcome = runs::cancel(&mut ctx, a.id, progress.as_ref())?;
    print_workflow(&env.printer, &runs::show(&ctx, a.id)?);
    match outcome {
        Outcome::Failed { undone: true, .. } => Ok(()),
        other => runs::outcome_result(&ctx, a.id, &other),
    }
}
