//! The `events` table: the user-visible history (created, deleted, failed step, ...).

use anyhow::Result;
use rusqlite::{params, Connection};
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

/// # Errors
/// The insert fails.
pub fn add(
    conn: &Connection,
    instance: Option<(i64, &str)>,
    workflow_id: Option<i64>,
    kind: &str,
    message: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO events (at, instance_id, instance_name, workflow_id, kind, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![super::now(), instance.map(|i| i.0), instance.map(|i| i.1), workflow_id, kind, message],
    )?;
    Ok(())
}

/// The newest `limit` events, oldest first, optionally for one instance name.
///
/// # Errors
/// The query fails.
pub fn list(conn: &Connection, instance: Option<&str>, limit: u32) -> Result<Vec<EventRow>> {
    let mut st = conn.prepare(
        "SELECT id, at, instance_name, workflow_id, kind, message FROM events
         WHERE (?1 IS NULL OR instance_name = ?1) ORDER BY id DESC LIMIT ?2",
    )?;
    let mut rows = st
        .query_map(params![instance, limit], |r| {
            Ok(EventRow {
                id: r.get(0)?,
                at: r.get(1)?,
                instance: r.get(2)?,
                workflow_id: r.get(3)?,
                kind: r.get(4)?,
                message: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.reverse();
    Ok(rows)
}
