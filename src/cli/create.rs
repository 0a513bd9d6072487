//! `dbctl create`: provision a new instance through a workflow.

use super::describe::print_instance;
use super::plan::{run_plan, ChangeFlags};
use super::Env;
use crate::control::instances::create::CreateOpts;
use anyhow::Result;
use clap::Args;

/// Create a database instance: initialize, configure from its class, start, make an admin role.
///
/// Without --host, dbctl places it on a host with the engine and room for the class.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Instance name (a DNS label: lowercase letters, digits, hyphens).
    pub name: String,
    /// Database engine.
    #[arg(long, default_value = "postgres", add = crate::cli::complete::engines())]
    pub engine: String,
    /// Instance class (small, medium, large, or one from config.toml).
    #[arg(long, default_value = "small", add = crate::cli::complete::classes())]
    pub class: String,
    /// Host to place it on [default: chosen by placement].
    #[arg(long, add = crate::cli::complete::hosts())]
    pub host: Option<String>,
    /// Storage to reserve, in GiB [default: the class's].
    #[arg(long, value_name = "N")]
    pub storage_gb: Option<u64>,
    /// Port the server listens on [default: a free one from the host's range].
    #[arg(long, value_name = "P")]
    pub port: Option<u16>,
    /// Name of the admin role created with a generated password.
    #[arg(long, default_value = "dbadmin")]
    pub admin_user: String,
    /// Longest a commit may wait before its log is archived, in seconds (bounds what a
    /// recovery can lose).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub archive_timeout: u32,
    #[command(flatten)]
    pub policy: super::backup::PolicyArgs,
    /// A label KEY=VALUE (repeatable), to find it by (`list --label`).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub settings: super::modify::SettingsArgs,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &CreateArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let plan = crate::control::instances::create::plan_create(
        &mut ctx,
        &CreateOpts {
            name: a.name.clone(),
            engine: a.engine.clone(),
            class: a.class.clone(),
            host: a.host.clone(),
            storage_gb: a.storage_gb,
            port: a.port,
            admin_user: a.admin_user.clone(),
            archive_timeout_secs: a.archive_timeout,
            policy: a.policy.opts(),
            settings: a.settings.opts(),
            labels: a.labels.clone(),
            lifetime: Default::default(),
            source: None,
        },
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
