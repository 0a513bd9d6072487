//! The executor: runs a persisted workflow step by step, recording every state change first.
//!
//! A step runs, is verified, and only then is marked done with its output; a crash anywhere
//! leaves a step `running` that a resumed run sends again under the same request id, which the
//! host replays instead of acting twice. A step that fails after its retries stops the workflow
//! and the completed steps are undone in reverse order.
//!
//! Its seams: `lease` (who runs it, heartbeats), `retry` (one backoff loop), `transfer`
//! (streams between hosts), `effects` (what steps do to the catalog), and [`Connector`], the
//! way to a host, which unit tests replace with a fake host.

mod effects;
mod lease;
mod repository;
mod retry;
#[cfg(test)]
mod tests;
mod transfer;

pub use lease::{me, runner_alive, STALE_AFTER_SECS};

use super::actions::ActionKind;
use super::interrupt;
use super::plan::{Action, Check, Expect, StepSpec};
use super::progress::Progress;
use crate::catalog::workflows::{self, status, step_status, StepRow};
use crate::catalog::{backups, events, hosts, instances, snapshots, Catalog};
use crate::failpoints;
use crate::secrets::Secrets;
use crate::transport::Connector;
use crate::wire::{InstanceRef, InstanceStatus, Op, Request};
use anyhow::{Context, Result};
use retry::{call_error, with_retries, StepError};
use serde_json::Value;

/// The reason `workflow cancel` records: a workflow undone for it ends `cancelled`.
pub const CANCELLED_BY_USER: &str = "cancelled by the user";
/// The start of the reason of a workflow dbctl cancelled itself (the command it was part of
/// stopped); the rest says why.
pub const CANCELLED_BY_DBCTL: &str = "cancelled by dbctl";

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded,
    /// `undone`: every completed step was undone.
    Failed {
        reason: String,
        undone: bool,
    },
    /// Stopped part-way, resumable; with why when a step could not finish (a host that does
    /// not answer), None for Ctrl-C between steps.
    Interrupted(Option<String>),
}

/// The workflow is finished, or being run by another live process: nothing for this one.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotClaimed(pub String);

pub struct Executor<'a> {
    pub catalog: &'a mut Catalog,
    /// The catalog file, for the heartbeat's own connection (None: no heartbeat).
    pub catalog_at: Option<crate::catalog::Location>,
    pub secrets: &'a Secrets,
    pub progress: &'a dyn Progress,
    /// Run when an endpoint moves (config.toml `[endpoints] hook`); empty: none.
    pub endpoint_hook: &'a [String],
    pub connector: &'a dyn Connector,
}

/// How a step ended when it did not succeed.
enum Stop {
    /// Failed for good: undo and fail the workflow.
    Failed(String),
    /// Ctrl-C or an unreachable host: leave everything as it is, resumable.
    Paused(Option<String>),
}

impl Executor<'_> {
    /// Runs (or resumes) workflow `wf` to an end or a pause.
    ///
    /// # Errors
    /// The workflow is unknown, finished, or run by another live process, or the catalog fails.
    pub fn run(&mut self, wf: i64) -> Result<Outcome> {
        let runner = lease::me();
        let _here = lease::hold_here(self.catalog, wf)?;
        let state = lease::claim(self.catalog, wf, &runner)?;
        let _hb = lease::Heartbeat::start(self.catalog_at.clone(), wf, runner.clone());
        let w = workflows::get(self.catalog.conn(), wf)?;
        let steps = workflows::steps(self.catalog.conn(), wf)?;
        let total = steps.len() as u32;

        let failure = if state == status::UNDOING {
            Some(
                w.error
                    .clone()
                    .unwrap_or_else(|| "an earlier run failed".into()),
            )
        } else {
            match self.run_steps(wf, &steps, total)? {
                None => None,
                Some(Stop::Failed(reason)) => Some(reason),
                Some(Stop::Paused(reason)) => {
                    self.catalog.write(|tx| {
                        workflows::set_status(tx, wf, status::INTERRUPTED, reason.as_deref())?;
                        workflows::release(tx, wf)?;
                        if let Some(r) = &reason {
                            let inst =
                                w.instance_id.map(|id| instances::get(tx, id)).transpose()?;
                            let who = inst.as_ref().map(|i| (i.id, i.name.as_str()));
                            events::add(
                                tx,
                                who,
                                Some(wf),
                                "paused",
                                &format!("workflow {wf} paused: {r}"),
                            )?;
                        }
                        Ok(())
                    })?;
                    return Ok(Outcome::Interrupted(reason));
                }
            }
        };

        let outcome = match failure {
            None => {
                self.finish(wf, &w.action, w.instance_id, status::SUCCEEDED, None, true)?;
                Outcome::Succeeded
            }
            Some(reason) => {
                let (undo_note, undone) = self.undo(wf, total)?;
                let end = if reason.starts_with(CANCELLED_BY_USER)
                    || reason.starts_with(CANCELLED_BY_DBCTL)
                {
                    status::CANCELLED
                } else {
                    status::FAILED
                };
                let reason = format!("{reason}{undo_note}");
                self.finish(wf, &w.action, w.instance_id, end, Some(&reason), undone)?;
                Outcome::Failed { reason, undone }
            }
        };
        Ok(outcome)
    }

    /// Runs the steps not yet done, in order; None when all succeeded.
    fn run_steps(&mut self, wf: i64, steps: &[StepRow], total: u32) -> Result<Option<Stop>> {
        for step in steps.iter().filter(|s| s.status != step_status::DONE) {
            if interrupt::requested() {
                return Ok(Some(Stop::Paused(None)));
            }
            let Err(e) = self.run_step(wf, step, total) else {
                failpoints::interrupt_after(&step.name);
                continue;
            };
            let reason = format!("step {} `{}`: {}", step.idx + 1, step.name, e.message);
            if e.unreachable || interrupt::requested() {
                // A resumed run sends the same request again.
                workflows::step_interrupted(self.catalog.conn(), wf, step.idx, &e.message)?;
                return Ok(Some(Stop::Paused(Some(reason))));
            }
            let instance_id = workflows::get(self.catalog.conn(), wf)?.instance_id;
            let best_effort = serde_json::from_str::<StepSpec>(&step.spec)
                .map(|s| s.best_effort)
                .unwrap_or(false);
            // A best-effort clean-up is recorded, said, and passed over: the work is done.
            let (kind, said) = if best_effort {
                ("cleanup_failed", format!("{reason}; left as it is"))
            } else {
                ("step_failed", reason.clone())
            };
            self.catalog.write(|tx| {
                workflows::step_finished(
                    tx,
                    wf,
                    step.idx,
                    step_status::FAILED,
                    None,
                    Some(&e.message),
                )?;
                if !best_effort {
                    workflows::set_status(tx, wf, status::UNDOING, Some(&reason))?;
                }
                let inst = instance_id.map(|id| instances::get(tx, id)).transpose()?;
                events::add(
                    tx,
                    inst.as_ref().map(|i| (i.id, i.name.as_str())),
                    Some(wf),
                    kind,
                    &said,
                )
            })?;
            if best_effort {
                continue;
            }
            return Ok(Some(Stop::Failed(reason)));
        }
        Ok(None)
    }

    fn finish(
        &mut self,
        wf: i64,
        action: &str,
        instance_id: Option<i64>,
        end: &str,
        reason: Option<&str>,
        undone: bool,
    ) -> Result<()> {
        self.catalog.write(|tx| {
            workflows::set_status(tx, wf, end, reason)?;
            workflows::release(tx, wf)?;
            let unsuccessful = status::is_unsuccessful(end);
            if unsuccessful {
                snapshots::fail_unfinished(tx, wf, undone)?;
                backups::fail_unfinished(tx, wf)?;
            }
            if let Some(id) = instance_id {
                let inst = instances::get(tx, id)?;
                if unsuccessful {
                    // Only a complete undo returns the instance to a known state; otherwise it
                    // is `failed` for a person to look at (the workflow says which undo failed).
                    let after = if undone {
                        ActionKind::status_after_failure(action)
                    } else {
                        Some(instances::status::FAILED)
                    };
                    if let Some(after) = after {
                        instances::set_status(tx, id, after)?;
                    }
                }
                instances::release_workflow(tx, wf, unsuccessful, Some(id))?;
                let (kind, msg) = match reason {
                    None => (
                        ActionKind::success_event(action),
                        format!("{action} of {} succeeded (workflow {wf})", inst.name),
                    ),
                    Some(r) => (
                        if end == status::CANCELLED {
                            "cancelled"
                        } else {
                            "failed"
                        },
                        format!("{action} of {} {end} (workflow {wf}): {r}", inst.name),
                    ),
                };
                events::add(tx, Some((id, &inst.name)), Some(wf), kind, &msg)?;
            }
            Ok(())
        })
    }

    fn run_step(&mut self, wf: i64, step: &StepRow, total: u32) -> Result<(), StepError> {
        let spec: StepSpec = serde_json::from_str(&step.spec).context("reading the step's spec")?;
        let progress = self.progress;
        let output = with_retries(
            self,
            spec.retries,
            spec.backoff_ms,
            &interrupt::requested,
            |ex, n| {
                workflows::step_started(ex.catalog.conn(), wf, step.idx)?;
                progress.step_started(step.idx, total, &step.name, step.attempts + n);
                let r = ex.attempt(wf, step, &spec);
                if let Err(e) = &r {
                    progress.step_finished(step.idx, &step.name, Some(&e.message));
                }
                r
            },
            |ex, e| {
                Ok(workflows::step_error(
                    ex.catalog.conn(),
                    wf,
                    step.idx,
                    &e.message,
                )?)
            },
        )?;
        self.catalog.write(|tx| {
            workflows::step_finished(
                tx,
                wf,
                step.idx,
                step_status::DONE,
                Some(&output.to_string()),
                None,
            )?;
            effects::record(tx, spec.record, &output)
        })?;
        progress.step_finished(step.idx, &step.name, None);
        Ok(())
    }

    /// One attempt: the action, the failpoints around it, then its verification.
    fn attempt(&mut self, wf: i64, step: &StepRow, spec: &StepSpec) -> Result<Value, StepError> {
        if failpoints::armed("fail-before", &step.name) {
            return Err(StepError::retryable(format!(
                "failpoint fail-before:{} is set",
                step.name
            )));
        }
        let output = match &spec.action {
            Action::Host { host_id, op } => {
                self.call(*host_id, &format!("{}-s{}", self.prefix(wf)?, step.idx), op)?
            }
            Action::Catalog { change } => {
                if let Some(moved) = self.apply(wf, change)? {
                    self.run_endpoint_hook(wf, &moved);
                }
                Value::Null
            }
            Action::Transfer {
                from_host,
                to_host,
                export,
                import,
                bytes,
            } => self.transfer(wf, step, (*from_host, export), (*to_host, import), *bytes)?,
            Action::Upload {
                from_host,
                export,
                repository,
                backup_id,
                bytes,
            } => self.upload(
                wf,
                step,
                (*from_host, export),
                repository,
                *backup_id,
                *bytes,
            )?,
            Action::Download {
                repository,
                restic_id,
                to_host,
                import,
                bytes,
            } => self.download(
                wf,
                step,
                (repository, restic_id),
                (*to_host, import),
                *bytes,
            )?,
            Action::DownloadLogs {
                repository,
                shipments,
                to_host,
                import,
            } => self.download_logs(wf, step, (repository, shipments), (*to_host, import))?,
        };
        failpoints::crash_after(&step.name);
        if failpoints::armed("fail", &step.name) {
            return Err(StepError::retryable(format!(
                "failpoint fail:{} is set",
                step.name
            )));
        }
        if let Some(check) = &spec.verify {
            self.verify(wf, step.idx, check)?;
        }
        Ok(output)
    }

    /// What workflow `wf`'s request ids start with ([`workflows::request_prefix`]); a catalog
    /// that cannot say fails the step rather than send an id a host could take for another.
    fn prefix(&self, wf: i64) -> Result<String, StepError> {
        Ok(workflows::request_prefix(self.catalog.conn(), wf)?)
    }

    fn call(&mut self, host_id: i64, request_id: &str, op: &Op) -> Result<Value, StepError> {
        let host = hosts::get(self.catalog.conn(), host_id)?;
        let t = self
            .connector
            .connect(&host)
            .map_err(|e| StepError::fatal(e.to_string()))?;
        // Secrets join the request only now: the persisted plan never holds them.
        let mut op = op.clone();
        match &mut op {
            Op::Provision(spec) => spec.admin_password = self.secrets.get(&spec.instance)?,
            Op::SetPassword(spec) => spec.password = self.secrets.get(&spec.instance)?,
            _ => {}
        }
        let progress = self.progress;
        t.call(&Request::new(request_id, op), &mut |m| progress.message(m))
            .map_err(|e| call_error(&host.name, e))
    }

    fn verify(&mut self, wf: i64, idx: u32, check: &Check) -> Result<(), StepError> {
        let op = Op::Status(InstanceRef {
            instance: check.instance.clone(),
        });
        let id = format!("{}-s{idx}-verify", self.prefix(wf)?);
        let v = self.call(check.host_id, &id, &op)?;
        let st: InstanceStatus = serde_json::from_value(v).context("reading the status answer")?;
        let (ok, wanted) = match check.expect {
            Expect::Exists => (st.exists, "provisioned"),
            Expect::Accepting => (st.running && st.accepting, "running and answering queries"),
            Expect::Stopped => (!st.running, "stopped"),
            Expect::Absent => (!st.exists, "gone"),
        };
        if ok {
            Ok(())
        } else {
            Err(StepError::retryable(format!(
                "verification failed: the instance is not {wanted} (exists={}, running={}, accepting={})",
                st.exists, st.running, st.accepting
            )))
        }
    }

    /// Undoes, newest first, every step that did or may have done something. Returns a note for
    /// the failure reason and whether every undo succeeded.
    fn undo(&mut self, wf: i64, total: u32) -> Result<(String, bool)> {
        let steps = workflows::steps(self.catalog.conn(), wf)?;
        let mut failed = Vec::new();
        for step in steps.iter().rev() {
            if ![
                step_status::DONE,
                step_status::FAILED,
                step_status::RUNNING,
                step_status::INTERRUPTED,
            ]
            .contains(&step.status.as_str())
            {
                continue;
            }
            let spec: StepSpec = serde_json::from_str(&step.spec)?;
            // An undo runs where its step acted: a transfer's on the receiving host.
            let target = match &spec.action {
                Action::Host { host_id, .. } => Some(*host_id),
                Action::Transfer { to_host, .. }
                | Action::Download { to_host, .. }
                | Action::DownloadLogs { to_host, .. } => Some(*to_host),
                Action::Catalog { .. } | Action::Upload { .. } => None,
            };
            let (Some(undo), Some(host_id)) = (&spec.undo, target) else {
                continue;
            };
            let name = format!("undo {}", step.name);
            self.progress.step_started(step.idx, total, &name, 1);
            // An undo is tried to the end even after Ctrl-C: stopping half-undone is worse.
            let request = format!(
                "{}-s{}-undo",
                workflows::request_prefix(self.catalog.conn(), wf)?,
                step.idx
            );
            let result = with_retries(
                self,
                spec.retries,
                spec.backoff_ms,
                &|| false,
                |ex, _| ex.call(host_id, &request, undo),
                |_, _| Ok(()),
            );
            let (st, err) = match &result {
                Ok(_) => (step_status::UNDONE, None),
                Err(e) => {
                    failed.push(format!("undo of `{}` failed: {}", step.name, e.message));
                    (step_status::UNDO_FAILED, Some(e.message.as_str()))
                }
            };
            workflows::step_undo_finished(self.catalog.conn(), wf, step.idx, st, err)?;
            self.progress.step_finished(step.idx, &name, err);
        }
        Ok(if failed.is_empty() {
            ("; completed steps were undone".into(), true)
        } else {
            (format!("; {}", failed.join("; ")), false)
        })
    }
}
