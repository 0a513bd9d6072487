//! `dbctl host ...`: the machines running dbhost.

pub mod add;
pub mod list;
pub mod prune;
pub mod refresh;
pub mod remove;
pub mod show;

use super::Env;
use anyhow::Result;
use clap::Subcommand;

/// Manage hosts (machines running dbhost).
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    Add(add::AddArgs),
    List(list::ListArgs),
    Show(show::ShowArgs),
    Refresh(refresh::RefreshArgs),
    Remove(remove::RemoveArgs),
    Prune(prune::PruneArgs),
}

pub fn run(env: &Env, c: &HostCommand) -> Result<()> {
    match c {
        HostCommand::Add(a) => add::run(env, a),
        HostCommand::List(a) => list::run(env, a),
        HostCommand::Show(a) => show::run(env, a),
        HostCommand::Refresh(a) => refresh::run(env, a),
        HostCommand::Remove(a) => remove::run(env, a),
        HostCommand::Prune(a) => prune::run(env, a),
    }
}
