//! Instance operations: plan create/delete as workflows, describe, list, connection URLs.

use super::error::invalid;
use super::home::Ctx;
use super::placement::{self, Need};
use super::{engines, hosts as host_ops, names};
use crate::catalog::hosts::{self, HostRow};
use crate::catalog::instances::{self, status, InstanceRow};
use crate::catalog::{events, now, workflows};
use crate::transport::CallError;
use crate::wire::{ErrorCode, Op, PreflightSpec};
use crate::workflow::plan::PlannedStep;
use crate::workflow::templates;
use anyhow::Result;
use serde::Serialize;

pub struct CreateOpts {
    pub name: String,
    pub engine: String,
    pub class: String,
    pub host: Option<String>,
    pub storage_gb: Option<u64>,
    pub port: Option<u16>,
    pub admin_user: String,
    pub archive_timeout_secs: u32,
}

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

#[derive(Debug, Serialize)]
pub struct LastWorkflow {
    pub id: i64,
    pub action: String,
    pub status: String,
}

#[derive(Debug, Serialize)]
pub struct InstanceView {
    pub name: String,
    pub status: String,
    pub engine: String,
    pub engine_version: Option<String>,
    pub class: String,
    pub cpus: f64,
    pub memory_mb: u64,
    pub max_connections: u32,
    pub storage_gb: u64,
    pub host: Option<String>,
    pub endpoint: Option<String>,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub admin_user: String,
    pub created_at: String,
    pub archive_timeout_secs: u32,
    pub last_workflow: Option<LastWorkflow>,
    /// Lineage: cloned from this instance, at this snapshot.
    pub source_instance: Option<String>,
    pub source_snapshot_id: Option<i64>,
    /// Snapshots of this instance that are kept.
    pub snapshots: usize,
    /// The span it can be restored to (None when its host does not answer).
    pub restorable_window: Option<super::pitr::Window>,
}

pub(crate) fn check_admin_user(user: &str) -> Result<()> {
    let ok = (1..=63).contains(&user.len())
        && user.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && user
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            format!("invalid admin user `{user}`"),
            "use 1-63 lowercase letters, digits and underscores, not starting with a digit",
        ))
    }
}

/// Refuses a `--port` that cannot work on `host`, before anything is asked of it.
///
/// # Errors
/// [`super::error::Invalid`] saying which ports can.
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
                    | ErrorCode::BadRequest
            ) =>
        {
            let fix = match w.code {
                ErrorCode::PortInUse => "choose another --port, or leave it out to have one picked",
                ErrorCode::EngineMissing => {
                    "install the engine there (scripts/install-deps) or choose another --host"
                }
                ErrorCode::BadRequest => "choose another --admin-user",
                _ => "choose another --host or a smaller --storage-gb",
            };
            invalid(format!("host `{}`: {}", host.name, w.message), fix)
        }
        _ => host_ops::explain(&host.name, &format!("{}:{}", host.address, host.port), e),
    }
}

/// The host for a new instance: the one asked for if it fits, else the roomiest that fits.
/// Returns it with a note for the user on how it was chosen.
///
/// # Errors
/// [`super::error::Invalid`]: an unknown host, one without room, or no host with room.
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
            let h = host_ops::get(ctx, name)?;
            let placed = instances::live_on_host(conn, h.id)?;
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
                    let placed = instances::live_on_host(conn, h.id)?;
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

/// Validates, places and plans `create`; writes it unless `dry_run`.
///
/// # Errors
/// Bad input ([`super::error::Invalid`]); an unreachable host; the catalog fails.
pub fn plan_create(ctx: &mut Ctx, o: &CreateOpts, dry_run: bool) -> Result<Plan> {
    names::check("instance", &o.name)?;
    engines::get(&o.engine)?;
    let class = ctx.config.class(&o.class)?;
    check_admin_user(&o.admin_user)?;
    if !(1..=3600).contains(&o.archive_timeout_secs) {
        return Err(invalid(
            format!(
                "--archive-timeout {} is out of range",
                o.archive_timeout_secs
            ),
            "give 1 to 3600 seconds (the longest a commit may wait to be archived)",
        ));
    }
    if let Some(existing) = instances::live_by_name(ctx.catalog.conn(), &o.name)? {
        return Err(invalid(
            format!(
                "instance `{}` already exists (status {})",
                o.name, existing.status
            ),
            "choose another name, or delete it first with `dbctl delete`",
        ));
    }
    let storage_gb = o.storage_gb.unwrap_or(class.storage_gb);
    if storage_gb == 0 {
        return Err(invalid(
            "--storage-gb 0 leaves no room for data",
            "give at least 1",
        ));
    }
    let need = Need {
        engine: o.engine.clone(),
        cpus: class.cpus,
        memory_mb: class.memory_mb,
        storage_gb,
    };
    let (host, placement_note) = place(ctx, o.host.as_deref(), &need, &o.class)?;
    check_port(&host, o.port)?;
    // A live check on the chosen host: reachable, right key and protocol, engine, port, disk.
    host_ops::call(
        &host,
        Op::Preflight(PreflightSpec {
            engine: o.engine.clone(),
            admin_user: o.admin_user.clone(),
            port: o.port,
            storage_gb,
        }),
    )
    .map_err(|e| preflight_error(&host, e))?;

    let mut inst = InstanceRow {
        id: 0,
        name: o.name.clone(),
        uid: format!("{}-{:06x}", o.name, rand::random::<u32>() & 0xff_ffff),
        engine: o.engine.clone(),
        engine_version: None,
        class: o.class.clone(),
        cpus: class.cpus,
        memory_mb: class.memory_mb,
        max_connections: class.max_connections,
        storage_gb,
        host_id: Some(host.id),
        port: o.port,
        admin_user: o.admin_user.clone(),
        status: status::CREATING.into(),
        lease_workflow_id: None,
        created_at: now(),
        deleted_at: None,
        source_instance: None,
        source_snapshot_id: None,
        archive_timeout_secs: o.archive_timeout_secs,
    };
    let mut plan = Plan {
        workflow_id: None,
        action: "create".into(),
        instance: o.name.clone(),
        host: host.name.clone(),
        placement: placement_note,
        steps: templates::create(&inst, host.id, o.port),
    };
    if dry_run {
        return Ok(plan);
    }
    let uid = inst.uid.clone();
    let rules = ctx.config.placement;
    write_new_instance(ctx, &uid, &mut plan, |tx| {
        reserve(tx, host.id, &need, &rules)?;
        inst.id = instances::insert(tx, &inst)?;
        let steps = templates::create(&inst, host.id, o.port);
        let wf = write_workflow(tx, "create", &inst, &steps)?;
        Ok((wf, steps))
    })?;
    Ok(plan)
}

/// Checks again, inside the transaction that records a new instance, that its host still
/// has room: the catalog's write lock makes check and insert one step, so parallel creates
/// can never overcommit a host between placement and recording.
///
/// # Errors
/// [`super::error::Invalid`] when the room was taken meanwhile.
pub(crate) fn reserve(
    tx: &rusqlite::Transaction,
    host_id: i64,
    need: &Need,
    rules: &super::config::Placement,
) -> Result<()> {
    let host = hosts::get(tx, host_id)?;
    let placed = instances::live_on_host(tx, host_id)?;
    if let Some(why) = placement::misfit(&host, &placed, need, rules) {
        return Err(invalid(
            format!("host `{}` has no room left: {why}", host.name),
            "another instance took it meanwhile; choose another --host or a smaller --class",
        ));
    }
    Ok(())
}

/// Writes the plan of a workflow that makes a new instance: its admin secret first (the plan
/// needs it), then `write` in one transaction; a failed write takes the secret back.
pub(crate) fn write_new_instance(
    ctx: &mut Ctx,
    uid: &str,
    plan: &mut Plan,
    write: impl FnOnce(&rusqlite::Transaction) -> Result<(i64, Vec<PlannedStep>)>,
) -> Result<()> {
    ctx.secrets.put(uid, &crate::secrets::generate())?;
    match ctx.catalog.write(write) {
        Ok((wf, steps)) => {
            plan.workflow_id = Some(wf);
            plan.steps = steps;
            Ok(())
        }
        Err(e) => {
            ctx.secrets.remove(uid);
            Err(e)
        }
    }
}

/// Writes a queued workflow and its steps, takes the instance's lease, records the request.
pub(crate) fn write_workflow(
    tx: &rusqlite::Transaction,
    action: &str,
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
    let wf = workflows::insert(tx, action, Some(inst.id), workflows::status::QUEUED)?;
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

/// # Errors
/// [`super::error::Invalid`] when no live instance has that name.
pub fn get(ctx: &Ctx, name: &str) -> Result<InstanceRow> {
    instances::live_by_name(ctx.catalog.conn(), name)?.ok_or_else(|| {
        invalid(
            format!("no instance named `{name}`"),
            "`dbctl list` shows the instances",
        )
    })
}

/// Refuses when an unfinished workflow holds the instance's lease.
///
/// # Errors
/// [`super::error::Invalid`] naming the workflow.
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

/// Plans `delete` (after a final snapshot unless `skip_final_snapshot`); writes it unless
/// `dry_run`.
///
/// # Errors
/// Unknown or busy instance; the catalog fails.
pub fn plan_delete(
    ctx: &mut Ctx,
    name: &str,
    skip_final_snapshot: bool,
    dry_run: bool,
) -> Result<Plan> {
    let inst = get(ctx, name)?;
    check_not_busy(ctx, &inst)?;
    let host = match inst.host_id {
        Some(id) => hosts::get(ctx.catalog.conn(), id)?,
        None => {
            return Err(invalid(
                format!("instance `{name}` has no host in the catalog"),
                "re-add its host",
            ))
        }
    };
    // A final snapshot needs a running server; an instance that never came up has no data
    // worth keeping.
    let take_final = !skip_final_snapshot && inst.status == status::AVAILABLE;
    let mut final_snap =
        take_final.then(|| super::snapshots::new_row(&inst, host.id, "final", None));
    // The logs its kept snapshots on that host need stay; the rest goes with it.
    let kept: Vec<String> = crate::catalog::snapshots::list(ctx.catalog.conn(), Some(name))?
        .into_iter()
        .filter(|s| {
            s.instance_id == inst.id
                && s.host_id == Some(host.id)
                && s.status == crate::catalog::snapshots::status::AVAILABLE
        })
        .map(|s| s.uid)
        .collect();
    let steps = templates::delete(&inst, host.id, final_snap.as_ref(), &kept);
    let mut plan = Plan {
        workflow_id: None,
        action: "delete".into(),
        instance: name.into(),
        host: host.name.clone(),
        placement: format!("on host {}", host.name),
        steps,
    };
    if dry_run {
        return Ok(plan);
    }
    let (wf, steps) = ctx.catalog.write(|tx| {
        let (wf, steps) = match final_snap.as_mut() {
            Some(snap) => super::snapshots::write_with_snapshot(tx, "delete", &inst, snap, &|s| {
                templates::delete(&inst, host.id, Some(s), &kept)
            })?,
            None => (
                write_workflow(tx, "delete", &inst, &plan.steps)?,
                plan.steps.clone(),
            ),
        };
        instances::set_status(tx, inst.id, status::DELETING)?;
        Ok((wf, steps))
    })?;
    plan.workflow_id = Some(wf);
    plan.steps = steps;
    Ok(plan)
}

fn view(ctx: &Ctx, i: InstanceRow) -> Result<InstanceView> {
    let conn = ctx.catalog.conn();
    let kept = crate::catalog::snapshots::list(conn, Some(&i.name))?
        .iter()
        .filter(|s| s.instance_id == i.id && s.status == "available")
        .count();
    let window = if kept > 0 {
        super::pitr::window(ctx, &i).ok()
    } else {
        None
    };
    let host = i.host_id.map(|id| hosts::get(conn, id)).transpose()?;
    let last = workflows::latest_for_instance(conn, i.id)?.map(|w| LastWorkflow {
        id: w.id,
        action: w.action,
        status: w.status,
    });
    let address = host.as_ref().map(|h| h.address.clone());
    let endpoint = match (&address, i.port) {
        (Some(a), Some(p)) if a.contains(':') => Some(format!("[{a}]:{p}")),
        (Some(a), Some(p)) => Some(format!("{a}:{p}")),
        _ => None,
    };
    Ok(InstanceView {
        name: i.name,
        status: i.status,
        engine: i.engine,
        engine_version: i.engine_version,
        class: i.class,
        cpus: i.cpus,
        memory_mb: i.memory_mb,
        max_connections: i.max_connections,
        storage_gb: i.storage_gb,
        host: host.map(|h| h.name),
        endpoint,
        address,
        port: i.port,
        admin_user: i.admin_user,
        snapshots: kept,
        restorable_window: window,
        created_at: i.created_at,
        archive_timeout_secs: i.archive_timeout_secs,
        last_workflow: last,
        source_instance: i.source_instance,
        source_snapshot_id: i.source_snapshot_id,
    })
}

/// # Errors
/// Unknown instance.
pub fn describe(ctx: &Ctx, name: &str) -> Result<InstanceView> {
    let i = get(ctx, name)?;
    view(ctx, i)
}

/// # Errors
/// The catalog fails.
pub fn list(ctx: &Ctx) -> Result<Vec<InstanceView>> {
    instances::list_live(ctx.catalog.conn())?
        .into_iter()
        .map(|i| view(ctx, i))
        .collect()
}

/// How to reach an instance as its admin role.
pub struct Connection {
    pub engine: &'static super::engines::EngineInfo,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
}

impl Connection {
    /// The engine client's environment for this connection (see `EngineInfo::client_env`).
    pub fn client_env(&self) -> Vec<(&'static str, String)> {
        let [h, p, u, pw, db] = self.engine.client_env;
        vec![
            (h, self.host.clone()),
            (p, self.port.to_string()),
            (u, self.user.clone()),
            (pw, self.password.clone()),
            (db, self.database.clone()),
        ]
    }
}

/// The admin connection to an instance.
///
/// # Errors
/// Unknown instance, one not yet available, or a missing secret.
pub fn connection(ctx: &Ctx, name: &str) -> Result<Connection> {
    let i = get(ctx, name)?;
    let engine = engines::get(&i.engine)?;
    let host = i
        .host_id
        .map(|id| hosts::get(ctx.catalog.conn(), id))
        .transpose()?;
    let (Some(host), Some(port)) = (host, i.port) else {
        return Err(invalid(
            format!(
                "instance `{name}` has no endpoint yet (status {})",
                i.status
            ),
            "wait for its create workflow to finish",
        ));
    };
    Ok(Connection {
        engine,
        host: host.address,
        port,
        user: i.admin_user.clone(),
        password: ctx.secrets.get(&i.uid)?,
        database: engine.default_database.into(),
    })
}

/// A connection URL with the admin credentials.
///
/// # Errors
/// Unknown instance, one not yet available, or a missing secret.
pub fn url(ctx: &Ctx, name: &str) -> Result<String> {
    let c = connection(ctx, name)?;
    let host = if c.host.contains(':') {
        format!("[{}]", c.host)
    } else {
        c.host.clone()
    };
    Ok(format!(
        "{}://{}:{}@{host}:{}/{}",
        c.engine.url_scheme, c.user, c.password, c.port, c.database
    ))
}
