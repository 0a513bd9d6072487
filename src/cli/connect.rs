//! `dbctl connect`: the engine's own client, logged in as the admin role.

use super::Env;

use anyhow::Result;
use clap::Args;

/// Open the engine's client (psql, mariadb) on an instance as its admin role. The credentials travel
/// in the client's environment, never on its command line (which every local user can read);
/// arguments after `--` go to the client.
///
/// Example: dbctl connect prod -- -c 'select version()'
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The instance to connect to.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// Arguments for the client, after `--`.
    #[arg(last = true, value_name = "CLIENT_ARGS")]
    pub args: Vec<String>,
}

pub fn run(env: &Env, a: &ConnectArgs) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let ctx = env.open()?;
    let c = crate::control::instances::connect::connection(&ctx, &a.name)?;
    let mut cmd = c.client_command(&a.args)?;
    // Only returns on failure.
    let e = cmd.exec();
    Err(crate::control::base::error::invalid(
        format!("cannot run {}: {e}", c.engine.client),
        format!(
            "install the engine's client ({} is in {}) and make sure it is on PATH",
            c.engine.client, c.engine.client_package
        ),
    ))
}
