//! `dbctl events`: the history of what happened, for all instances or one.

use super::output::opt;
use super::Env;
use crate::catalog::events;
use anyhow::Result;
use clap::Args;

/// Show events (created, deleted, failed steps, hosts added), oldest first.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only this instance's events.
    pub name: Option<String>,
    /// How many of the newest events to show.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

pub fn run(env: &Env, a: &EventsArgs) -> Result<()> {
    let ctx = env.open()?;
    let rows = events::list(ctx.catalog.conn(), a.name.as_deref(), a.limit)?;
    if let Some(name) = &a.name {
        if rows.is_empty() && !crate::catalog::instances::ever_named(ctx.catalog.conn(), name)? {
            return Err(crate::control::error::invalid(
                format!("no instance was ever named `{name}`"),
                "`dbctl list` shows the instances; `dbctl events` shows everything",
            ));
        }
    }
    let p = &env.printer;
    if p.is_json() {
        p.json(&rows);
        return Ok(());
    }
    p.table(
        &["time", "instance", "workflow", "event", "message"],
        rows.into_iter()
            .map(|e| {
                vec![
                    e.at,
                    opt(&e.instance),
                    opt(&e.workflow_id),
                    e.kind,
                    e.message,
                ]
            })
            .collect(),
    );
    Ok(())
}
