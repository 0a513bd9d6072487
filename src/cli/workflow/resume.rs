//! `dbctl workflow resume`.

use super::show::print_workflow;
use crate::cli::progress::reporter;
use crate::cli::Env;
use crate::control::admin::runs;
use anyhow::Result;
use clap::Args;

/// Resume a workflow that stopped part-way (crash, Ctrl-C, lost connection).
///
/// Steps already done are not run again; a step that was in flight is sent again under the same
/// request id, which the host answers from its journal if it had completed.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The workflow's id (`dbctl workflow list`).
    pub id: i64,
}

pub fn run(env: &Env, a: &ResumeArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let progress = reporter();
    let outcome = runs::resume(&mut ctx, a.id, progress.as_ref())?;
    print_workflow(&env.printer, &runs::show(&ctx, a.id)?);
    runs::outcome_result(&ctx, a.id, &outcome)
}
