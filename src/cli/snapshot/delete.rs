//! `dbctl snapshot delete`.

use crate::cli::plan::{run_plan, ChangeFlags};
use crate::cli::Env;
use crate::control::restore::snapshots;
use anyhow::Result;
use clap::Args;

/// Delete a snapshot from its host and the catalog, with the archived logs only it needed.
///
/// The last snapshot of an instance is its last way back: deleting it asks first on a
/// terminal, and needs --yes otherwise.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The snapshot's id (`dbctl snapshot list`).
    #[arg(add = crate::cli::complete::snapshots())]
    pub id: i64,
    /// Delete it even if it is the instance's last snapshot.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &DeleteArgs) -> Result<()> {
    let mut ctx = env.open()?;
    if !a.yes && !a.change.dry_run {
        if let Some(name) = snapshots::last_of(&ctx, a.id)? {
            crate::cli::delete::confirm(&name, &format!("Snapshot {} is the last of", a.id))
                .map_err(|_| {
                    crate::control::base::error::invalid(
                        format!(
                            "snapshot {} is the last one of `{name}`: deleting it loses every point `{name}` can be restored to",
                            a.id
                        ),
                        "pass --yes to delete it anyway",
                    )
                })?;
        }
    }
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
