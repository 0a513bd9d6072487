//! `dbctl workflow ...`: inspect, resume and wait for workflows.

pub mod cancel;
pub mod list;
pub mod resume;
pub mod show;
pub mod wait;

use super::Env;
use anyhow::Result;
use clap::Subcommand;

/// Inspect and drive workflows (the persisted step lists behind changing commands).
#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    List(list::ListArgs),
    Show(show::ShowArgs),
    Resume(resume::ResumeArgs),
    Wait(wait::WaitArgs),
    Cancel(cancel::CancelArgs),
}

pub fn run(env: &Env, c: &WorkflowCommand) -> Result<()> {
    match c {
        WorkflowCommand::List(a) => list::run(env, a),
        WorkflowCommand::Show(a) => show::run(env, a),
        WorkflowCommand::Resume(a) => resume::run(env, a),
        WorkflowCommand::Wait(a) => wait::run(env, a),
        WorkflowCommand::Cancel(a) => cancel::run(env, a),
    }
}
