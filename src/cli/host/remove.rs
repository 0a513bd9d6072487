//! `dbctl host remove`.

use crate::cli::Env;
use crate::control::hosts;
use anyhow::Result;
use clap::Args;

/// Forget a host. Refused while instances live there.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    pub name: String,
}

pub fn run(env: &Env, a: &RemoveArgs) -> Result<()> {
    let mut ctx = env.open()?;
    hosts::remove(&mut ctx, &a.name)?;
    env.printer.note(&format!("removed host {}", a.name));
    Ok(())
}
