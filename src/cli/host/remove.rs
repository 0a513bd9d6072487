//! `dbctl host remove`.

use crate::cli::Env;

use anyhow::Result;
use clap::Args;

/// Forget a host. Refused while instances live there.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The host's name (`dbctl host list`).
    #[arg(add = crate::cli::complete::hosts())]
    pub name: String,
    /// Check that it could be removed, removing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// For a host that is gone for good: forget it even though instances or snapshots are
    /// there, marking them lost (nothing on the host is touched).
    #[arg(long)]
    pub force: bool,
}

pub fn run(env: &Env, a: &RemoveArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let r = crate::control::hosts::registry::remove(&mut ctx, &a.name, a.dry_run, a.force)?;
    let verb = if a.dry_run { "would remove" } else { "removed" };
    if env.printer.is_json() {
        env.printer.json(&r);
    }
    let lost = if r.lost_instances.is_empty() && r.lost_snapshots.is_empty() {
        String::new()
    } else {
        format!(
            "; lost: instances [{}], snapshots [{}]",
            r.lost_instances.join(", "),
            r.lost_snapshots
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    env.printer.note(&format!("{verb} host {}{lost}", a.name));
    Ok(())
}
