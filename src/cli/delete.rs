//! `dbctl delete`: stop an instance and remove its data.

use super::plan::{run_plan, ChangeFlags};
use super::Env;
use crate::control::base::error::invalid;

use anyhow::Result;
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};

/// Delete an instance: stop it and remove all its data from its host.
///
/// Asks for confirmation on a terminal; without a terminal, --yes is required.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The instance to delete.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// Delete without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Do not take a final snapshot first (by default one is taken and kept after the
    /// instance is gone).
    #[arg(long)]
    pub skip_final_snapshot: bool,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &DeleteArgs) -> Result<()> {
    let mut ctx = env.open()?;
    // Check the name before asking, so a typo is not answered with a question.
    crate::control::base::lookup::instance(&ctx, &a.name)?;
    if !a.yes && !a.change.dry_run {
        confirm(&a.name, "Delete instance")?;
    }
    let plan = crate::control::instances::delete::plan_delete(
        &mut ctx,
        &a.name,
        a.skip_final_snapshot,
        a.change.dry_run,
    )?;
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        let kept = plan.workflow_id.and_then(|wf| {
            crate::catalog::snapshots::list(ctx.catalog.conn(), Some(&a.name))
                .ok()?
                .into_iter()
                .find(|s| {
                    s.workflow_id == Some(wf) && s.kind == crate::catalog::snapshots::kind::FINAL
                })
                .map(|s| s.id)
        });
        if env.printer.is_json() {
            env.printer.json(&serde_json::json!({"name": a.name, "status": "deleted", "workflow_id": plan.workflow_id, "final_snapshot": kept}));
        } else {
            env.printer.note(&format!("deleted {}", a.name));
            if let Some(id) = kept {
                env.printer.note(&format!(
                    "kept final snapshot {id}: `dbctl clone {} --snapshot {id} --as NEW` brings it back",
                    a.name
                ));
            }
        }
    }
    Ok(())
}

/// Asks on a terminal for the instance's name before a destructive change; without a
/// terminal, refuses (the caller's --yes skips this).
///
/// # Errors
/// [`crate::control::base::error::Invalid`] when not confirmed.
pub fn confirm(name: &str, what: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(invalid(
            format!("refusing to change `{name}` without confirmation"),
            "pass --yes when running without a terminal",
        ));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{what} {name}? Type its name to confirm: ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != name {
        return Err(invalid(
            "not confirmed",
            "type the instance's name exactly, or pass --yes",
        ));
    }
    Ok(())
}
