//! `dbctl snapshot create`.

use super::show::print_snapshot;
use crate::cli::plan::{run_plan, ChangeFlags};
use crate::cli::Env;
use crate::control::restore::snapshots;
use anyhow::Result;
use clap::Args;

/// Take an online snapshot of an instance; it keeps serving reads and writes throughout.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// A label to find the snapshot by.
    #[arg(long)]
    pub tag: Option<String>,
    /// A label KEY=VALUE (repeatable), to find it by (`list --label`).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &CreateArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let labels = crate::control::base::labels::parse(&a.labels)?;
    let plan = snapshots::plan_create(&mut ctx, &a.name, a.tag.as_deref(), a.change.dry_run)?;
    if let Some(wf) = plan.workflow_id {
        snapshots::label_new(&ctx, &a.name, wf, &labels)?;
    }
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        let wf = plan.workflow_id.unwrap_or_default();
        let snap = snapshots::list(&ctx, Some(&a.name))?
            .into_iter()
            .find(|s| s.workflow_id == Some(wf))
            .ok_or_else(|| {
                anyhow::anyhow!("the snapshot of workflow {wf} is not in the catalog")
            })?;
        print_snapshot(&env.printer, &snap);
    }
    Ok(())
}
