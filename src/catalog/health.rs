//! The `instance_health` table: what the monitor last saw of each instance, and the incident
//! it is handling (when its first error was seen, the recoveries started for it).

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::Result;
use serde::Serialize;

/// What the monitor concluded.
pub mod state {
    /// Every check passed.
    pub const HEALTHY: &str = "healthy";
    /// It serves, with a warning: its logs fail to reach the archive, or its host's disk is
    /// nearly full. People are told; nothing is rebuilt.
    pub const DEGRADED: &str = "degraded";
    /// A check failed; not yet a verdict (retries within the budget).
    pub const FAILING: &str = "failing";
    /// Failed past the budget; nothing started (yet).
    pub const FAILED: &str = "failed";
    /// A recovery the monitor started is under way.
    pub const RECOVERING: &str = "recovering";
    /// Failed, and left to people: the policy says notify, or recoveries kept failing.
    pub const NOTIFIED: &str = "notified";
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Health {
    pub instance_id: i64,
    pub state: String,
    pub checked_at: String,
    pub healthy_at: Option<String>,
    pub first_error_at: Option<String>,
    pub detail: Option<String>,
    pub failures: u32,
    pub recoveries: u32,
    pub workflow_id: Option<i64>,
}

const COLS: &str = "instance_id, state, checked_at, healthy_at, first_error_at, detail, failures, recoveries, workflow_id";

fn from_row(r: &Row) -> anyhow::Result<Health> {
    Ok(Health {
        instance_id: r.get(0)?,
        state: r.get(1)?,
        checked_at: r.get(2)?,
        healthy_at: r.get(3)?,
        first_error_at: r.get(4)?,
        detail: r.get(5)?,
        failures: r.get(6)?,
        recoveries: r.get(7)?,
        workflow_id: r.get(8)?,
    })
}

/// # Errors
/// The query fails.
pub fn get(conn: &Connection, instance_id: i64) -> Result<Option<Health>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM instance_health WHERE instance_id = ?1"),
        [instance_id],
        from_row,
    )
    .optional()
}

/// # Errors
/// The write fails.
pub fn put(conn: &Connection, h: &Health) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO instance_health ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9){}",
            super::db::on_conflict_replace(COLS, &["instance_id"])
        ),
        params![
            h.instance_id,
            h.state,
            h.checked_at,
            h.healthy_at,
            h.first_error_at,
            h.detail,
            h.failures,
            h.recoveries,
            h.workflow_id
        ],
    )?;
    Ok(())
}

/// The incident goes on under the instance that replaced the failed one (its recovery's
/// result is checked as the same incident, so a failed start counts against it).
///
/// # Errors
/// The write fails.
pub fn carry_over(conn: &Connection, from: i64, to: i64) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO instance_health ({COLS}) SELECT ?2, state, checked_at, healthy_at, first_error_at, detail, failures, recoveries, workflow_id FROM instance_health WHERE instance_id = ?1{}",
            super::db::on_conflict_replace(COLS, &["instance_id"])
        ),
        params![from, to],
    )?;
    Ok(())
}
