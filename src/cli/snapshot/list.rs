//! `dbctl snapshot list`.

use crate::cli::output::opt;
use crate::cli::Env;
use crate::control::snapshots;
use anyhow::Result;
use clap::Args;

/// List snapshots (those of deleted instances too), newest first.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this instance's snapshots.
    pub name: Option<String>,
}

pub fn run(env: &Env, a: &ListArgs) -> Result<()> {
    let ctx = env.open()?;
    let all = snapshots::list(&ctx, a.name.as_deref())?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&all);
        return Ok(());
    }
    p.table(
        &[
            "id", "instance", "kind", "tag", "status", "taken", "position", "size", "backend",
        ],
        all.into_iter()
            .map(|s| {
                vec![
                    s.id.to_string(),
                    s.instance_name,
                    s.kind,
                    opt(&s.tag),
                    s.status,
                    opt(&s.taken_at),
                    opt(&s.position),
                    s.size_bytes
                        .map(|b| format!("{} MiB", b >> 20))
                        .unwrap_or_else(|| "-".into()),
                    opt(&s.backend),
                ]
            })
            .collect(),
    );
    Ok(())
}
