//! The plumbing every action's planning shares: the plan shown or written, placement and
//! its re-check under the write lock, the instance lease, new catalog rows, and one
//! [`submit`] that writes a plan or, for --dry-run, only returns it.

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;

use crate::catalog::hosts::{self, HostRow};
use crate::catalog::instances::{self, InstanceRow};
use crate::catalog::snapshots::{self, status, SnapshotRow};
use crate::catalog::{events, now, workflows};
use crate::control::hosts::placement;
use crate::control::hosts::placement::Need;
use crate::transport::CallError;
use crate::wire::ErrorCode;
use crate::workflow::actions::ActionKind;
use crate::workflow::plan::PlannedStep;
use anyhow::{Context, Result};
use serde::Serialize;

/// A compiled workflow: written to the catalog (`workflow_id`) or, for --dry-run, only shown.
#[derive(Debug, Serialize)]
pub struct Plan {
    pub workflow_id: Option<i64>,
    pub action: String,
    pub instance: String,
    pub host: String,
    /// How the host was chosen, for the user.
    pub placement: String,
    pub steps: Vec<PlannedStep>,
}

impl Plan {
    /// A plan of `kind` for `instance` on `host`, not yet written.
    pub fn new(
        kind: ActionKind,
        instance: &str,
        host: &str,
        placement: String,
        steps: Vec<PlannedStep>,
    ) -> Self {
        Plan {
            workflow_id: None,
            action: kind.name().into(),
            instance: instance.into(),
            host: host.into(),
            placement,
            steps,
        }
    }
}

/// Writes `plan` with `write` (which returns the workflow and the steps as written, with the
/// ids the rows got) unless `dry_run`; returns the plan either way.
///
/// # Errors
/// The write fails (nothing of it is kept).
pub fn submit(
    ctx: &mut Ctx,
    mut plan: Plan,
    dry_run: bool,
    write: impl FnOnce(&crate::catalog::db::Conn) -> Result<(i64, Vec<PlannedStep>)>,
) -> Result<Plan> {
    if dry_run {
        return Ok(plan);
    }
    let (wf, steps) = ctx.catalog.write(write)?;
    plan.workflow_id = Some(wf);
    plan.steps = steps;
    Ok(plan)
}

/// Refuses a `--port` that cannot work on `host`, before anything is asked of it.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] saying which ports can.
pub(crate) fn check_port(host: &HostRow, port: Option<u16>) -> Result<()> {
    let Some(p) = port else { return Ok(()) };
    let [lo, hi] = host.facts.port_range;
    let why = if p == 0 {
        "0 is not a port".to_string()
    } else if p < 1024 {
        format!("{p} is a privileged port, and servers run as unprivileged users")
    } else if p < lo || p > hi {
        format!("{p} is outside host `{}`'s port range {lo}-{hi}", host.name)
    } else {
        return Ok(());
    };
    Err(invalid(
        format!("--port {why}"),
        format!("give a port in {lo}-{hi} (port_range in the host's dbhost.toml), or leave --port out to have one picked"),
    ))
}

/// Brings a host's refusal into the user's terms: fixable conditions are bad input.
pub(crate) fn preflight_error(host: &HostRow, e: CallError) -> anyhow::Error {
    match &e {
        CallError::Remote(w)
            if matches!(
                w.code,
                ErrorCode::EngineMissing
                    | ErrorCode::PortInUse
                    | ErrorCode::NoSpace
                    | ErrorCode::InvalidInput
            ) =>
        {
            let fix = match w.code {
                ErrorCode::PortInUse => "choose another --port, or leave it out to have one picked",
                ErrorCode::EngineMissing => {
                    "install the engine there (scripts/install-deps) or choose another --host"
                }
                ErrorCode::InvalidInput => "choose another --admin-user",
                _ => "choose another --host or a smaller --storage-gb",
            };
            invalid(format!("host `{}`: {}", host.name, w.message), fix)
        }
        _ => crate::control::hosts::reach::explain_for(host, e),
    }
}

/// The host for a new instance: the one asked for if it fits, else the roomiest that fits.
/// Returns it with a note for the user on how it was chosen.
///
/// # Errors
/// [`crate::control::base::error::Invalid`]: an unknown host, one without room, or no host with room.
pub(crate) fn place(
    ctx: &Ctx,
    asked: Option<&str>,
    need: &Need,
    class: &str,
) -> Result<(HostRow, String)> {
    let rules = ctx.config.placement;
    let conn = ctx.catalog.conn();
    match asked {
        Some(name) => {
            let h = crate::control::base::lookup::host(ctx, name)?;
            let placed = instances::holding_room_on(conn, h.id)?;
            if let Some(why) = placement::misfit(&h, &placed, need, &rules) {
                return Err(invalid(
                    format!(
                        "host `{name}` cannot take a {class} {} instance: {why}",
                        need.engine
                    ),
                    "choose another --host or a smaller --class",
                ));
            }
            Ok((h, format!("on host {name} (as asked)")))
        }
        None => {
            let all = hosts::list(conn)?;
            if all.is_empty() {
                return Err(invalid(
                    "no hosts are registered",
                    "run `dbctl init` or `dbctl host add`",
                ));
            }
            let candidates = all
                .into_iter()
                .map(|h| {
                    let placed = instances::holding_room_on(conn, h.id)?;
                    Ok((h, placed))
                })
                .collect::<Result<Vec<_>>>()?;
            match placement::choose(&candidates, need, &rules) {
                Ok(h) => Ok((
                    h.clone(),
                    format!(
                        "placed on host {} (most free memory among those with room)",
                        h.name
                    ),
                )),
                Err(reasons) => Err(invalid(
                    format!(
                        "no host has room for a {class} {} instance ({})",
                        need.engine,
                        reasons.join("; ")
                    ),
                    "add a host with `dbctl host add`, free one, or choose a smaller --class",
                )),
            }
        }
    }
}

/// Checks again, inside the transaction that records a new instance, that its host still
/// has room: the catalog's write lock makes check and insert one step, so parallel creates
/// can never overcommit a host between placement and recording.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] when the room was taken meanwhile.
pub(crate) fn reserve(
    tx: &crate::catalog::db::Conn,
    host_id: i64,
    need: &Need,
    rules: &crate::control::base::config::Placement,
) -> Result<()> {
    let host = hosts::get(tx, host_id)?;
    let placed = instances::holding_room_on(tx, host_id)?;
    if let Some(why) = placement::misfit(&host, &placed, need, rules) {
        return Err(invalid(
            format!("host `{}` has no room left: {why}", host.name),
            "another instance took it meanwhile; choose another --host or a smaller --class",
        ));
    }
    Ok(())
}

/// [`submit`] for a workflow that makes a new instance `uid`: its admin secret is stored
/// first (`secret`, else a new one), and taken back if the write fails.
///
/// # Errors
/// The secret or the write fails.
pub(crate) fn submit_new_instance(
    ctx: &mut Ctx,
    uid: &str,
    secret: Option<String>,
    plan: Plan,
    dry_run: bool,
    write: impl FnOnce(&crate::catalog::db::Conn) -> Result<(i64, Vec<PlannedStep>)>,
) -> Result<Plan> {
    if dry_run {
        return Ok(plan);
    }
    let secret = secret.unwrap_or_else(crate::secrets::generate);
    ctx.secrets.put(uid, &secret)?;
    submit(ctx, plan, false, write).inspect_err(|_| ctx.secrets.remove(uid))
}

/// Writes a queued workflow and its steps, takes the instance's lease, records the request.
pub(crate) fn write_workflow(
    tx: &crate::catalog::db::Conn,
    action: ActionKind,
    inst: &InstanceRow,
    steps: &[PlannedStep],
) -> Result<i64> {
    let current = instances::get(tx, inst.id)?;
    if let Some(holder) = current.lease_workflow_id {
        if let Some(w) = workflows::find(tx, holder)? {
            if !workflows::status::is_finished(&w.status) {
                return Err(busy(&inst.name, &w));
            }
        }
    }
    let wf = workflows::insert(tx, action.name(), Some(inst.id), workflows::status::QUEUED)?;
    for (i, s) in steps.iter().enumerate() {
        workflows::insert_step(tx, wf, i as u32, &s.name, &serde_json::to_string(&s.spec)?)?;
    }
    instances::set_lease(tx, inst.id, Some(wf))?;
    events::add(
        tx,
        Some((inst.id, &inst.name)),
        Some(wf),
        "requested",
        &format!("{action} of {} requested (workflow {wf})", inst.name),
    )?;
    Ok(wf)
}

fn busy(name: &str, w: &workflows::WorkflowRow) -> anyhow::Error {
    invalid(
        format!("instance `{name}` is busy with workflow {} ({}, {})", w.id, w.action, w.status),
        format!(
            "wait for it with `dbctl workflow wait {0}`, or resume it with `dbctl workflow resume {0}`",
            w.id
        ),
    )
}

/// The instance called `name` and its host, for an action that replaces its data: refused
/// while it is still being created or another workflow holds it.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] saying what to wait for; an instance without a host.
pub(crate) fn settled(ctx: &Ctx, name: &str) -> Result<(InstanceRow, HostRow)> {
    let inst = crate::control::base::lookup::instance(ctx, name)?;
    if inst.status == instances::status::CREATING {
        return Err(invalid(
            format!("instance `{name}` is still being created"),
            "wait for its workflow, or cancel it with `dbctl workflow cancel`",
        ));
    }
    check_not_busy(ctx, &inst)?;
    let host_id = inst.host_id.context("the instance has no host")?;
    let host = hosts::get(ctx.catalog.conn(), host_id)?;
    Ok((inst, host))
}

/// Refuses when an unfinished workflow holds the instance's lease.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] naming the workflow.
pub(crate) fn check_not_busy(ctx: &Ctx, inst: &InstanceRow) -> Result<()> {
    if let Some(holder) = inst.lease_workflow_id {
        if let Some(w) = workflows::find(ctx.catalog.conn(), holder)? {
            if !workflows::status::is_finished(&w.status) {
                return Err(busy(&inst.name, &w));
            }
        }
    }
    Ok(())
}

/// A new snapshot row (status creating), to be completed by its workflow.
/// The tag of the snapshot every new instance ends its making with.
pub const BASE_TAG: &str = "base";

pub(crate) fn new_snapshot_row(
    inst: &InstanceRow,
    host_id: i64,
    kind: &str,
    tag: Option<&str>,
) -> SnapshotRow {
    SnapshotRow {
        id: 0,
        uid: format!("{}-snap-{:08x}", inst.name, rand::random::<u32>()),
        instance_id: inst.id,
        instance_name: inst.name.clone(),
        host_id: Some(host_id),
        workflow_id: None,
        kind: kind.into(),
        tag: tag.map(str::to_string),
        status: status::CREATING.into(),
        engine: inst.engine.clone(),
        engine_version: inst.engine_version.clone(),
        backend: None,
        position: None,
        taken_at: None,
        size_bytes: None,
        files: None,
        shared_files: None,
        created_at: now(),
        deleted_at: None,
        consistent_at: None,
        branch: None,
        new_bytes: None,
    }
}

/// Writes `snap` (id filled in) and the workflow `steps_for` builds for it, in one
/// transaction; the workflow leases `inst`.
pub(crate) fn write_with_snapshot(
    tx: &crate::catalog::db::Conn,
    action: ActionKind,
    inst: &InstanceRow,
    snap: &mut SnapshotRow,
    steps_for: &dyn Fn(&SnapshotRow) -> Vec<PlannedStep>,
) -> Result<(i64, Vec<PlannedStep>)> {
    snap.id = snapshots::insert(tx, snap)?;
    let steps = steps_for(snap);
    let wf = write_workflow(tx, action, inst, &steps)?;
    snapshots::set_workflow(tx, snap.id, wf)?;
    snap.workflow_id = Some(wf);
    Ok((wf, steps))
}
