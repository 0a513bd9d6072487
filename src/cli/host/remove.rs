//! `dbctl host remove`.

use crate::cli::Env;
use crate::control::hosts;
use anyhow::Result;
use clap::Args;

/// Forget a host. Refused while instances live there.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    pub name: String,
    /// Check that it could be removed, removing nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(env: &Env, a: &RemoveArgs) -> Result<()> {
    let mut ctx = env.open()?;
    hosts::remove(&mut ctx, &a.name, a.dry_run)?;
    let verb = if a.dry_run { "would remove" } else { "removed" };
    env.printer.note(&format!("{verb} host {}", a.name));
    Ok(())
}
