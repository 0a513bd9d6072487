//! `dbctl restorable-window`.

use super::output::opt;
use super::Env;
use crate::control::restore::pitr;
use anyhow::Result;
use clap::Args;
use std::io::IsTerminal;

/// Show the span of time an instance can be restored to: from its oldest kept snapshot to its
/// newest archived commit, with any span inside that no log chain reaches. On a terminal, a
/// timeline follows: snapshots as ticks per tier, what can be restored as a bar, holes
/// marked, now at the right edge (`-o json` is the same data without the picture).
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
}

pub fn run(env: &Env, a: &WindowArgs) -> Result<()> {
    let ctx = env.open()?;
    let inst = crate::control::base::lookup::instance(&ctx, &a.name)?;
    let w = pitr::window(&ctx, &inst)?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&w);
        return Ok(());
    }
    p.fields(vec![
        ("instance", w.instance.clone()),
        ("earliest", opt(&w.earliest)),
        ("latest", opt(&w.latest)),
        ("latest position", opt(&w.latest_position)),
        ("snapshots", w.snapshots.to_string()),
        ("archived segments", w.segments.to_string()),
        ("missing segment", opt(&w.gap)),
        (
            "not restorable",
            if w.holes.is_empty() {
                "-".into()
            } else {
                w.holes
                    .iter()
                    .map(|h| format!("{} .. {}", h.from, h.to))
                    .collect::<Vec<_>>()
                    .join("\n")
            },
        ),
    ]);
    // A picture of it for a person at a terminal; scripts read the fields or -o json.
    if std::io::stdout().is_terminal() {
        let columns = comfy_table::Table::new()
            .width()
            .map_or(80, usize::from)
            .clamp(40, 160);
        for line in
            super::timeline::draw(&w.timeline, time::OffsetDateTime::now_utc(), columns - 14)
        {
            p.line(&line);
        }
    }
    Ok(())
}
