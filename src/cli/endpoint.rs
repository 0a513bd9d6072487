//! `dbctl endpoint list`: the stable names clients use and where they point.

use super::Env;
use crate::catalog::{endpoints, instances};
use anyhow::Result;
use clap::{Args, Subcommand};

/// Endpoints: stable names that follow an instance when recovery moves it.
#[derive(Debug, Subcommand)]
pub enum EndpointCommand {
    List(ListArgs),
}

/// List endpoints and the address each points at.
#[derive(Debug, Args)]
pub struct ListArgs {}

pub fn run(env: &Env, c: &EndpointCommand) -> Result<()> {
    let EndpointCommand::List(_) = c;
    let ctx = env.open()?;
    let rows = endpoints::list(ctx.catalog.conn())?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&rows);
        return Ok(());
    }
    let table = rows
        .into_iter()
        .map(|e| {
            let uid = instances::get(ctx.catalog.conn(), e.instance_id)
                .map(|i| i.uid)
                .unwrap_or_default();
            vec![
                e.name,
                endpoints::join(&e.address, e.port),
                uid,
                e.updated_at,
            ]
        })
        .collect();
    p.table(&["endpoint", "address", "server", "updated"], table);
    Ok(())
}
