//! The `backups` table: host snapshots copied into repositories.

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::{Context, Result};
use serde::Serialize;

pub mod status {
    pub const CREATING: &str = "creating";
    pub const AVAILABLE: &str = "available";
    pub const FAILED: &str = "failed";
    pub const DELETED: &str = "deleted";
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BackupRow {
    pub id: i64,
    pub repository_id: i64,
    pub snapshot_id: i64,
    pub instance_id: i64,
    pub workflow_id: Option<i64>,
    pub status: String,
    /// The restic snapshot that holds it.
    pub restic_id: Option<String>,
    pub files: Option<u64>,
    pub bytes: Option<u64>,
    /// What it added to the repository after deduplication and compression.
    pub added_bytes: Option<u64>,
    /// Expiry never removes it.
    pub pinned: bool,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub deleted_at: Option<String>,
}

const COLS: &str = "id, repository_id, snapshot_id, instance_id, workflow_id, status, restic_id, files, bytes, added_bytes, pinned, created_at, finished_at, deleted_at";

fn from_row(r: &Row) -> anyhow::Result<BackupRow> {
    Ok(BackupRow {
        id: r.get(0)?,
        repository_id: r.get(1)?,
        snapshot_id: r.get(2)?,
        instance_id: r.get(3)?,
        workflow_id: r.get(4)?,
        status: r.get(5)?,
        restic_id: r.get(6)?,
        files: r.get(7)?,
        bytes: r.get(8)?,
        added_bytes: r.get(9)?,
        pinned: r.get(10)?,
        created_at: r.get(11)?,
        finished_at: r.get(12)?,
        deleted_at: r.get(13)?,
    })
}

/// # Errors
/// The insert fails.
pub fn insert(conn: &Connection, b: &BackupRow) -> Result<i64> {
    conn.execute(
        "INSERT INTO backups (repository_id, snapshot_id, instance_id, workflow_id, status, pinned, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![b.repository_id, b.snapshot_id, b.instance_id, b.workflow_id, b.status, b.pinned, b.created_at],
    )
    .context("adding a backup")?;
    conn.last_insert_rowid()
}

/// # Errors
/// The query fails.
pub fn find(conn: &Connection, id: i64) -> Result<Option<BackupRow>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM backups WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// Backups that exist or are being made, oldest first.
///
/// # Errors
/// The query fails.
pub fn list(conn: &Connection) -> Result<Vec<BackupRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM backups WHERE status NOT IN ('deleted', 'failed') ORDER BY id"
    ))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Records a backup stored in its repository.
///
/// # Errors
/// The update fails.
pub fn record_stored(
    conn: &Connection,
    id: i64,
    restic_id: &str,
    files: u64,
    bytes: u64,
    added: u64,
) -> Result<()> {
    conn.execute(
        "UPDATE backups SET status = 'available', restic_id = ?2, files = ?3, bytes = ?4, added_bytes = ?5, finished_at = ?6 WHERE id = ?1",
        params![id, restic_id, files, bytes, added, super::now()],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn set_status(conn: &Connection, id: i64, status: &str) -> Result<()> {
    let deleted_at = (status == status::DELETED).then(super::now);
    conn.execute(
        "UPDATE backups SET status = ?2, deleted_at = COALESCE(?3, deleted_at) WHERE id = ?1",
        params![id, status, deleted_at],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn set_pinned(conn: &Connection, id: i64, pinned: bool) -> Result<()> {
    conn.execute(
        "UPDATE backups SET pinned = ?2 WHERE id = ?1",
        params![id, pinned],
    )?;
    Ok(())
}

/// Marks the backups a failed workflow was making as failed (a backup is its last step, so
/// none of them was stored).
///
/// # Errors
/// The update fails.
pub fn fail_unfinished(conn: &Connection, workflow_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE backups SET status = 'failed' WHERE workflow_id = ?1 AND status = 'creating'",
        [workflow_id],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn set_workflow(conn: &Connection, id: i64, workflow_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE backups SET workflow_id = ?2 WHERE id = ?1",
        params![id, workflow_id],
    )?;
    Ok(())
}
