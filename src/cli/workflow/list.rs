//! `dbctl workflow list`.

use crate::cli::output::opt;
use crate::cli::Env;
use crate::control::admin::runs;
use anyhow::Result;
use clap::Args;

/// List the newest workflows.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// How many of the newest workflows to show.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

pub fn run(env: &Env, a: &ListArgs) -> Result<()> {
    let ctx = env.open()?;
    let all = runs::list(&ctx, a.limit)?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&all);
        return Ok(());
    }
    p.table(
        &[
            "id",
            "action",
            "instance",
            "status",
            "steps done",
            "created",
            "error",
        ],
        all.into_iter()
            .map(|w| {
                let done = w.steps.iter().filter(|s| s.status == "done").count();
                vec![
                    w.id.to_string(),
                    w.action,
                    opt(&w.instance),
                    w.status,
                    format!("{done}/{}", w.steps.len()),
                    w.created_at,
                    opt(&w.error),
                ]
            })
            .collect(),
    );
    Ok(())
}
