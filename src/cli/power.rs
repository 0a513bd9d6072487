//! `dbctl stop`, `dbctl start`, `dbctl reboot`: an instance's server, in place.

use super::describe::print_instance;
use super::plan::{run_plan, ChangeFlags};
use super::Env;

use crate::control::instances::lifecycle;
use crate::control::instances::lifecycle::Power;
use anyhow::Result;
use clap::Args;

/// Stop, start or reboot an instance's server on its host: a stopped instance keeps its data,
/// port and endpoint (its last commits are archived as it stops), and stays stopped until
/// started; nothing starts it on its own.
#[derive(Debug, Args)]
pub struct PowerArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &PowerArgs, power: Power) -> Result<()> {
    let mut ctx = env.open()?;
    let plan = lifecycle::plan(&mut ctx, &a.name, power, a.change.dry_run)?;
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        print_instance(
            &env.printer,
            &crate::control::instances::views::describe(&ctx, &a.name)?,
        );
    }
    Ok(())
}
