//! The `schedules` table: actions on instances at a cron's times or once.

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::{Context, Result};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScheduleRow {
    pub id: i64,
    pub instance_id: i64,
    pub action: String,
    pub cron: Option<String>,
    pub at: Option<String>,
    pub paused: bool,
    /// When it is next due (RFC 3339, UTC); None once a one-shot has fired.
    pub next_run: Option<String>,
    pub last_run: Option<String>,
    pub last_workflow: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
}

const COLS: &str = "id, instance_id, action, cron, at, paused, next_run, last_run, last_workflow, last_error, created_at";

fn from_row(r: &Row) -> anyhow::Result<ScheduleRow> {
    Ok(ScheduleRow {
        id: r.get(0)?,
        instance_id: r.get(1)?,
        action: r.get(2)?,
        cron: r.get(3)?,
        at: r.get(4)?,
        paused: r.get(5)?,
        next_run: r.get(6)?,
        last_run: r.get(7)?,
        last_workflow: r.get(8)?,
        last_error: r.get(9)?,
        created_at: r.get(10)?,
    })
}

/// # Errors
/// The insert fails.
pub fn insert(conn: &Connection, s: &ScheduleRow) -> Result<i64> {
    conn.execute(
        "INSERT INTO schedules (instance_id, action, cron, at, paused, next_run, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![s.instance_id, s.action, s.cron, s.at, s.paused, s.next_run, s.created_at],
    )
    .context("adding a schedule")?;
    conn.last_insert_rowid()
}

/// # Errors
/// The query fails.
pub fn find(conn: &Connection, id: i64) -> Result<Option<ScheduleRow>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM schedules WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// Every schedule, oldest first.
///
/// # Errors
/// The query fails.
pub fn list(conn: &Connection) -> Result<Vec<ScheduleRow>> {
    let mut st = conn.prepare(&format!("SELECT {COLS} FROM schedules ORDER BY id"))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// # Errors
/// The delete fails.
pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM schedules WHERE id = ?1", [id])?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn set_paused(conn: &Connection, id: i64, paused: bool) -> Result<()> {
    conn.execute(
        "UPDATE schedules SET paused = ?2 WHERE id = ?1",
        params![id, paused],
    )?;
    Ok(())
}

/// Takes a due run: moves `next_run` from `due` to `next` only if it is still `due`, so that
/// of several sweeps or daemons at once exactly one fires it. Whether this one did.
///
/// # Errors
/// The update fails.
pub fn claim(conn: &Connection, id: i64, due: &str, next: Option<&str>, now: &str) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE schedules SET next_run = ?3, last_run = ?4 WHERE id = ?1 AND next_run = ?2",
        params![id, due, next, now],
    )? == 1)
}

/// Records what a fired run made (its workflow) or why it made nothing.
///
/// # Errors
/// The update fails.
pub fn record(
    conn: &Connection,
    id: i64,
    workflow: Option<i64>,
    error: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE schedules SET last_workflow = ?2, last_error = ?3 WHERE id = ?1",
        params![id, workflow, error],
    )?;
    Ok(())
}

/// A recovered instance keeps the schedules of the one it replaced.
///
/// # Errors
/// The update fails.
pub fn carry_over(conn: &Connection, from: i64, to: i64) -> Result<()> {
    conn.execute(
        "UPDATE schedules SET instance_id = ?2 WHERE instance_id = ?1",
        params![from, to],
    )?;
    Ok(())
}
