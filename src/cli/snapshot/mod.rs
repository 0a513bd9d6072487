//! `dbctl snapshot ...`: online snapshots of instances.

pub mod create;
pub mod delete;
pub mod list;
pub mod show;
pub mod verify;

use super::Env;
use anyhow::Result;
use clap::Subcommand;

/// Take, list, inspect, check and delete snapshots.
#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    Create(create::CreateArgs),
    List(list::ListArgs),
    Show(show::ShowArgs),
    Delete(delete::DeleteArgs),
    Verify(verify::VerifyArgs),
}

pub fn run(env: &Env, c: &SnapshotCommand) -> Result<()> {
    match c {
        SnapshotCommand::Create(a) => create::run(env, a),
        SnapshotCommand::List(a) => list::run(env, a),
        SnapshotCommand::Show(a) => show::run(env, a),
        SnapshotCommand::Delete(a) => delete::run(env, a),
        SnapshotCommand::Verify(a) => verify::run(env, a),
    }
}
