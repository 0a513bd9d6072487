//! `dbctl events`: the history of what happened, for all instances or one.

use super::output::{opt, Printer};
use super::Env;
use crate::catalog::events::{self, EventRow, Filter};
use anyhow::Result;
use clap::Args;

/// Show events (created, deleted, failed steps, hosts added, ...), oldest first. Kept for
/// `[events] retention_days` (config.toml, default 90); `sweep` removes older ones.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only this instance's events.
    #[arg(add = crate::cli::complete::instances())]
    pub name: Option<String>,
    /// How many of the newest events to show.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Only those since then: a span back from now (90s, 10m, 2h, 3d, 1w) or a time.
    #[arg(long, value_name = "SPAN")]
    pub since: Option<String>,
    /// Only events of this kind (e.g. recovered, step_failed, endpoint_moved, health_failed).
    #[arg(long = "type", value_name = "KIND", add = crate::cli::complete::event_kinds())]
    pub kind: Option<String>,
    /// Keep printing new events as they are recorded, until interrupted (JSON: one object a
    /// line).
    #[arg(long)]
    pub follow: bool,
}

pub fn run(env: &Env, a: &EventsArgs) -> Result<()> {
    let ctx = env.open()?;
    let since = a
        .since
        .as_deref()
        .map(|s| crate::control::admin::events::since(s, time::OffsetDateTime::now_utc()))
        .transpose()?;
    if let Some(kind) = &a.kind {
        crate::control::admin::events::check_kind(&ctx, kind)?;
    }
    let mut filter = Filter {
        instance: a.name.as_deref(),
        since: since.as_deref(),
        kind: a.kind.as_deref(),
        after_id: None,
    };
    // Following: the newest event of all before the first read, so one written between
    // that read and the first poll is never skipped.
    let floor = if a.follow {
        events::list(ctx.catalog.conn(), &Filter::default(), 1)?
            .last()
            .map(|e| e.id)
    } else {
        None
    };
    let rows = events::list(ctx.catalog.conn(), &filter, a.limit)?;
    if let (Some(name), true) = (&a.name, rows.is_empty()) {
        crate::control::base::lookup::check_ever_named(&ctx, name)?;
    }
    let p = &env.printer;
    if !a.follow {
        print(p, &rows, true);
        return Ok(());
    }
    print(p, &rows, false);
    let mut last = rows.last().map(|e| e.id).max(floor);
    while !crate::workflow::interrupt::requested() {
        std::thread::sleep(std::time::Duration::from_millis(500));
        filter.after_id = last;
        let new = events::list(ctx.catalog.conn(), &filter, 1000)?;
        if let Some(e) = new.last() {
            last = Some(e.id);
        }
        print(p, &new, false);
    }
    Ok(())
}

/// Prints events: a table (or one JSON array when `whole`), or one JSON object a line when
/// following.
fn print(p: &Printer, rows: &[EventRow], whole: bool) {
    if p.is_json() {
        if whole {
            p.json(&rows);
        } else {
            for e in rows {
                if let Ok(line) = serde_json::to_string(e) {
                    p.line(&line);
                }
            }
        }
        return;
    }
    if rows.is_empty() {
        return;
    }
    let cells = rows
        .iter()
        .map(|e| {
            vec![
                e.at.clone(),
                opt(&e.instance),
                opt(&e.workflow_id),
                e.kind.clone(),
                e.message.clone(),
            ]
        })
        .collect();
    if whole {
        p.table(&["time", "instance", "workflow", "event", "message"], cells);
    } else {
        for c in cells {
            p.line(&c.join("  "));
        }
    }
}
