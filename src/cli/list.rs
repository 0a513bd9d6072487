//! `dbctl list`: every instance, one line each.

use super::output::opt;
use super::Env;
use crate::control::instances;
use anyhow::Result;
use clap::Args;

/// List instances.
#[derive(Debug, Args)]
pub struct ListArgs {}

pub fn run(env: &Env, _: &ListArgs) -> Result<()> {
    let ctx = env.open()?;
    let all = instances::list(&ctx)?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&all);
        return Ok(());
    }
    let rows = all
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.status.clone(),
                format!(
                    "{} {}",
                    v.engine,
                    v.engine_version.clone().unwrap_or_default()
                ),
                v.class.clone(),
                v.health
                    .as_ref()
                    .map(|h| h.state.clone())
                    .unwrap_or_else(|| "-".into()),
                opt(&v.host),
                opt(&v.endpoint),
            ]
        })
        .collect();
    p.table(
        &[
            "name", "status", "engine", "class", "health", "host", "endpoint",
        ],
        rows,
    );
    Ok(())
}
