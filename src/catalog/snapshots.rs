//! The `snapshots` table: each snapshot's instance, host, position, size and state.

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use crate::wire::SnapshotInfo;
use anyhow::{Context, Result};
use serde::Serialize;

/// Snapshot states.
pub mod status {
    pub const CREATING: &str = "creating";
    pub const AVAILABLE: &str = "available";
    pub const DELETING: &str = "deleting";
    pub const DELETED: &str = "deleted";
    pub const FAILED: &str = "failed";
    /// Kept on a host removed with `host remove --force`.
    pub const LOST: &str = "lost";
}

/// Why a snapshot exists.
pub mod kind {
    /// A person asked (`snapshot create`, a backup's own).
    pub const MANUAL: &str = "manual";
    /// Taken every snapshot interval; retention expires it.
    pub const AUTOMATIC: &str = "automatic";
    /// What an instance was when it was deleted or hibernated.
    pub const FINAL: &str = "final";
    /// The one a new instance (created or cloned) ends its making with.
    pub const BASE: &str = "base";
    /// Of what a recovery or an in-place restore brought back (or moved).
    pub const RECOVERY: &str = "recovery";

    /// Taken by dbctl on its own, so automatic retention and `delete` remove it; the
    /// others stay until a person deletes them.
    pub fn expires(kind: &str) -> bool {
        kind == AUTOMATIC || kind == BASE
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SnapshotRow {
    pub id: i64,
    /// The snapshot's name in its host's store.
    pub uid: String,
    pub instance_id: i64,
    pub instance_name: String,
    pub host_id: Option<i64>,
    pub workflow_id: Option<i64>,
    /// manual, final (taken by delete), clone (taken by clone --fresh) or automatic (taken
    /// every snapshot interval, expired by snapshot retention).
    pub kind: String,
    pub tag: Option<String>,
    pub status: String,
    pub engine: String,
    pub engine_version: Option<String>,
    pub backend: Option<String>,
    /// The engine position it restores to, as the engine writes it.
    pub position: Option<String>,
    pub taken_at: Option<String>,
    pub size_bytes: Option<u64>,
    pub files: Option<u64>,
    pub shared_files: Option<u64>,
    /// What it added on disk: the bytes of the files it does not share with the one before.
    pub new_bytes: Option<u64>,
    pub created_at: String,
    pub deleted_at: Option<String>,
    /// When it became consistent: the earliest time it restores to.
    pub consistent_at: Option<String>,
    /// The log branch it was taken on.
    pub branch: Option<u32>,
}

const COLS: &str = "id, uid, instance_id, instance_name, host_id, workflow_id, kind, tag, status, engine, engine_version, backend, position, taken_at, size_bytes, files, shared_files, created_at, deleted_at, consistent_at, log_branch, new_bytes";

fn from_row(r: &Row) -> anyhow::Result<SnapshotRow> {
    Ok(SnapshotRow {
        id: r.get(0)?,
        uid: r.get(1)?,
        instance_id: r.get(2)?,
        instance_name: r.get(3)?,
        host_id: r.get(4)?,
        workflow_id: r.get(5)?,
        kind: r.get(6)?,
        tag: r.get(7)?,
        status: r.get(8)?,
        engine: r.get(9)?,
        engine_version: r.get(10)?,
        backend: r.get(11)?,
        position: r.get(12)?,
        taken_at: r.get(13)?,
        size_bytes: r.get(14)?,
        files: r.get(15)?,
        shared_files: r.get(16)?,
        created_at: r.get(17)?,
        deleted_at: r.get(18)?,
        consistent_at: r.get(19)?,
        branch: r.get(20)?,
        new_bytes: r.get(21)?,
    })
}

/// # Errors
/// The insert fails.
pub fn insert(conn: &Connection, s: &SnapshotRow) -> Result<i64> {
    conn.execute(
        "INSERT INTO snapshots (uid, instance_id, instance_name, host_id, workflow_id, kind, tag, status, engine, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![s.uid, s.instance_id, s.instance_name, s.host_id, s.workflow_id, s.kind, s.tag, s.status, s.engine, s.created_at],
    )
    .context("adding a snapshot")?;
    conn.last_insert_rowid()
}

/// # Errors
/// The query fails.
pub fn find(conn: &Connection, id: i64) -> Result<Option<SnapshotRow>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM snapshots WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// # Errors
/// No snapshot has that id.
pub fn get(conn: &Connection, id: i64) -> Result<SnapshotRow> {
    find(conn, id)?.with_context(|| format!("snapshot {id} is not in the catalog"))
}

/// Snapshots that exist or are being made (not deleted, not failed: a failed one was undone),
/// newest first, optionally of one instance name.
///
/// # Errors
/// The query fails.
pub fn list(conn: &Connection, instance: Option<&str>) -> Result<Vec<SnapshotRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM snapshots WHERE status NOT IN ('deleted', 'failed') AND (CAST(?1 AS TEXT) IS NULL OR instance_name = ?1) ORDER BY id DESC"
    ))?;
    let rows = st
        .query_map(params![instance], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The newest available snapshot of an instance.
///
/// # Errors
/// The query fails.
pub fn newest_available(conn: &Connection, instance_id: i64) -> Result<Option<SnapshotRow>> {
    conn
        .query_row(
            &format!("SELECT {COLS} FROM snapshots WHERE instance_id = ?1 AND status = 'available' ORDER BY taken_at DESC, id DESC LIMIT 1"),
            [instance_id],
            from_row,
        )
        .optional()
}

/// Snapshots kept on a host.
///
/// # Errors
/// The query fails.
pub fn on_host(conn: &Connection, host_id: i64) -> Result<Vec<SnapshotRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM snapshots WHERE host_id = ?1 AND status NOT IN ('deleted', 'failed') ORDER BY id"
    ))?;
    let rows = st
        .query_map([host_id], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Records what the host reported when the snapshot was taken.
///
/// # Errors
/// The update fails.
pub fn record_taken(conn: &Connection, id: i64, info: &SnapshotInfo) -> Result<()> {
    conn.execute(
        "UPDATE snapshots SET status = 'available', engine_version = ?2, backend = ?3, position = ?4, taken_at = ?5,
             size_bytes = ?6, files = ?7, shared_files = ?8, consistent_at = ?9, log_branch = ?10, new_bytes = ?11 WHERE id = ?1",
        params![
            id,
            info.engine_version,
            info.backend,
            info.position,
            info.taken_at,
            info.size_bytes,
            info.files,
            info.shared_files,
            info.consistent_at,
            info.branch,
            info.new_bytes
        ],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn set_status(conn: &Connection, id: i64, status: &str) -> Result<()> {
    let deleted_at = (status == status::DELETED).then(super::now);
    conn.execute(
        "UPDATE snapshots SET status = ?2, deleted_at = COALESCE(?3, deleted_at) WHERE id = ?1",
        params![id, status, deleted_at],
    )?;
    Ok(())
}

/// Marks the snapshots a failed workflow was making as failed. With `undone` (every undo
/// succeeded) that includes those it finished: their undo removed them from the host.
///
/// # Errors
/// The update fails.
pub fn fail_unfinished(conn: &Connection, workflow_id: i64, undone: bool) -> Result<()> {
    let sql = if undone {
        "UPDATE snapshots SET status = 'failed' WHERE workflow_id = ?1 AND status IN ('creating', 'available')"
    } else {
        "UPDATE snapshots SET status = 'failed' WHERE workflow_id = ?1 AND status = 'creating'"
    };
    conn.execute(sql, [workflow_id])?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn set_workflow(conn: &Connection, id: i64, workflow_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE snapshots SET workflow_id = ?2 WHERE id = ?1",
        params![id, workflow_id],
    )?;
    Ok(())
}

/// # Errors
/// The query fails.
pub fn by_uid(conn: &Connection, uid: &str) -> Result<Option<SnapshotRow>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM snapshots WHERE uid = ?1"),
        [uid],
        from_row,
    )
    .optional()
}

/// Keeps snapshot rows in step with their instance's name.
///
/// # Errors
/// The update fails.
pub fn rename_instance(conn: &Connection, instance_id: i64, name: &str) -> Result<()> {
    conn.execute(
        "UPDATE snapshots SET instance_name = ?2 WHERE instance_id = ?1",
        params![instance_id, name],
    )?;
    Ok(())
}
