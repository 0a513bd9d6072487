//! The `events` table: the user-visible history (created, deleted, failed step, ...).

use super::db::{params, Conn as Connection};
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub id: i64,
    pub at: String,
    pub instance: Option<String>,
    pub workflow_id: Option<i64>,
    pub kind: String,
    pub message: String,
}

/// Every kind of event dbctl records, so `events --type` can refuse a kind that never is
/// (a typo would otherwise list nothing, as if nothing had happened).
pub const KINDS: &[&str] = &[
    // A workflow: asked for, and how it ended (each action's own word when it succeeded).
    "requested",
    "backed_up",
    "cloned",
    "created",
    "deleted",
    "hibernated",
    "modified",
    "rebooted",
    "recovered",
    "restored_in_place",
    "resumed",
    "snapshot_deleted",
    "snapshot_taken",
    "started",
    "stopped",
    "succeeded",
    "failed",
    "cancelled",
    "paused",
    "step_failed",
    "cleanup_failed",
    "replaced",
    "recovery_report",
    "endpoint_moved",
    "endpoint_hook_ran",
    "endpoint_hook_failed",
    "cloned_across_engines",
    "cross_engine_clone_failed",
    "repartitioned",
    // The monitor's verdicts and its hook.
    "health_healthy",
    "health_degraded",
    "health_failing",
    "health_failed",
    "health_recovering",
    "health_notified",
    "hook_failed",
    // Backups, logs, drills, schedules.
    "backup_deleted",
    "log_damaged",
    "drill_passed",
    "drill_failed",
    "scheduled",
    "schedule_failed",
    // Snapshots a host lost or holds again, data set aside by a rebuild.
    "snapshot_lost",
    "snapshot_found",
    "replaced_data_removed",
    // Lifetimes and labels.
    "instance_protected",
    "instance_expired",
    "labels_changed",
    // Hosts.
    "host_added",
    "host_removed",
    "host_key_changed",
    "lost",
];

/// # Errors
/// The insert fails.
pub fn add(
    conn: &Connection,
    instance: Option<(i64, &str)>,
    workflow_id: Option<i64>,
    kind: &str,
    message: &str,
) -> Result<()> {
    debug_assert!(KINDS.contains(&kind), "event kind `{kind}` is not in KINDS");
    conn.execute(
        "INSERT INTO events (at, instance_id, instance_name, workflow_id, kind, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![super::now(), instance.map(|i| i.0), instance.map(|i| i.1), workflow_id, kind, message],
    )?;
    Ok(())
}

/// Which events a listing shows.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    /// One instance name's.
    pub instance: Option<&'a str>,
    /// At or after this time (RFC 3339, UTC).
    pub since: Option<&'a str>,
    /// Of this kind.
    pub kind: Option<&'a str>,
    /// Newer than this event.
    pub after_id: Option<i64>,
}

/// The newest `limit` events `f` lets through, oldest first.
///
/// # Errors
/// The query fails.
pub fn list(conn: &Connection, f: &Filter, limit: u32) -> Result<Vec<EventRow>> {
    let mut st = conn.prepare(
        "SELECT id, at, instance_name, workflow_id, kind, message FROM events
         WHERE (CAST(?1 AS TEXT) IS NULL OR instance_name = ?1) AND (CAST(?2 AS TEXT) IS NULL OR julianday(at) >= julianday(?2))
           AND (CAST(?3 AS TEXT) IS NULL OR kind = ?3) AND (CAST(?4 AS BIGINT) IS NULL OR id > ?4)
         ORDER BY id DESC LIMIT ?5",
    )?;
    let mut rows = st
        .query_map(
            params![f.instance, f.since, f.kind, f.after_id, limit],
            |r| {
                Ok(EventRow {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    instance: r.get(2)?,
                    workflow_id: r.get(3)?,
                    kind: r.get(4)?,
                    message: r.get(5)?,
                })
            },
        )?
        .collect::<anyhow::Result<Vec<_>>>()?;
    rows.reverse();
    Ok(rows)
}

/// Removes the events recorded before `before` (RFC 3339); returns how many.
///
/// # Errors
/// The delete fails.
pub fn prune(conn: &Connection, before: &str) -> Result<usize> {
    // Compared as times: RFC 3339 text with and without fractions does not sort as one.
    conn.execute(
        "DELETE FROM events WHERE julianday(at) < julianday(?1)",
        [before],
    )
}

/// Whether any event of `kind` was ever recorded (a kind an older version wrote).
///
/// # Errors
/// The query fails.
pub fn kind_recorded(conn: &Connection, kind: &str) -> Result<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM events WHERE kind = ?1 LIMIT 1",
            params![kind],
            |r| r.get::<i64>(0),
        )?
        .is_some())
}
