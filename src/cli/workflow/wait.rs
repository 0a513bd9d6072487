//! `dbctl workflow wait`.

use super::show::print_workflow;
use crate::cli::Env;
use crate::control::admin::runs;
use crate::control::base::error::WorkflowFailed;
use anyhow::Result;
use clap::Args;
use std::time::Duration;

/// Block until a workflow finishes; exit 0 if it succeeded, 1 if it failed or was
/// cancelled, 4 if --timeout passed first (the workflow goes on).
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The workflow's id (`dbctl workflow list`).
    pub id: i64,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

pub fn run(env: &Env, a: &WaitArgs) -> Result<()> {
    let ctx = env.open()?;
    let w = runs::wait(&ctx, a.id, a.timeout.map(Duration::from_secs))?;
    print_workflow(&env.printer, &runs::show(&ctx, a.id)?);
    if w.status == crate::catalog::workflows::status::SUCCEEDED {
        Ok(())
    } else {
        Err(WorkflowFailed {
            workflow_id: w.id,
            action: w.action,
            reason: w.error.unwrap_or_default(),
        }
        .into())
    }
}
