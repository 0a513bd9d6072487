//! `dbctl hibernate`, `dbctl resume`.

use super::describe::print_instance;
use super::plan::{run_plan, ChangeFlags};
use super::Env;
use crate::control::instances::hibernation;
use anyhow::Result;
use clap::Args;

/// Hibernate an instance: a final snapshot (also into its repository when it has one), its
/// last commits archived, then its server and data directory go and its host's room is free.
/// No time limit; nothing resumes it on its own.
#[derive(Debug, Args)]
pub struct HibernateArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    #[command(flatten)]
    pub change: ChangeFlags,
}

/// Resume a hibernated instance on any host with room (the one it hibernated on when it
/// still fits), with every commit it had, and move its endpoint there.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// Host to resume on [default: the one it hibernated on if it fits, else placement's].
    #[arg(long, add = crate::cli::complete::hosts())]
    pub host: Option<String>,
    /// Class to resume with [default: its own].
    #[arg(long, add = crate::cli::complete::classes())]
    pub class: Option<String>,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn hibernate(env: &Env, a: &HibernateArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let plan = hibernation::plan_hibernate(&mut ctx, &a.name, a.change.dry_run)?;
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        print_instance(
            &env.printer,
            &crate::control::instances::views::describe(&ctx, &a.name)?,
        );
    }
    Ok(())
}

pub fn resume(env: &Env, a: &ResumeArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let plan = hibernation::plan_resume(
        &mut ctx,
        &a.name,
        a.host.as_deref(),
        a.class.as_deref(),
        a.change.dry_run,
    )?;
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        print_instance(
            &env.printer,
            &crate::control::instances::views::describe(&ctx, &a.name)?,
        );
    }
    Ok(())
}
