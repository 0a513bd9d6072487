//! The `backup_policies` table: where an instance's backups and logs go, when sweep backs it
//! up, and what expiry keeps.

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Policy {
    pub instance_id: i64,
    pub repository_id: i64,
    /// `HH:MM-HH:MM` (UTC) when sweep takes the periodic backup; None: none is taken.
    pub backup_window: Option<String>,
    /// The point-in-time window kept in the repository.
    pub retention_days: u32,
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
}

fn from_row(r: &Row) -> anyhow::Result<Policy> {
    Ok(Policy {
        instance_id: r.get(0)?,
        repository_id: r.get(1)?,
        backup_window: r.get(2)?,
        retention_days: r.get(3)?,
        keep_daily: r.get(4)?,
        keep_weekly: r.get(5)?,
        keep_monthly: r.get(6)?,
    })
}

const COLS: &str =
    "instance_id, repository_id, backup_window, retention_days, keep_daily, keep_weekly, keep_monthly";

/// # Errors
/// The query fails.
pub fn get(conn: &Connection, instance_id: i64) -> Result<Option<Policy>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM backup_policies WHERE instance_id = ?1"),
        [instance_id],
        from_row,
    )
    .optional()
}

/// # Errors
/// The query fails.
pub fn all(conn: &Connection) -> Result<Vec<Policy>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM backup_policies ORDER BY instance_id"
    ))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Sets (or replaces) an instance's policy.
///
/// # Errors
/// The write fails.
pub fn put(conn: &Connection, p: &Policy) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO backup_policies ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7){}",
            super::db::on_conflict_replace(COLS, &["instance_id"])
        ),
        params![
            p.instance_id,
            p.repository_id,
            p.backup_window,
            p.retention_days,
            p.keep_daily,
            p.keep_weekly,
            p.keep_monthly
        ],
    )?;
    Ok(())
}

/// A recovered instance goes on with the policy of the one it replaced.
///
/// # Errors
/// The write fails.
pub fn carry_over(conn: &Connection, from: i64, to: i64) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO backup_policies ({COLS}) SELECT ?2, repository_id, backup_window, retention_days, keep_daily, keep_weekly, keep_monthly FROM backup_policies WHERE instance_id = ?1{}",
            super::db::on_conflict_replace(COLS, &["instance_id"])
        ),
        params![from, to],
    )?;
    Ok(())
}
