//! Automatic snapshots: every running instance gets a host-tier snapshot each
//! `--snapshot-interval` minutes (15 unless told otherwise), so a restore replays minutes of
//! log, not days; and their retention, so host disks do not fill: every automatic snapshot
//! of the last `keep_hours`, then the newest of each day for `keep_days`. Snapshots people
//! took are never expired here, and neither is an instance's newest.

use crate::catalog::instance_settings;
use crate::catalog::instances::{self as irows, status as istatus};
use crate::catalog::snapshots::{self, status, SnapshotRow};
use crate::control::base::home::Ctx;
use crate::control::daemon::periodic::queue_once;
use crate::control::daemon::periodic::Queued;
use anyhow::Result;
use time::OffsetDateTime;

/// The kind automatic snapshots are recorded as.
pub const KIND: &str = snapshots::kind::AUTOMATIC;

/// Queues the automatic snapshots due now: where the newest snapshot (of any kind), or the
/// instance's creation, is at least its interval old.
///
/// # Errors
/// The catalog cannot be read.
pub fn queue_due(ctx: &mut Ctx, now: OffsetDateTime) -> Result<Vec<Queued>> {
    let mut out = Vec::new();
    for inst in irows::list_live(ctx.catalog.conn())? {
        if inst.status != istatus::AVAILABLE {
            continue;
        }
        let every = instance_settings::get(ctx.catalog.conn(), inst.id)?.snapshot_interval_mins;
        if every == 0 || crate::control::planning::check_not_busy(ctx, &inst).is_err() {
            continue;
        }
        let newest = snapshots::list(ctx.catalog.conn(), Some(&inst.name))?
            .into_iter()
            .filter(|s| s.instance_id == inst.id)
            .filter(|s| s.status == status::AVAILABLE || s.status == status::CREATING)
            .filter_map(|s| crate::times::parse(&s.created_at))
            .max();
        let Some(since) = newest.or_else(|| crate::times::parse(&inst.created_at)) else {
            continue;
        };
        if now - since < time::Duration::minutes(i64::from(every)) {
            continue;
        }
        out.extend(queue_once(
            ctx,
            &format!("auto-snapshot:{}", inst.id),
            &inst.name,
            |ctx| {
                crate::control::restore::snapshots::plan_create_as(
                    ctx, &inst.name, KIND, None, false,
                )
                .map(|p| p.workflow_id)
            },
        )?);
    }
    Ok(out)
}

/// The automatic snapshots of one instance that retention drops: of `all` (its kept
/// snapshots, any kind), those automatic ones neither of the last `keep_hours` nor the
/// newest of their UTC day within `keep_days`; never the newest snapshot of all.
pub fn expired(
    all: &[SnapshotRow],
    now: OffsetDateTime,
    keep_hours: u32,
    keep_days: u32,
) -> Vec<i64> {
    let mut dated: Vec<(&SnapshotRow, OffsetDateTime)> = all
        .iter()
        .filter(|s| s.status == status::AVAILABLE)
        .filter_map(|s| crate::times::parse(&s.created_at).map(|t| (s, t)))
        .collect();
    dated.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
    let newest = dated.first().map(|(s, _)| s.id);
    let mut days_kept = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (s, t) in dated {
        if !snapshots::kind::expires(&s.kind) || Some(s.id) == newest {
            continue;
        }
        let age = now - t;
        if age < time::Duration::hours(i64::from(keep_hours)) {
            continue;
        }
        // Newest first: the first of each day seen is that day's newest.
        if age < time::Duration::days(i64::from(keep_days)) && days_kept.insert(t.date()) {
            continue;
        }
        out.push(s.id);
    }
    out
}

/// Plans deleting the automatic snapshots retention drops (one per instance a pass: each
/// deletion holds the instance while it runs).
///
/// # Errors
/// The catalog cannot be read.
pub fn expire_due(ctx: &mut Ctx, now: OffsetDateTime) -> Result<Vec<Queued>> {
    let keep = ctx.config.snapshots;
    let mut out = Vec::new();
    for inst in irows::list_live(ctx.catalog.conn())? {
        if crate::control::planning::check_not_busy(ctx, &inst).is_err() {
            continue;
        }
        let all: Vec<SnapshotRow> = snapshots::list(ctx.catalog.conn(), Some(&inst.name))?
            .into_iter()
            .filter(|s| s.instance_id == inst.id)
            .collect();
        let Some(&id) = expired(&all, now, keep.keep_hours, keep.keep_days).first() else {
            continue;
        };
        out.extend(queue_once(
            ctx,
            &format!("snapshot-retention:{}", inst.id),
            &inst.name,
            |ctx| {
                crate::control::restore::snapshots::plan_delete(ctx, id, false)
                    .map(|p| p.workflow_id)
            },
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(id: i64, kind: &str, at: OffsetDateTime) -> SnapshotRow {
        SnapshotRow {
            id,
            uid: format!("s{id}"),
            instance_id: 1,
            instance_name: "db".into(),
            host_id: Some(1),
            workflow_id: None,
            kind: kind.into(),
            tag: None,
            status: status::AVAILABLE.into(),
            engine: "postgres".into(),
            engine_version: None,
            backend: None,
            position: None,
            taken_at: None,
            size_bytes: None,
            files: None,
            shared_files: None,
            new_bytes: None,
            created_at: at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap(),
            deleted_at: None,
            consistent_at: None,
            branch: None,
        }
    }

    #[test]
    fn retention_keeps_recent_hours_then_one_a_day_and_never_a_persons() {
        let now = crate::times::parse("2026-11-26T12:00:00Z").unwrap();
        let h = |n: i64| now - time::Duration::hours(n);
        let all = vec![
            snap(1, KIND, h(1)),
            snap(2, KIND, h(23)),
            // Yesterday morning and evening (beyond 24 h): only the evening one stays.
            snap(3, KIND, h(26)),
            snap(4, KIND, h(36)),
            // Ten days ago: beyond the 7 days.
            snap(5, KIND, h(240)),
            snap(6, "manual", h(300)),
        ];
        assert_eq!(expired(&all, now, 24, 7), vec![4, 5]);
        // The newest is kept even when it is old.
        let lone = vec![snap(7, KIND, h(1000)), snap(8, KIND, h(2000))];
        assert_eq!(expired(&lone, now, 24, 7), vec![8]);
    }
}
