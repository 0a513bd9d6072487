//! What changing commands share: --dry-run, --detach, and running a plan in the foreground.

use super::output::Printer;
use super::progress::reporter;
use crate::control::admin::runs;
use crate::control::base::home::Ctx;
use crate::control::planning::Plan;
use anyhow::Result;
use clap::Args;

#[derive(Debug, Args, Clone, Copy)]
pub struct ChangeFlags {
    /// Print the plan (the steps that would run) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Queue the workflow and return its id; `dbctl sweep` runs it.
    #[arg(long, conflicts_with = "dry_run")]
    pub detach: bool,
}

/// Prints a plan's steps.
pub fn print_plan(p: &Printer, plan: &Plan) {
    if p.is_json() {
        p.json(plan);
        return;
    }
    p.note(&format!(
        "{} {}: {}",
        plan.action, plan.instance, plan.placement
    ));
    let rows = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vec![
                (i + 1).to_string(),
                s.name.clone(),
                match &s.spec.action {
                    crate::workflow::plan::Action::Host { op, .. } => {
                        format!("host {} {}", plan.host, op.name())
                    }
                    crate::workflow::plan::Action::Catalog { .. } => "catalog".into(),
                    crate::workflow::plan::Action::Transfer { .. } => {
                        "stream snapshot between hosts".into()
                    }
                    crate::workflow::plan::Action::Upload { repository, .. } => {
                        format!("stream snapshot into repository {repository}")
                    }
                    crate::workflow::plan::Action::Download { repository, .. } => {
                        format!("stream backup from repository {repository}")
                    }
                    crate::workflow::plan::Action::DownloadLogs { repository, .. } => {
                        format!("stream logs from repository {repository}")
                    }
                },
                s.spec
                    .verify
                    .as_ref()
                    .map(|v| format!("{:?}", v.expect).to_lowercase())
                    .unwrap_or_else(|| "-".into()),
                s.spec
                    .undo
                    .as_ref()
                    .map(|u| u.name().to_string())
                    .unwrap_or_else(|| "-".into()),
                s.spec.retries.to_string(),
            ]
        })
        .collect();
    p.table(&["#", "step", "does", "verify", "undo", "retries"], rows);
}

/// Handles --dry-run and --detach; otherwise runs the written plan here. Returns true when the
/// workflow ran to success (the caller then prints the result).
///
/// # Errors
/// The workflow failed or was interrupted (typed for the exit code), or the catalog failed.
pub fn run_plan(ctx: &mut Ctx, p: &Printer, plan: &Plan, flags: ChangeFlags) -> Result<bool> {
    let Some(wf) = plan.workflow_id else {
        print_plan(p, plan);
        return Ok(false);
    };
    if flags.detach {
        if p.is_json() {
            p.json(&serde_json::json!({"workflow_id": wf, "status": "queued"}));
        } else {
            p.line(&wf.to_string());
            p.note(&format!("queued workflow {wf} ({} {}); `dbctl sweep` runs it, `dbctl workflow wait {wf}` waits for it", plan.action, plan.instance));
        }
        return Ok(false);
    }
    p.note(&format!(
        "{} {}: {} (workflow {wf})",
        plan.action, plan.instance, plan.placement
    ));
    let progress = reporter();
    let outcome = runs::execute(ctx, wf, progress.as_ref())?;
    runs::outcome_result(ctx, wf, &outcome)?;
    Ok(true)
}
