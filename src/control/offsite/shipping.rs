//! Log shipping into repositories: each sweep copies every instance's newly archived log
//! files (with their records, and dbhost's switch marks) from its host into the repository
//! its backup policy names, through this machine. The off-host loss window is then the sweep
//! interval plus the archive timeout.

use crate::catalog::backup_policies::{self, Policy};
use crate::catalog::instances::{self as irows, status as istatus, InstanceRow};
use crate::catalog::{hosts, repositories, repository_logs};
use crate::control::base::home::Ctx;
use crate::transport;
use crate::wire::logs::{LogCheckSpec, LogExportSpec, LogListing};
use crate::wire::{InstanceRef, Op, Request};
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeSet;

/// How long a shipper holds an instance before another may take over (one that died).
const LEASE_SECS: u32 = 120;

/// What one instance's shipping did.
#[derive(Debug, Clone, Serialize)]
pub struct ShipReport {
    pub instance: String,
    pub repository: String,
    pub files: usize,
    pub bytes: u64,
    /// Files found not to match the checksum recorded when they were archived: not
    /// shipped, and holes in the restorable window from then on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub damaged: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Ships every instance that has a policy; one that fails is reported, the rest go on.
///
/// # Errors
/// The catalog cannot be read.
pub fn ship_all(ctx: &Ctx) -> Result<Vec<ShipReport>> {
    let mut out = Vec::new();
    for p in backup_policies::all(ctx.catalog.conn())? {
        let inst = irows::get(ctx.catalog.conn(), p.instance_id)?;
        if inst.host_id.is_none() || !live(&inst) {
            continue;
        }
        let repo = repository_name(ctx, &p)?;
        // One shipper per instance at a time, whichever sweep or daemon it is.
        let lease = format!("ship:{}", inst.id);
        let me = crate::workflow::executor::me();
        match crate::catalog::leases::under(ctx.catalog.conn(), &lease, &me, LEASE_SECS, || {
            ship(ctx, &inst, &p)
        }) {
            Ok(Some(Some(r))) => out.push(r),
            Ok(_) => {}
            // A replaced server's host may be gone for good: only its last files were
            // left to ship, and a host that does not answer has none to give.
            Err(_) if inst.status == istatus::REPLACED => {}
            Err(e) => out.push(ShipReport {
                instance: inst.name.clone(),
                repository: repo,
                files: 0,
                bytes: 0,
                damaged: Vec::new(),
                error: Some(format!("{e:#}")),
            }),
        }
    }
    Ok(out)
}

/// An instance whose host keeps an archive that grows or may still hold unshipped files (a
/// replaced one's last files are archived as recovery stops it).
fn live(i: &InstanceRow) -> bool {
    ![istatus::DELETED, istatus::CREATING, istatus::LOST].contains(&i.status.as_str())
}

fn repository_name(ctx: &Ctx, p: &Policy) -> Result<String> {
    Ok(repositories::list(ctx.catalog.conn())?
        .into_iter()
        .find(|r| r.id == p.repository_id)
        .map(|r| r.name)
        .unwrap_or_default())
}

/// Ships `inst`'s archived files the repository lacks; None when it lacked none.
///
/// # Errors
/// The host or the repository cannot be reached, or the stream is cut.
pub fn ship(ctx: &Ctx, inst: &InstanceRow, p: &Policy) -> Result<Option<ShipReport>> {
    let conn = ctx.catalog.conn();
    let repo = repositories::list(conn)?
        .into_iter()
        .find(|r| r.id == p.repository_id)
        .context("the policy's repository is not in the catalog")?;
    let host = hosts::get(conn, inst.host_id.context("no host")?)?;
    let listing: LogListing = serde_json::from_value(crate::control::hosts::reach::ask(
        &host,
        Op::LogList(InstanceRef {
            instance: inst.uid.clone(),
        }),
    )?)?;
    let have: BTreeSet<String> = repository_logs::list(conn, repo.id, inst.id)?
        .into_iter()
        .map(|l| l.file.name)
        .collect();
    let mut new: Vec<_> = listing
        .files
        .iter()
        .filter(|f| !have.contains(&f.name))
        .cloned()
        .collect();
    // Each file is read back against the checksum it was archived with before it goes: a
    // file damaged on the host since is never shipped as if it were good.
    let damaged = check(ctx, inst, &host, &new)?;
    new.retain(|f| !damaged.contains(&f.name));
    let (old_marks, _) = repository_logs::marks(conn, repo.id, inst.id)?;
    if new.is_empty() && !damaged.is_empty() {
        return Ok(Some(ShipReport {
            instance: inst.name.clone(),
            repository: repo.name,
            files: 0,
            bytes: 0,
            damaged,
            error: None,
        }));
    }
    if new.is_empty() {
        if old_marks != listing.marks {
            repository_logs::record(conn, repo.id, inst.id, &[], &listing.marks, "")?;
        }
        return Ok(None);
    }
    let names: Vec<String> = new.iter().map(|f| f.name.clone()).collect();
    let (store, key) = crate::repo::reach(&repo, &ctx.secrets)?;
    let t = transport::for_host(&host)
        .map_err(|e| crate::control::hosts::reach::explain_for(&host, e))?;
    let mut export = t
        .open_bulk(&Request::new(
            format!("ship-{:016x}", rand::random::<u64>()),
            Op::LogExport(LogExportSpec {
                instance: inst.uid.clone(),
                engine: inst.engine.clone(),
                from: None,
                names: Some(names.clone()),
            }),
        ))
        .map_err(|e| crate::control::hosts::reach::explain_for(&host, e))?;
    let shipped = crate::repo::logs::archive(
        &store,
        &key,
        (&inst.name, &inst.uid),
        &names,
        &listing.marks,
        export.reader(),
        &mut |_| {},
    );
    let exported = export.finish(&mut |_| {});
    let shipped = match (shipped, exported) {
        (Ok(s), Ok(_)) => s,
        (_, Err(e)) => return Err(crate::control::hosts::reach::explain_for(&host, e)),
        (Err(e), Ok(_)) => anyhow::bail!(
            "shipping logs into repository {}: {}",
            repo.name,
            crate::repo::brief(&e)
        ),
    };
    repository_logs::record(conn, repo.id, inst.id, &new, &listing.marks, &shipped.id)?;
    Ok(Some(ShipReport {
        instance: inst.name.clone(),
        repository: repo.name,
        files: new.len(),
        bytes: shipped.bytes,
        damaged,
        error: None,
    }))
}

/// Has `inst`'s host read `files` back against their records; returns (and records as an
/// event) those found damaged.
///
/// # Errors
/// The host does not answer or cannot read its archive.
fn check(
    ctx: &Ctx,
    inst: &InstanceRow,
    host: &crate::catalog::hosts::HostRow,
    files: &[crate::wire::logs::LogFile],
) -> Result<Vec<String>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let v = crate::control::hosts::reach::ask(
        host,
        Op::LogCheck(LogCheckSpec {
            instance: inst.uid.clone(),
            names: files.iter().map(|f| f.name.clone()).collect(),
        }),
    )?;
    let damaged: Vec<String> = serde_json::from_value(v["damaged"].clone())?;
    if !damaged.is_empty() {
        crate::catalog::events::add(
            ctx.catalog.conn(),
            Some((inst.id, &inst.name)),
            None,
            "log_damaged",
            &format!(
                "archived log {} of {} on host {} no longer matches the checksum recorded when it was archived: not shipped; its restorable window has a hole there",
                damaged.join(", "),
                inst.name,
                host.name
            ),
        )?;
    }
    Ok(damaged)
}

/// Where an instance stands in the off-host tier, for `describe` and `repository check`.
#[derive(Debug, Clone, Serialize)]
pub struct Offsite {
    pub repository: String,
    pub backup_window: Option<String>,
    pub retention_days: u32,
    /// When its newest backup there was taken.
    pub last_backup_at: Option<String>,
    /// The repository holds every commit made before this: the newest commit in the log
    /// files shipped, or a later switch mark.
    pub logs_through: Option<String>,
    /// Seconds from `logs_through` to now: the off-host loss window if the host died now.
    pub log_lag_secs: Option<i64>,
}

/// `inst`'s place in the off-host tier (None without a policy).
///
/// # Errors
/// The catalog fails.
pub fn offsite(ctx: &Ctx, inst: &InstanceRow) -> Result<Option<Offsite>> {
    let conn = ctx.catalog.conn();
    let Some(p) = backup_policies::get(conn, inst.id)? else {
        return Ok(None);
    };
    // Across its history: a recovered or resumed instance goes on from what the instances
    // it replaced left in the repository.
    let history: Vec<i64> = crate::control::restore::coverage::incarnations(ctx, inst)?
        .iter()
        .map(|i| i.id)
        .collect();
    let last_backup_at = crate::catalog::backups::list(conn)?
        .into_iter()
        .filter(|b| {
            history.contains(&b.instance_id)
                && b.repository_id == p.repository_id
                && b.status == crate::catalog::backups::status::AVAILABLE
        })
        .filter_map(|b| {
            crate::catalog::snapshots::get(conn, b.snapshot_id)
                .ok()?
                .taken_at
        })
        .max();
    let parse = |t: &str| crate::times::parse(t);
    let mut times: Vec<String> = Vec::new();
    for id in &history {
        let logs = repository_logs::list(conn, p.repository_id, *id)?;
        let (marks, _) = repository_logs::marks(conn, p.repository_id, *id)?;
        let shipped: BTreeSet<&str> = logs.iter().map(|l| l.file.name.as_str()).collect();
        times.extend(logs.iter().filter_map(|l| l.file.last_commit.clone()));
        times.extend(
            marks
                .iter()
                .filter(|m| shipped.contains(m.segment.as_str()))
                .map(|m| m.before.clone()),
        );
    }
    let through = times
        .iter()
        .filter_map(|t| parse(t).map(|v| (v, t.clone())))
        .max_by_key(|(v, _)| *v);
    Ok(Some(Offsite {
        repository: repository_name(ctx, &p)?,
        backup_window: p.backup_window.clone(),
        retention_days: p.retention_days,
        last_backup_at,
        log_lag_secs: through.as_ref().map(|(v, _)| {
            (time::OffsetDateTime::now_utc() - *v)
                .whole_seconds()
                .max(0)
        }),
        logs_through: through.map(|(_, t)| t),
    }))
}
