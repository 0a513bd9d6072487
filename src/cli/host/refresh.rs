//! `dbctl host refresh`.

use super::show::print_host;
use crate::cli::Env;
use crate::control::hosts;
use anyhow::Result;
use clap::Args;

/// Ask a host for its facts again (checking its pinned key) and store them.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    pub name: String,
}

pub fn run(env: &Env, a: &RefreshArgs) -> Result<()> {
    let mut ctx = env.open()?;
    print_host(&env.printer, &hosts::refresh(&mut ctx, &a.name)?);
    Ok(())
}
