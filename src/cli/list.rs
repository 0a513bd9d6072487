//! `dbctl list`: every instance, one line each.

use super::output::opt;
use super::Env;

use anyhow::Result;
use clap::Args;

/// List instances.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only those carrying this label KEY=VALUE (repeatable: all of them).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
}

pub fn run(env: &Env, a: &ListArgs) -> Result<()> {
    let ctx = env.open()?;
    let all = crate::control::instances::views::list(&ctx, &a.labels)?;
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
                v.lifetime
                    .as_ref()
                    .map(|l| l.summary.clone())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    p.table(
        &[
            "name", "status", "engine", "class", "health", "host", "endpoint", "expires",
        ],
        rows,
    );
    // Loudly: an instance nothing can rebuild.
    for v in all
        .iter()
        .filter(|v| !v.recoverable && v.status == "available")
    {
        p.note(&format!(
            "warning: `{}` has no snapshot or backup: if its data is lost it cannot be rebuilt (`dbctl snapshot create {}`)",
            v.name, v.name
        ));
    }
    let shown: Vec<&str> = all.iter().map(|v| v.name.as_str()).collect();
    for (inst, w) in crate::control::data::drills::overdue(&ctx)? {
        if shown.contains(&inst.name.as_str()) {
            p.note(&format!("warning: {w}"));
        }
    }
    Ok(())
}
