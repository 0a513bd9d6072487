//! Instance operations: plan create/delete as workflows, describe, list, connection URLs.

use crate::catalog::hosts;
use crate::catalog::instances::{self, status, InstanceRow};
use crate::catalog::workflows;
use crate::control::base::home::Ctx;
use crate::control::base::lookup;
use anyhow::Result;
use serde::Serialize;

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
    /// Lineage: cloned from this instance, at this snapshot (of its first incarnation: a
    /// recovery keeps it, and `created_at`, as they were).
    pub source_instance: Option<String>,
    pub source_snapshot_id: Option<i64>,
    /// The last recovery that rebuilt it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Recovered>,
    /// Snapshots of this instance that are kept.
    pub snapshots: usize,
    /// Whether it can be rebuilt if its data is lost: it has a snapshot or a backup.
    pub recoverable: bool,
    /// Its backup policy and where it stands in the off-host tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offsite: Option<crate::control::offsite::shipping::Offsite>,
    /// The span it can be restored to (None when its host does not answer).
    pub restorable_window: Option<crate::control::restore::pitr::Window>,
    /// Why its host could not be asked (it did not answer within `[monitor]
    /// check_timeout_secs`, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_silent: Option<String>,
    /// Its maintenance window, the class change waiting for it, its automatic snapshots and
    /// what the monitor does when it fails.
    pub maintenance_window: Option<String>,
    pub pending_class: Option<String>,
    pub snapshot_interval_mins: u32,
    pub on_failure: String,
    /// What the monitor last saw (None: never checked).
    pub health: Option<HealthView>,
    pub labels: std::collections::BTreeMap<String, String>,
    /// When it deletes itself (`clone --expires-in`, `--delete-when-idle`), if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<LifetimeView>,
    /// Its newest restore drill (`dbctl drill`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<crate::catalog::drills::DrillRow>,
}

/// An instance's lifetime as `describe` and `list` show it.
#[derive(Debug, Serialize)]
pub struct LifetimeView {
    #[serde(flatten)]
    pub lifetime: crate::catalog::lifetimes::Lifetime,
    /// In words: `in 7h59m`, `idle 2h`, `protected`.
    pub summary: String,
}

/// A recovery that rebuilt an instance: from which snapshot, and when it took over.
#[derive(Debug, Serialize)]
pub struct Recovered {
    pub snapshot_id: Option<i64>,
    pub at: String,
}

/// The monitor's last word on an instance.
#[derive(Debug, Serialize)]
pub struct HealthView {
    pub state: String,
    pub checked_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// For an instance a recovery rebuilt: that recovery, and the first incarnation, whose
/// creation and clone lineage are the instance's own (the rebuilt row's are the recovery's).
fn incarnations(
    conn: &crate::catalog::db::Conn,
    i: &InstanceRow,
) -> Result<(Option<Recovered>, Option<InstanceRow>)> {
    let Some(mut prev) = instances::replaces(conn, i.id)? else {
        return Ok((None, None));
    };
    let recovered = Recovered {
        snapshot_id: i.source_snapshot_id,
        at: i.created_at.clone(),
    };
    // A chain of recoveries, each row replacing the one before; bounded against a cycle.
    for _ in 0..64 {
        match instances::replaces(conn, prev)? {
            Some(p) if p != prev => prev = p,
            _ => break,
        }
    }
    Ok((Some(recovered), Some(instances::get(conn, prev)?)))
}

fn view(ctx: &Ctx, i: InstanceRow) -> Result<InstanceView> {
    let conn = ctx.catalog.conn();
    let (recovered, first) = incarnations(conn, &i)?;
    let (created_at, source_instance, source_snapshot_id) = match first {
        Some(f) => (f.created_at, f.source_instance, f.source_snapshot_id),
        None => (
            i.created_at.clone(),
            i.source_instance.clone(),
            i.source_snapshot_id,
        ),
    };
    let kept = crate::catalog::snapshots::list(conn, Some(&i.name))?
        .iter()
        .filter(|s| s.instance_id == i.id && s.status == "available")
        .count();
    // A host that does not answer within the question timeout is said, not waited on.
    let (window, host_silent) = if kept > 0 {
        match crate::control::restore::pitr::window(ctx, &i) {
            Ok(w) => (Some(w), None),
            Err(e)
                if e.downcast_ref::<crate::control::base::error::Invalid>()
                    .is_some() =>
            {
                (None, None)
            }
            Err(e) => (None, Some(format!("{e:#}"))),
        }
    } else {
        (None, None)
    };
    let host = i.host_id.map(|id| hosts::get(conn, id)).transpose()?;
    let offsite = crate::control::offsite::shipping::offsite(ctx, &i)?;
    let recoverable = kept > 0 || crate::control::offsite::backups::has_backup(ctx, &i)?;
    let last = workflows::latest_for_instance(conn, i.id)?.map(|w| LastWorkflow {
        id: w.id,
        action: w.action,
        status: w.status,
    });
    let settings = crate::catalog::instance_settings::get(conn, i.id)?;
    let labels = crate::catalog::labels::of(conn, crate::catalog::labels::kind::INSTANCE, i.id)?;
    let last_drill = crate::catalog::drills::latest(conn, &i.name)?.0;
    let lifetime = crate::catalog::lifetimes::get(conn, i.id)?.map(|l| LifetimeView {
        summary: crate::control::instances::lifetimes::summary(&l, time::OffsetDateTime::now_utc()),
        lifetime: l,
    });
    let health = crate::catalog::health::get(conn, i.id)?
        .filter(|_| !status::put_away(&i.status))
        .map(|h| HealthView {
            state: h.state,
            checked_at: h.checked_at,
            first_error_at: h.first_error_at,
            detail: h.detail,
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
        recoverable,
        offsite,
        restorable_window: window,
        host_silent,
        created_at,
        archive_timeout_secs: i.archive_timeout_secs,
        last_workflow: last,
        source_instance,
        source_snapshot_id,
        recovered,
        maintenance_window: settings.maintenance_window,
        pending_class: settings.pending_class,
        snapshot_interval_mins: settings.snapshot_interval_mins,
        on_failure: settings.on_failure,
        health,
        labels,
        lifetime,
        last_drill,
    })
}

/// # Errors
/// Unknown instance.
pub fn describe(ctx: &Ctx, name: &str) -> Result<InstanceView> {
    let i = lookup::instance(ctx, name)?;
    view(ctx, i)
}

/// The live instances carrying every label of `labels` (`KEY=VALUE`; none: all).
///
/// # Errors
/// A bad label; the catalog fails.
pub fn list(ctx: &Ctx, labels: &[String]) -> Result<Vec<InstanceView>> {
    let wanted = crate::control::base::labels::parse(labels)?;
    let conn = ctx.catalog.conn();
    let mut out = Vec::new();
    for i in instances::list_live(conn)? {
        if crate::catalog::labels::matches(
            conn,
            crate::catalog::labels::kind::INSTANCE,
            i.id,
            &wanted,
        )? {
            out.push(view(ctx, i)?);
        }
    }
    Ok(out)
}
