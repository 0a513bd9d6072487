//! Running workflows: in the foreground, on resume, waiting for them, and the sweeper.

use crate::catalog::workflows::{self, status, WorkflowRow};
use crate::catalog::{instances, millis_between};
use crate::control::base::error::invalid;
use crate::control::base::error::Resumable;
use crate::control::base::error::WorkflowFailed;
use crate::control::base::home::Ctx;
use crate::control::base::home::Home;
use crate::transport::Transports;
use crate::workflow::executor::{runner_alive, Executor, NotClaimed, Outcome};
use crate::workflow::progress::{Progress, Silent};
use anyhow::Result;
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct StepView {
    pub idx: u32,
    pub name: String,
    pub status: String,
    pub attempts: u32,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub output: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct WorkflowView {
    pub id: i64,
    pub action: String,
    pub instance: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub runner: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub steps: Vec<StepView>,
}

/// Runs (or resumes) workflow `wf` here.
///
/// # Errors
/// The workflow cannot be claimed, or the catalog fails.
pub fn execute(ctx: &mut Ctx, wf: i64, progress: &dyn Progress) -> Result<Outcome> {
    let path = ctx.home.catalog_location(&ctx.config);
    let mut ex = Executor {
        catalog: &mut ctx.catalog,
        catalog_at: Some(path),
        secrets: &ctx.secrets,
        progress,
        endpoint_hook: &ctx.config.endpoints.hook,
        connector: &Transports,
    };
    let outcome = ex.run(wf)?;
    // Every recovery, by hand or by the daemon, says what it brought back and what not.
    if matches!(outcome, Outcome::Succeeded) {
        let action = workflows::get(ctx.catalog.conn(), wf)?.action;
        if action == "recover" || action == "restore" {
            crate::control::restore::recover::record_report(ctx, wf)?;
        }
    }
    Ok(outcome)
}

/// Turns an outcome into the error the CLI maps to an exit code (Ok for success).
///
/// # Errors
/// [`WorkflowFailed`] or [`Resumable`].
pub fn outcome_result(ctx: &Ctx, wf: i64, outcome: &Outcome) -> Result<()> {
    match outcome {
        Outcome::Succeeded => Ok(()),
        Outcome::Interrupted(reason) => Err(Resumable {
            workflow_id: wf,
            reason: reason.clone(),
        }
        .into()),
        Outcome::Failed { reason, .. } => {
            let w = workflows::get(ctx.catalog.conn(), wf)?;
            Err(WorkflowFailed {
                workflow_id: wf,
                action: w.action,
                reason: reason.clone(),
            }
            .into())
        }
    }
}

fn known(ctx: &Ctx, wf: i64) -> Result<WorkflowRow> {
    workflows::find(ctx.catalog.conn(), wf)?.ok_or_else(|| {
        invalid(
            format!("no workflow {wf}"),
            "`dbctl workflow list` shows the workflows",
        )
    })
}

/// The workflow, if it exists and has not finished; `verb` names what was asked of it.
fn unfinished(ctx: &Ctx, wf: i64, verb: &str) -> Result<WorkflowRow> {
    let w = known(ctx, wf)?;
    if status::is_finished(&w.status) {
        return Err(invalid(
            format!("workflow {wf} already {}", w.status),
            format!("there is nothing to {verb}"),
        ));
    }
    Ok(w)
}

/// # Errors
/// Unknown or finished workflow, another live runner, or the catalog fails.
pub fn resume(ctx: &mut Ctx, wf: i64, progress: &dyn Progress) -> Result<Outcome> {
    unfinished(ctx, wf, "resume")?;
    execute(ctx, wf, progress)
}

/// Stops an unfinished workflow for good: undoes its completed steps and marks it failed.
///
/// # Errors
/// Unknown or finished workflow, a live runner, or the catalog fails.
pub fn cancel(ctx: &mut Ctx, wf: i64, progress: &dyn Progress) -> Result<Outcome> {
    cancel_with(
        ctx,
        wf,
        crate::workflow::executor::CANCELLED_BY_USER,
        progress,
    )
}

/// Cancels a workflow a command of dbctl's wrote and no longer wants, saying why.
///
/// # Errors
/// As [`cancel`].
pub fn cancel_because(
    ctx: &mut Ctx,
    wf: i64,
    why: &str,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let reason = format!("{}: {why}", crate::workflow::executor::CANCELLED_BY_DBCTL);
    cancel_with(ctx, wf, &reason, progress)
}

fn cancel_with(ctx: &mut Ctx, wf: i64, reason: &str, progress: &dyn Progress) -> Result<Outcome> {
    let w = unfinished(ctx, wf, "cancel")?;
    if runner_alive(
        ctx.catalog.conn(),
        w.runner.as_deref(),
        w.heartbeat_at.as_deref(),
    ) {
        return Err(invalid(
            format!(
                "workflow {wf} is being run by {} now",
                w.runner.unwrap_or_default()
            ),
            "stop that run first (Ctrl-C stops it after the current step)",
        ));
    }
    workflows::set_status(ctx.catalog.conn(), wf, status::UNDOING, Some(reason))?;
    execute(ctx, wf, progress)
}

/// Blocks until workflow `wf` finishes (or `timeout` passes) and returns its row.
///
/// # Errors
/// Unknown workflow; the timeout passed.
pub fn wait(ctx: &Ctx, wf: i64, timeout: Option<Duration>) -> Result<WorkflowRow> {
    known(ctx, wf)?;
    let start = Instant::now();
    loop {
        let w = workflows::get(ctx.catalog.conn(), wf)?;
        if status::is_finished(&w.status) {
            return Ok(w);
        }
        if timeout.is_some_and(|t| start.elapsed() > t) {
            return Err(crate::control::base::error::WaitTimedOut {
                workflow_id: wf,
                status: w.status,
                waited_secs: start.elapsed().as_secs(),
            }
            .into());
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// # Errors
/// Unknown workflow.
pub fn show(ctx: &Ctx, wf: i64) -> Result<WorkflowView> {
    let w = known(ctx, wf)?;
    view(ctx, w)
}

fn view(ctx: &Ctx, w: WorkflowRow) -> Result<WorkflowView> {
    let conn = ctx.catalog.conn();
    let instance = w
        .instance_id
        .map(|id| instances::get(conn, id))
        .transpose()?
        .map(|i| i.name);
    let steps: Vec<StepView> = workflows::steps(conn, w.id)?
        .into_iter()
        .map(|s| {
            let duration_ms = match (&s.started_at, &s.finished_at) {
                (Some(a), Some(b)) => millis_between(a, b),
                _ => None,
            };
            StepView {
                idx: s.idx,
                name: s.name,
                status: s.status,
                attempts: s.attempts,
                duration_ms,
                error: s.error,
                output: s.output.and_then(|o| serde_json::from_str(&o).ok()),
            }
        })
        .collect();
    // A workflow whose runner died mid-step says so, rather than "running".
    let abandoned = (w.status == status::RUNNING || w.status == status::UNDOING)
        && !runner_alive(
            ctx.catalog.conn(),
            w.runner.as_deref(),
            w.heartbeat_at.as_deref(),
        );
    let steps = if abandoned {
        steps
            .into_iter()
            .map(|mut s: StepView| {
                if s.status == crate::catalog::workflows::step_status::RUNNING {
                    s.status = crate::catalog::workflows::step_status::INTERRUPTED.into();
                }
                s
            })
            .collect()
    } else {
        steps
    };
    Ok(WorkflowView {
        id: w.id,
        action: w.action,
        instance,
        status: if abandoned {
            status::INTERRUPTED.into()
        } else {
            w.status
        },
        error: w.error,
        runner: w.runner,
        created_at: w.created_at,
        started_at: w.started_at,
        finished_at: w.finished_at,
        steps,
    })
}

/// # Errors
/// The catalog fails.
pub fn list(ctx: &Ctx, limit: u32) -> Result<Vec<WorkflowView>> {
    workflows::list(ctx.catalog.conn(), limit)?
        .into_iter()
        .map(|w| view(ctx, w))
        .collect()
}

#[derive(Debug, Serialize)]
pub struct SweepResult {
    pub workflow_id: i64,
    pub action: String,
    pub outcome: String,
    pub error: Option<String>,
}

/// The unfinished workflows a sweep in this process should run: those this process queued
/// (the daemon's own schedules and backups) and not yet claimed, and those whose runner is
/// gone. A workflow another live process made or runs is its own, even queued: the process
/// that made it runs it at once, and a sweep must not take it in the moment before.
///
/// # Errors
/// The catalog fails.
fn due(conn: &crate::catalog::db::Conn) -> Result<Vec<WorkflowRow>> {
    let me = workflows::this_process();
    Ok(workflows::unfinished(conn)?
        .into_iter()
        .filter(|w| {
            (w.status == status::QUEUED && w.runner.as_deref() == Some(me.as_str()))
                || !runner_alive(conn, w.runner.as_deref(), w.heartbeat_at.as_deref())
        })
        .collect())
}

/// Runs every queued workflow and every one whose runner is gone, in parallel (each holds its
/// instance's lease, so no two touch one instance), and returns how each ended.
///
/// # Errors
/// The catalog cannot be read.
pub fn sweep(home: &Home) -> Result<Vec<SweepResult>> {
    let ctx = home.open()?;
    let due = due(ctx.catalog.conn())?;
    drop(ctx);
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let results = rt.block_on(async {
        let tasks: Vec<_> = due
            .into_iter()
            .map(|w| {
                let home = home.clone();
                tokio::task::spawn_blocking(move || {
                    let run = home
                        .open()
                        .and_then(|mut ctx| execute(&mut ctx, w.id, &Silent));
                    let (outcome, error) = match run {
                        Ok(Outcome::Succeeded) => ("succeeded", None),
                        Ok(Outcome::Failed { reason, .. }) => ("failed", Some(reason)),
                        Ok(Outcome::Interrupted(reason)) => ("interrupted", reason),
                        // Another sweep or runner has it, or finished it meanwhile.
                        Err(e) if e.downcast_ref::<NotClaimed>().is_some() => {
                            ("skipped", Some(format!("{e:#}")))
                        }
                        Err(e) => ("error", Some(format!("{e:#}"))),
                    };
                    SweepResult {
                        workflow_id: w.id,
                        action: w.action,
                        outcome: outcome.into(),
                        error,
                    }
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            if let Ok(r) = t.await {
                out.push(r);
            }
        }
        out
    });
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn a_sweep_takes_what_this_process_queued_or_a_dead_runner_left_and_nothing_else() {
        let c = Catalog::open_in_memory().unwrap();
        let conn = c.conn();
        let host = workflows::this_process()
            .rsplit_once(':')
            .unwrap()
            .0
            .to_string();
        let queued = |runner: &str| {
            let wf = workflows::insert(conn, "clone", None, status::QUEUED).unwrap();
            conn.execute(
                "UPDATE workflows SET runner = ?2 WHERE id = ?1",
                crate::catalog::db::params![wf, runner],
            )
            .unwrap();
            wf
        };
        // Queued here and not yet claimed: this process's to run.
        let mine = workflows::insert(conn, "clone", None, status::QUEUED).unwrap();
        // Queued by another live process on this host (pid 1 always lives): its own.
        let theirs = queued(&format!("{host}:1"));
        // Queued by a process that is gone: left to any sweep.
        let orphan = queued(&format!("{host}:{}", i32::MAX));
        // Running here already (the monitor's recovery): never taken a second time.
        let running = workflows::insert(conn, "recover", None, status::QUEUED).unwrap();
        workflows::claim(conn, running, &workflows::this_process(), status::RUNNING).unwrap();
        let ids: Vec<i64> = due(conn).unwrap().into_iter().map(|w| w.id).collect();
        assert_eq!(ids, [mine, orphan], "not {theirs} nor {running}");
    }
}
