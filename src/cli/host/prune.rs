//! `dbctl host prune`.

use crate::cli::Env;
use crate::control::hosts::replaced;
use crate::control::hosts::replaced::PruneOpts;
use anyhow::Result;
use clap::Args;

/// Remove data that recoveries and in-place restores set aside on a host.
///
/// A recovery never deletes the data it replaces: it is kept on its host (`dbctl host show`
/// lists it) until removed here or by the daemon after `[replaced] keep_days` (7 by default).
/// Asks for confirmation on a terminal; without one, --yes is required.
///
/// Examples:
///   dbctl host prune db-2 --dry-run
///   dbctl host prune db-2 prod-1a2b3c.20261203T101500Z --yes
///   dbctl host prune db-2 --older-than 2 --yes
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The host (`dbctl host list`).
    #[arg(add = crate::cli::complete::hosts())]
    pub host: String,
    /// The set-aside data to remove, by the names `dbctl host show` gives [default: all].
    pub names: Vec<String>,
    /// Only what was set aside at least this many days ago.
    #[arg(long, value_name = "DAYS")]
    pub older_than: Option<u32>,
    /// Say what would be removed, removing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Remove without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub fn run(env: &Env, a: &PruneArgs) -> Result<()> {
    let ctx = env.open()?;
    let mut opts = PruneOpts {
        host: a.host.clone(),
        names: a.names.clone(),
        older_than_days: a.older_than,
        dry_run: true,
    };
    // What would go, first: the question names it, and bad names are refused before it.
    let would = replaced::prune(&ctx, &opts)?;
    let removed = if a.dry_run || would.is_empty() {
        would
    } else {
        if !a.yes {
            crate::cli::delete::confirm(&a.host, "Remove the set-aside data on host")?;
        }
        opts.dry_run = false;
        replaced::prune(&ctx, &opts)?
    };
    if env.printer.is_json() {
        env.printer.json(&serde_json::json!({
            "host": a.host,
            "dry_run": a.dry_run,
            "removed": removed,
        }));
        return Ok(());
    }
    let verb = if a.dry_run { "would remove" } else { "removed" };
    if removed.is_empty() {
        env.printer
            .note(&format!("nothing set aside on host {} to remove", a.host));
    }
    for r in &removed {
        env.printer.note(&format!(
            "{verb} {} ({} of {}, set aside {}: {}, {})",
            r.name,
            r.engine,
            r.instance,
            r.replaced_at,
            r.reason,
            crate::cli::output::size(Some(r.bytes))
        ));
    }
    Ok(())
}
