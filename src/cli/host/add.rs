//! `dbctl host add`: register a host reached over SSH, pinning its key.

use super::show::print_host;
use crate::cli::Env;
use crate::control::hosts::registry::AddHost;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Register a host reached over SSH: pins its host key on first contact and stores its facts.
///
/// The key used may be restricted to the forced command `dbhost --root DIR rpc`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Host name (a DNS label).
    pub name: String,
    /// Address or DNS name of the host; instances there are reached at this address too.
    #[arg(long)]
    pub address: String,
    /// SSH port.
    #[arg(long, default_value_t = 22)]
    pub port: u16,
    /// SSH user [default: the current user].
    #[arg(long)]
    pub user: Option<String>,
    /// Private key file (ed25519 or RSA) [default: ~/.ssh/id_ed25519, then ~/.ssh/id_rsa].
    #[arg(long, value_name = "KEYFILE")]
    pub identity: Option<PathBuf>,
    /// Connect and show what would be stored (key, facts), storing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A label KEY=VALUE (repeatable), to find it by (`host list --label`).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
}

pub fn run(env: &Env, a: &AddArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let row = crate::control::hosts::registry::add(
        &mut ctx,
        &AddHost {
            name: a.name.clone(),
            address: a.address.clone(),
            port: a.port,
            user: a.user.clone(),
            identity: a.identity.clone(),
            dry_run: a.dry_run,
            labels: a.labels.clone(),
        },
    )?;
    print_host(
        &env.printer,
        &crate::control::hosts::registry::view(&ctx, row)?,
    );
    Ok(())
}
