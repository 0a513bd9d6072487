//! `dbctl workflow show`.

use crate::cli::output::{opt, Printer};
use crate::cli::Env;
use crate::control::admin::runs;
use crate::control::admin::runs::WorkflowView;
use anyhow::Result;
use clap::Args;

/// Show a workflow's steps with status, attempts, durations and errors.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The workflow's id (`dbctl workflow list`).
    pub id: i64,
}

pub fn print_workflow(p: &Printer, w: &WorkflowView) {
    if p.is_json() {
        p.json(w);
        return;
    }
    p.note(&format!(
        "workflow {} {} {}: {}{}",
        w.id,
        w.action,
        opt(&w.instance),
        w.status,
        w.error
            .as_ref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    ));
    p.table(
        &["#", "step", "status", "attempts", "seconds", "error"],
        w.steps
            .iter()
            .map(|s| {
                vec![
                    (s.idx + 1).to_string(),
                    s.name.clone(),
                    s.status.clone(),
                    s.attempts.to_string(),
                    s.duration_ms
                        .map(|ms| format!("{:.1}", ms as f64 / 1000.0))
                        .unwrap_or_else(|| "-".into()),
                    opt(&s.error),
                ]
            })
            .collect(),
    );
}

pub fn run(env: &Env, a: &ShowArgs) -> Result<()> {
    let ctx = env.open()?;
    print_workflow(&env.printer, &runs::show(&ctx, a.id)?);
    Ok(())
}
