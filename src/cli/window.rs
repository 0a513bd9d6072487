//! `dbctl restorable-window`.

use super::output::opt;
use super::Env;
use crate::control::{instances, pitr};
use anyhow::Result;
use clap::Args;

/// Show the span of time an instance can be restored to: from its oldest kept snapshot to its
/// newest archived commit, with any span inside that no log chain reaches.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// The instance.
    pub name: String,
}

pub fn run(env: &Env, a: &WindowArgs) -> Result<()> {
    let ctx = env.open()?;
    let inst = instances::get(&ctx, &a.name)?;
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
    Ok(())
}
