//! Expiry in the off-host tier, as each instance's backup policy says: backups outside its
//! retention days and keep counts go (never a pinned one, never the newest, never the one
//! the point-in-time window starts from), then the shipped log files no kept backup needs,
//! then the repository's data nothing references any more.

use crate::catalog::backup_policies::{self, Policy};
use crate::catalog::backups::{self, status, BackupRow};
use crate::catalog::instances::{self as irows, InstanceRow};
use crate::catalog::{repositories, repository_logs, snapshots};
use crate::control::base::home::Ctx;
use crate::wire::logs::{LogListing, PruneSpec};
use crate::wire::Op;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// What expiry did for one instance.
#[derive(Debug, Clone, Serialize)]
pub struct Expired {
    pub instance: String,
    pub repository: String,
    /// The backups removed.
    pub backups: Vec<i64>,
    /// The shipped log files removed.
    pub log_files: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A backup as expiry weighs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aged {
    pub id: i64,
    pub taken: OffsetDateTime,
    pub pinned: bool,
}

/// Which backups `p` keeps at `now`, and the one the point-in-time window starts from (whose
/// logs onwards stay).
pub fn keep(all: &[Aged], p: &Policy, now: OffsetDateTime) -> (BTreeSet<i64>, Option<i64>) {
    let mut sorted = all.to_vec();
    sorted.sort_by_key(|b| std::cmp::Reverse(b.taken));
    let mut kept = BTreeSet::new();
    let cutoff = now - time::Duration::days(i64::from(p.retention_days));
    for b in &sorted {
        if b.pinned || b.taken >= cutoff {
            kept.insert(b.id);
        }
    }
    if let Some(newest) = sorted.first() {
        kept.insert(newest.id);
    }
    // The window reaches back the whole retention period only from a backup taken at or
    // before its start.
    let base = if p.retention_days == 0 {
        sorted.first().map(|b| b.id)
    } else {
        sorted
            .iter()
            .find(|b| b.taken < cutoff)
            .or(sorted.last())
            .map(|b| b.id)
    };
    kept.extend(base);
    // The newest backup of each of the last N days, ISO weeks and months that have one.
    let mut pick = |n: u32, period: &dyn Fn(OffsetDateTime) -> (i32, u32)| {
        let mut seen = BTreeSet::new();
        for b in &sorted {
            if seen.len() as u32 >= n {
                break;
            }
            if seen.insert(period(b.taken)) {
                kept.insert(b.id);
            }
        }
    };
    pick(p.keep_daily, &|t| (t.year(), t.ordinal().into()));
    pick(p.keep_weekly, &|t| {
        let (y, w, _) = t.to_iso_week_date();
        (y, w.into())
    });
    pick(p.keep_monthly, &|t| (t.year(), u32::from(t.month() as u8)));
    (kept, base)
}

/// Expires every instance that has a policy; one that fails is reported, the rest go on.
/// With `dry_run`, says what would go and removes nothing (as `restic forget --dry-run`).
///
/// # Errors
/// The catalog cannot be read.
pub fn expire_all(ctx: &Ctx, dry_run: bool) -> Result<Vec<Expired>> {
    let mut out = Vec::new();
    for p in backup_policies::all(ctx.catalog.conn())? {
        let inst = irows::get(ctx.catalog.conn(), p.instance_id)?;
        // One expiry per instance at a time, whichever sweep or daemon it is.
        let lease = format!("expire:{}", inst.id);
        let me = crate::workflow::executor::me();
        match crate::catalog::leases::under(ctx.catalog.conn(), &lease, &me, 120, || {
            expire(ctx, &inst, &p, OffsetDateTime::now_utc(), dry_run)
        }) {
            Ok(Some(Some(e))) => out.push(e),
            Ok(_) => {}
            Err(e) => out.push(Expired {
                instance: inst.name.clone(),
                repository: String::new(),
                backups: vec![],
                log_files: 0,
                error: Some(format!("{e:#}")),
            }),
        }
    }
    Ok(out)
}

/// Expires `inst`'s backups and logs in its policy's repository; None when nothing went.
/// With `dry_run`, reckons the same and removes nothing.
///
/// # Errors
/// The repository or a host to reckon the logs cannot be reached.
pub fn expire(
    ctx: &Ctx,
    inst: &InstanceRow,
    p: &Policy,
    now: OffsetDateTime,
    dry_run: bool,
) -> Result<Option<Expired>> {
    let conn = ctx.catalog.conn();
    let repo = repositories::list(conn)?
        .into_iter()
        .find(|r| r.id == p.repository_id)
        .context("the policy's repository is not in the catalog")?;
    let mine: Vec<(BackupRow, snapshots::SnapshotRow)> = backups::list(conn)?
        .into_iter()
        .filter(|b| {
            b.instance_id == inst.id && b.repository_id == repo.id && b.status == status::AVAILABLE
        })
        .filter_map(|b| {
            let s = snapshots::get(conn, b.snapshot_id).ok()?;
            Some((b, s))
        })
        .collect();
    let aged: Vec<Aged> = mine
        .iter()
        .filter_map(|(b, s)| {
            Some(Aged {
                id: b.id,
                taken: crate::times::parse(s.taken_at.as_deref()?)?,
                pinned: b.pinned,
            })
        })
        .collect();
    if aged.is_empty() {
        return Ok(None);
    }
    let (kept, base) = keep(&aged, p, now);
    let (store, key) = crate::repo::reach(&repo, &ctx.secrets)?;
    let mut gone = Vec::new();
    for (b, _) in mine.iter().filter(|(b, _)| !kept.contains(&b.id)) {
        if dry_run {
            gone.push(b.id);
            continue;
        }
        if let Some(id) = &b.restic_id {
            crate::repo::backups::forget(&store, &key, id).map_err(|e| {
                anyhow::anyhow!("removing backup {}: {}", b.id, crate::repo::brief(&e))
            })?;
        }
        backups::set_status(conn, b.id, status::DELETED)?;
        gone.push(b.id);
    }
    // Logs from the window's first backup on stay; a host running the engine says which
    // files come before it (only the engine orders them).
    let base_snap = mine
        .iter()
        .find(|(b, _)| Some(b.id) == base)
        .map(|(_, s)| s);
    let shipped = repository_logs::list(conn, repo.id, inst.id)?;
    let mut log_files = 0;
    if let (Some(start), false) = (
        base_snap.and_then(crate::control::restore::coverage::start_of),
        shipped.is_empty(),
    ) {
        let op = Op::LogPrune(PruneSpec {
            instance: inst.uid.clone(),
            engine: inst.engine.clone(),
            keep: vec![start],
            keep_snapshots: vec![],
            keep_all: false,
            given: Some(LogListing {
                files: shipped.iter().map(|l| l.file.clone()).collect(),
                marks: vec![],
            }),
        });
        let v = crate::control::hosts::reach::any_host_call(ctx, &inst.engine, &op, &[])?;
        let doomed: BTreeSet<String> = serde_json::from_value::<Vec<String>>(v["removed"].clone())?
            .into_iter()
            .collect();
        // A shipment goes once every file in it may.
        let mut by_shipment: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for l in &shipped {
            by_shipment
                .entry(l.restic_id.as_str())
                .or_default()
                .push(l.file.name.as_str());
        }
        for (shipment, files) in by_shipment {
            if shipment.is_empty() || !files.iter().all(|f| doomed.contains(*f)) {
                continue;
            }
            if dry_run {
                log_files += files.len();
                continue;
            }
            crate::repo::backups::forget(&store, &key, shipment).map_err(|e| {
                anyhow::anyhow!(
                    "removing log shipment {shipment}: {}",
                    crate::repo::brief(&e)
                )
            })?;
            let names: Vec<String> = files.iter().map(|f| f.to_string()).collect();
            repository_logs::forget(conn, repo.id, inst.id, &names)?;
            log_files += names.len();
        }
    }
    if gone.is_empty() && log_files == 0 {
        return Ok(None);
    }
    if !dry_run {
        crate::repo::prune(&store, &key).map_err(|e| {
            anyhow::anyhow!(
                "pruning repository {}: {}",
                repo.name,
                crate::repo::brief(&e)
            )
        })?;
    }
    Ok(Some(Expired {
        instance: inst.name.clone(),
        repository: repo.name,
        backups: gone,
        log_files,
        error: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(days: u32, daily: u32, weekly: u32, monthly: u32) -> Policy {
        Policy {
            instance_id: 1,
            repository_id: 1,
            backup_window: None,
            retention_days: days,
            keep_daily: daily,
            keep_weekly: weekly,
            keep_monthly: monthly,
        }
    }

    #[test]
    fn keeps_the_window_its_base_the_counts_the_pins_and_the_newest() {
        let now = crate::times::parse("2026-11-26T12:00:00Z").unwrap();
        // One backup a day for 90 days, at 02:30.
        let all: Vec<Aged> = (0..90)
            .map(|d| Aged {
                id: d,
                taken: crate::times::parse("2026-11-26T02:30:00Z").unwrap()
                    - time::Duration::days(d),
                pinned: d == 80,
            })
            .collect();
        let (kept, base) = keep(&all, &policy(7, 0, 0, 0), now);
        // Days 0..=6 are inside the week; day 7 is the base the window starts from.
        assert_eq!(base, Some(7));
        let expect: BTreeSet<i64> = (0..=7).chain([80]).collect();
        assert_eq!(kept, expect);
        let (kept, _) = keep(&all, &policy(1, 3, 2, 2), now);
        // Within a day (0), the base (1), dailies (0, 1, 2), weeklies and monthlies (the
        // newest of each), the pin.
        for id in [0, 1, 2, 80] {
            assert!(kept.contains(&id), "{id}: {kept:?}");
        }
        assert!(kept.len() <= 9, "{kept:?}");
        // Nothing asked: the newest and the pin only.
        let (kept, base) = keep(&all, &policy(0, 0, 0, 0), now);
        assert_eq!(kept, BTreeSet::from([0, 80]));
        assert_eq!(base, Some(0));
    }
}
