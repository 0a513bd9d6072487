//! The executor: runs a persisted workflow step by step, recording every state change first.
//!
//! A step runs, is verified, and only then is marked done with its output; a crash anywhere
//! leaves a step `running` that a resumed run sends again under the same request id, which the
//! host replays instead of acting twice. A step that fails after its retries stops the workflow
//! and the completed steps are undone in reverse order.

use super::failpoints;
use super::interrupt;
use super::plan::{Action, CatalogChange, Check, Expect, Record, StepSpec};
use super::progress::Progress;
use super::templates;
use crate::catalog::workflows::{self, status, step_status, StepRow};
use crate::catalog::{endpoints, events, hosts, instances, snapshots, Catalog};
use crate::secrets::Secrets;
use crate::transport;
use crate::wire::{InstanceRef, InstanceStatus, Op, Request, SnapshotInfo};
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The reason `workflow cancel` records: a workflow undone for it ends `cancelled`.
pub const CANCELLED_BY_USER: &str = "cancelled by the user";

/// How long a runner's heartbeat may be silent before another process may take over.
pub const STALE_AFTER_SECS: i64 = 30;
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

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
    pub catalog_path: Option<PathBuf>,
    pub secrets: &'a Secrets,
    pub progress: &'a dyn Progress,
    /// Run when an endpoint moves (config.toml `[endpoints] hook`); empty: none.
    pub endpoint_hook: &'a [String],
}

/// An endpoint that now points elsewhere.
struct Moved {
    endpoint: String,
    instance: (i64, String),
    old: String,
    new: String,
}

struct StepError {
    message: String,
    /// Trying the same step again may help.
    transient: bool,
    /// The host could not be reached: neither the step nor an undo can act, so the workflow
    /// pauses (resumable) instead of failing.
    unreachable: bool,
}

impl StepError {
    fn retryable(message: String) -> Self {
        StepError {
            message,
            transient: true,
            unreachable: false,
        }
    }
}

impl From<anyhow::Error> for StepError {
    fn from(e: anyhow::Error) -> Self {
        StepError {
            message: format!("{e:#}"),
            transient: false,
            unreachable: false,
        }
    }
}

/// How a step ended when it did not succeed.
enum Stop {
    /// Failed for good: undo and fail the workflow.
    Failed(String),
    /// Ctrl-C or an unreachable host: leave everything as it is, resumable.
    Paused(Option<String>),
}

fn call_error(host: &str, e: transport::CallError) -> StepError {
    StepError {
        message: format!("on host {host}: {e}"),
        transient: e.is_transient(),
        unreachable: matches!(e, transport::CallError::Unreachable(_)),
    }
}

/// Points an instance's endpoint at it; returns the move when the address changed.
fn point_endpoint(
    tx: &rusqlite::Connection,
    name: &str,
    instance_id: i64,
) -> Result<Option<Moved>> {
    let inst = instances::get(tx, instance_id)?;
    let (Some(host_id), Some(port)) = (inst.host_id, inst.port) else {
        return Ok(None);
    };
    let host = hosts::get(tx, host_id)?;
    let old = endpoints::point(tx, name, instance_id, &host.address, port)?;
    Ok(old.map(|old| Moved {
        endpoint: name.to_string(),
        instance: (instance_id, inst.name.clone()),
        old,
        new: endpoints::join(&host.address, port),
    }))
}

/// This process, as recorded in `workflows.runner`.
pub fn me() -> String {
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{host}:{}", std::process::id())
}

/// Whether the recorded runner may still be working on its workflow.
pub fn runner_alive(runner: Option<&str>, heartbeat_at: Option<&str>) -> bool {
    let Some(runner) = runner else { return false };
    let fresh = heartbeat_at
        .and_then(crate::catalog::age_secs)
        .is_some_and(|age| age < STALE_AFTER_SECS);
    let mine = me();
    let (my_host, _) = mine.rsplit_once(':').unwrap_or_default();
    match runner.rsplit_once(':') {
        // On this machine the process table is the better witness than the clock.
        Some((h, pid)) if h == my_host => {
            fresh
                && pid
                    .parse::<i32>()
                    .is_ok_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
        }
        _ => fresh,
    }
}

struct Heartbeat {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(path: Option<PathBuf>, wf: i64, runner: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = path.map(|path| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let Ok(cat) = Catalog::open(&path) else {
                    return;
                };
                let mut since = Duration::ZERO;
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(200));
                    since += Duration::from_millis(200);
                    if since >= HEARTBEAT_EVERY {
                        since = Duration::ZERO;
                        let _ = workflows::heartbeat(cat.conn(), wf, &runner);
                    }
                }
            })
        });
        Self { stop, handle }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Executor<'_> {
    /// Takes the workflow for this process, or says who has it.
    fn claim(&mut self, wf: i64, runner: &str) -> Result<String> {
        self.catalog.write(|tx| {
            let w = workflows::get(tx, wf)?;
            if status::is_finished(&w.status) {
                return Err(NotClaimed(format!("workflow {wf} already {}", w.status)).into());
            }
            if w.runner.as_deref() != Some(runner)
                && runner_alive(w.runner.as_deref(), w.heartbeat_at.as_deref())
            {
                return Err(NotClaimed(format!(
                    "workflow {wf} is being run by {} now; wait for it with `dbctl workflow wait {wf}`",
                    w.runner.unwrap_or_default()
                ))
                .into());
            }
            let next = if w.status == status::UNDOING {
                status::UNDOING
            } else {
                status::RUNNING
            };
            workflows::claim(tx, wf, runner, next)?;
            Ok(next.to_string())
        })
    }

    /// Runs (or resumes) workflow `wf` to an end or a pause.
    ///
    /// # Errors
    /// The workflow is unknown, finished, or run by another live process, or the catalog fails.
    pub fn run(&mut self, wf: i64) -> Result<Outcome> {
        let runner = me();
        let state = self.claim(wf, &runner)?;
        let _hb = Heartbeat::start(self.catalog_path.clone(), wf, runner.clone());
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
                let end = if reason.starts_with(CANCELLED_BY_USER) {
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
            }
            if let Some(id) = instance_id {
                let inst = instances::get(tx, id)?;
                if unsuccessful {
                    // Only a complete undo returns the instance to a known state; otherwise it
                    // is `failed` for a person to look at (the workflow says which undo failed).
                    let after = if undone {
                        templates::status_after_failure(action)
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
                        templates::success_event(action),
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
        let mut attempt = 0;
        loop {
            attempt += 1;
            workflows::step_started(self.catalog.conn(), wf, step.idx)?;
            self.progress
                .step_started(step.idx, total, &step.name, step.attempts + attempt);
            match self.attempt(wf, step, &spec) {
                Ok(output) => {
                    self.catalog.write(|tx| {
                        workflows::step_finished(
                            tx,
                            wf,
                            step.idx,
                            step_status::DONE,
                            Some(&output.to_string()),
                            None,
                        )?;
                        match spec.record {
                            Some(Record::InstanceRuntime { instance_id }) => {
                                let st: InstanceStatus = serde_json::from_value(output.clone())?;
                                instances::set_runtime(
                                    tx,
                                    instance_id,
                                    st.port,
                                    &st.engine_version,
                                )?;
                            }
                            Some(Record::SnapshotTaken { snapshot_id }) => {
                                let info: SnapshotInfo = serde_json::from_value(output.clone())?;
                                snapshots::record_taken(tx, snapshot_id, &info)?;
                            }
                            None => {}
                        }
                        Ok(())
                    })?;
                    self.progress.step_finished(step.idx, &step.name, None);
                    return Ok(());
                }
                Err(e) => {
                    self.progress
                        .step_finished(step.idx, &step.name, Some(&e.message));
                    if !e.transient || attempt > spec.retries || interrupt::requested() {
                        return Err(e);
                    }
                    workflows::step_error(self.catalog.conn(), wf, step.idx, &e.message)?;
                    std::thread::sleep(Duration::from_millis(spec.backoff_ms << (attempt - 1)));
                }
            }
        }
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
                self.call(*host_id, &format!("wf{wf}-s{}", step.idx), op)?
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

    fn call(&mut self, host_id: i64, request_id: &str, op: &Op) -> Result<Value, StepError> {
        let host = hosts::get(self.catalog.conn(), host_id)?;
        let t = transport::for_host(&host).map_err(|e| StepError {
            message: e.to_string(),
            transient: false,
            unreachable: false,
        })?;
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

    /// Streams a snapshot from one host's store into another's: an export piped into an
    /// import, through this process. The import checks every file on arrival.
    fn transfer(
        &mut self,
        wf: i64,
        step: &StepRow,
        from: (i64, &Op),
        to: (i64, &Op),
        total: u64,
    ) -> Result<Value, StepError> {
        let src = hosts::get(self.catalog.conn(), from.0)?;
        let dst = hosts::get(self.catalog.conn(), to.0)?;
        let open = |host: &hosts::HostRow,
                    id: String,
                    op: Op|
         -> Result<Box<dyn transport::Bulk>, StepError> {
            transport::for_host(host)
                .and_then(|t| t.open_bulk(&Request::new(id, op)))
                .map_err(|e| call_error(&host.name, e))
        };
        // A snapshot taken earlier in the same workflow had no size when it was planned.
        let total = match (total, from.1) {
            (0, Op::SnapshotExport(s)) => snapshots::by_uid(self.catalog.conn(), &s.snapshot)?
                .and_then(|s| s.size_bytes)
                .unwrap_or(0),
            (t, _) => t,
        };
        let mut export = open(&src, format!("wf{wf}-s{}-export", step.idx), from.1.clone())?;
        let mut import = open(&dst, format!("wf{wf}-s{}", step.idx), to.1.clone())?;
        let cut_at = failpoints::armed("cut-stream", &step.name).then_some(total / 2);
        let mut buf = vec![0u8; 1 << 20];
        let mut moved = 0u64;
        let mut broken = None;
        loop {
            // An import that refused what it got answers at once: stop sending then (the
            // export is dropped below, which ends it too).
            if import.answered() {
                broken = Some(format!("{} stopped taking the stream", dst.name));
                break;
            }
            let n = match export.reader().read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    broken = Some(format!("reading from {}: {e}", src.name));
                    break;
                }
            };
            if let Err(e) = import.writer().write_all(&buf[..n]) {
                // The import stopped taking data; its answer says why.
                broken = Some(format!("writing to {}: {e}", dst.name));
                break;
            }
            moved += n as u64;
            self.progress.bytes(moved, total);
            if cut_at.is_some_and(|c| moved >= c) {
                // As if the connection dropped mid-stream: the receiver sees a cut stream.
                break;
            }
        }
        import.close_input();
        let progress = self.progress;
        let imported = import.finish(&mut |m| progress.message(m));
        drop(export);
        match imported {
            Ok(v) => Ok(v),
            Err(e) => {
                let mut err = call_error(&dst.name, e);
                if let Some(b) = broken {
                    err.message = format!("{} ({b})", err.message);
                }
                Err(err)
            }
        }
    }

    fn verify(&mut self, wf: i64, idx: u32, check: &Check) -> Result<(), StepError> {
        let op = Op::Status(InstanceRef {
            instance: check.instance.clone(),
        });
        let v = self.call(check.host_id, &format!("wf{wf}-s{idx}-verify"), &op)?;
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

    fn apply(&mut self, wf: i64, change: &CatalogChange) -> Result<Option<Moved>> {
        match change {
            CatalogChange::SetStatus {
                instance_id,
                status,
            } => self.catalog.write(|tx| {
                instances::set_status(tx, *instance_id, status)?;
                if status == instances::status::AVAILABLE {
                    let name = instances::get(tx, *instance_id)?.name;
                    return point_endpoint(tx, &name, *instance_id);
                }
                Ok(None)
            }),
            CatalogChange::SnapshotDeleted { snapshot_id } => {
                snapshots::set_status(
                    self.catalog.conn(),
                    *snapshot_id,
                    snapshots::status::DELETED,
                )?;
                Ok(None)
            }
            CatalogChange::Forget { instance_id } => {
                let inst = instances::get(self.catalog.conn(), *instance_id)?;
                self.catalog.write(|tx| {
                    instances::set_status(tx, *instance_id, instances::status::DELETED)?;
                    endpoints::remove_for_instance(tx, *instance_id)
                })?;
                self.secrets.remove(&inst.uid);
                Ok(None)
            }
            CatalogChange::TakeOver { old_id, new_id } => self.catalog.write(|tx| {
                let old = instances::get(tx, *old_id)?;
                instances::set_status(tx, *old_id, instances::status::REPLACED)?;
                instances::rename(tx, *new_id, &old.name)?;
                instances::set_replaces(tx, *new_id, *old_id)?;
                snapshots::rename_instance(tx, *new_id, &old.name)?;
                instances::set_status(tx, *new_id, instances::status::AVAILABLE)?;
                events::add(
                    tx,
                    Some((*old_id, &old.name)),
                    Some(wf),
                    "replaced",
                    &format!(
                        "{} was replaced by a recovered copy (workflow {wf})",
                        old.name
                    ),
                )?;
                point_endpoint(tx, &old.name, *new_id)
            }),
        }
    }

    /// Records an endpoint's move and runs the configured hook: an argument vector with the
    /// name and both addresses appended (and in the environment), never a shell string. A
    /// failing hook is recorded, not fatal: the instance itself is in place.
    fn run_endpoint_hook(&mut self, wf: i64, moved: &Moved) {
        let inst = Some((moved.instance.0, moved.instance.1.as_str()));
        let msg = format!(
            "endpoint {} moved from {} to {}",
            moved.endpoint, moved.old, moved.new
        );
        let _ = events::add(self.catalog.conn(), inst, Some(wf), "endpoint_moved", &msg);
        let Some((program, args)) = self.endpoint_hook.split_first() else {
            return;
        };
        let out = std::process::Command::new(program)
            .args(args)
            .args([&moved.endpoint, &moved.old, &moved.new])
            .env("DBCTL_ENDPOINT", &moved.endpoint)
            .env("DBCTL_OLD_ADDRESS", &moved.old)
            .env("DBCTL_NEW_ADDRESS", &moved.new)
            .stdin(std::process::Stdio::null())
            .output();
        let failure = match out {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(format!(
                "{} ({})",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Some(e.to_string()),
        };
        let (kind, text) = match failure {
            None => (
                "endpoint_hook_ran",
                format!("endpoint hook {program} ran for {}", moved.endpoint),
            ),
            Some(f) => (
                "endpoint_hook_failed",
                format!("endpoint hook {program} failed for {}: {f}", moved.endpoint),
            ),
        };
        let _ = events::add(self.catalog.conn(), inst, Some(wf), kind, &text);
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
                Action::Transfer { to_host, .. } => Some(*to_host),
                Action::Catalog { .. } => None,
            };
            let (Some(undo), Some(host_id)) = (&spec.undo, target) else {
                continue;
            };
            let name = format!("undo {}", step.name);
            self.progress.step_started(step.idx, total, &name, 1);
            let mut result = Err(StepError::retryable(String::new()));
            for attempt in 0..=spec.retries {
                result = self.call(host_id, &format!("wf{wf}-s{}-undo", step.idx), undo);
                match &result {
                    Err(e) if e.transient && attempt < spec.retries => {
                        std::thread::sleep(Duration::from_millis(spec.backoff_ms << attempt));
                    }
                    _ => break,
                }
            }
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
