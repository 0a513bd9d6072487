//! `dbctl snapshot list`.

use crate::cli::output::opt;
use crate::cli::Env;
use crate::control::restore::snapshots;
use anyhow::Result;
use clap::Args;

/// List snapshots (those of deleted instances too), newest first. `size` is what a restore
/// holds; `new` is what the snapshot added on disk (files shared with the one before count
/// once, there).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this instance's snapshots.
    #[arg(add = crate::cli::complete::instances())]
    pub name: Option<String>,
    /// Only those carrying this label KEY=VALUE (repeatable: all of them).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
}

pub fn run(env: &Env, a: &ListArgs) -> Result<()> {
    let ctx = env.open()?;
    let of_name = snapshots::list(&ctx, a.name.as_deref())?;
    if let (Some(name), true) = (&a.name, of_name.is_empty()) {
        crate::control::base::lookup::check_ever_named(&ctx, name)?;
    }
    let all = snapshots::labelled(&ctx, of_name, &a.labels)?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&all);
        return Ok(());
    }
    let hosts: std::collections::HashMap<i64, String> =
        crate::catalog::hosts::list(ctx.catalog.conn())?
            .into_iter()
            .map(|h| (h.id, h.name))
            .collect();
    let size = crate::cli::output::size;
    p.table(
        &[
            "id", "instance", "host", "kind", "tag", "status", "taken", "position", "size", "new",
            "backend",
        ],
        all.into_iter()
            .map(|s| {
                vec![
                    s.id.to_string(),
                    s.instance_name,
                    s.host_id
                        .and_then(|h| hosts.get(&h).cloned())
                        .unwrap_or_else(|| "-".into()),
                    s.kind,
                    opt(&s.tag),
                    s.status,
                    opt(&s.taken_at),
                    opt(&s.position),
                    size(s.size_bytes),
                    size(s.new_bytes),
                    opt(&s.backend),
                ]
            })
            .collect(),
    );
    Ok(())
}
