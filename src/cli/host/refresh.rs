//! `dbctl host refresh`.

use super::show::print_host;
use crate::cli::Env;

use anyhow::Result;
use clap::Args;

/// Ask a host for its facts again (checking its pinned key) and store them.
///
/// Example: dbctl host refresh db2 --accept-new-key   (after db2 was reinstalled)
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// The host's name (`dbctl host list`).
    #[arg(add = crate::cli::complete::hosts())]
    pub name: String,
    /// Pin the SSH host key the host offers now in place of the old one (both fingerprints
    /// are printed); check the new one out of band first.
    #[arg(long)]
    pub accept_new_key: bool,
}

pub fn run(env: &Env, a: &RefreshArgs) -> Result<()> {
    let mut ctx = env.open()?;
    if a.accept_new_key {
        match crate::control::hosts::registry::accept_new_key(&mut ctx, &a.name)? {
            Some((old, new)) => env.printer.note(&format!(
                "host {}: pinned the new key {new} (was {old})",
                a.name
            )),
            None => env
                .printer
                .note(&format!("host {}: its key has not changed", a.name)),
        }
    }
    let h = crate::control::hosts::registry::refresh(&mut ctx, &a.name)?;
    super::show::note_reconciled(&env.printer, &h);
    print_host(&env.printer, &h);
    Ok(())
}
