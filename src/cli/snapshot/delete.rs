//! `dbctl snapshot delete`.

use crate::cli::plan::{run_plan, ChangeFlags};
use crate::cli::Env;
use crate::control::snapshots;
use anyhow::Result;
use clap::Args;

/// Delete a snapshot from its host and the catalog.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    pub id: i64,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &DeleteArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let plan = snapshots::plan_delete(&mut ctx, a.id, a.change.dry_run)?;
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        if env.printer.is_json() {
            env.printer
                .json(&serde_json::json!({"id": a.id, "status": "deleted"}));
        } else {
            env.printer.note(&format!("deleted snapshot {}", a.id));
        }
    }
    Ok(())
}
