//! The `instances` table: each managed database server, its size, place, status and lease.

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::{Context, Result};
use serde::Serialize;

/// Lifecycle states an instance row can be in.
pub mod status {
    pub const CREATING: &str = "creating";
    pub const AVAILABLE: &str = "available";
    pub const DELETING: &str = "deleting";
    pub const FAILED: &str = "failed";
    pub const DELETED: &str = "deleted";
    /// Recovery made a new instance that took over its name and endpoint.
    pub const REPLACED: &str = "replaced";
    /// On a host removed with `host remove --force`: its data is out of reach.
    pub const LOST: &str = "lost";
    /// Its server stopped by request (`dbctl stop`), its data kept on its host.
    pub const STOPPED: &str = "stopped";
    /// Its server gone and its host's room free (`dbctl hibernate`): a final snapshot and the
    /// logs after it, on that host (and a backup, with a repository), bring it back.
    pub const HIBERNATED: &str = "hibernated";

    /// Put away by a person: no server to judge, so no health verdict is shown (the last
    /// one, from before, would say `healthy` of a server that is not running).
    pub fn put_away(status: &str) -> bool {
        status == STOPPED || status == HIBERNATED
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceRow {
    pub id: i64,
    pub name: String,
    /// The instance's name on its host (unique for all time, so a re-used name never collides).
    pub uid: String,
    pub engine: String,
    pub engine_version: Option<String>,
    pub class: String,
    pub cpus: f64,
    pub memory_mb: u64,
    pub max_connections: u32,
    pub storage_gb: u64,
    pub host_id: Option<i64>,
    pub port: Option<u16>,
    pub admin_user: String,
    pub status: String,
    /// The workflow allowed to change this instance now, if any.
    pub lease_workflow_id: Option<i64>,
    pub created_at: String,
    pub deleted_at: Option<String>,
    /// Lineage: the instance this one was cloned from, and from which snapshot.
    pub source_instance: Option<String>,
    pub source_snapshot_id: Option<i64>,
    /// Longest a commit may wait before its log is archived (the loss window's bound).
    pub archive_timeout_secs: u32,
}

const COLS: &str = "id, name, uid, engine, engine_version, class, cpus, memory_mb, max_connections, storage_gb, host_id, port, admin_user, status, lease_workflow_id, created_at, deleted_at, source_instance, source_snapshot_id, archive_timeout_secs";

fn from_row(r: &Row) -> anyhow::Result<InstanceRow> {
    Ok(InstanceRow {
        id: r.get(0)?,
        name: r.get(1)?,
        uid: r.get(2)?,
        engine: r.get(3)?,
        engine_version: r.get(4)?,
        class: r.get(5)?,
        cpus: r.get(6)?,
        memory_mb: r.get(7)?,
        max_connections: r.get(8)?,
        storage_gb: r.get(9)?,
        host_id: r.get(10)?,
        port: r.get(11)?,
        admin_user: r.get(12)?,
        status: r.get(13)?,
        lease_workflow_id: r.get(14)?,
        created_at: r.get(15)?,
        deleted_at: r.get(16)?,
        source_instance: r.get(17)?,
        source_snapshot_id: r.get(18)?,
        archive_timeout_secs: r.get(19)?,
    })
}

/// A new size (and archive timeout) for an instance, as `modify` applied it.
///
/// # Errors
/// The update fails.
pub fn set_size(
    conn: &Connection,
    id: i64,
    class: &str,
    size: &crate::wire::Size,
    archive_timeout_secs: u32,
) -> Result<()> {
    conn.execute(
        "UPDATE instances SET class = ?2, cpus = ?3, memory_mb = ?4, max_connections = ?5, archive_timeout_secs = ?6 WHERE id = ?1",
        params![id, class, size.cpus, size.memory_mb, size.max_connections, archive_timeout_secs],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn set_storage(conn: &Connection, id: i64, storage_gb: u64) -> Result<()> {
    conn.execute(
        "UPDATE instances SET storage_gb = ?2 WHERE id = ?1",
        params![id, storage_gb],
    )?;
    Ok(())
}

/// # Errors
/// The name is in use by a live instance, or the insert fails.
pub fn insert(conn: &Connection, i: &InstanceRow) -> Result<i64> {
    conn.execute(
        "INSERT INTO instances (name, uid, engine, engine_version, class, cpus, memory_mb, max_connections, storage_gb, host_id, port, admin_user, status, lease_workflow_id, created_at, source_instance, source_snapshot_id, archive_timeout_secs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        params![
            i.name, i.uid, i.engine, i.engine_version, i.class, i.cpus, i.memory_mb, i.max_connections,
            i.storage_gb, i.host_id, i.port, i.admin_user, i.status, i.lease_workflow_id, i.created_at,
            i.source_instance, i.source_snapshot_id, i.archive_timeout_secs
        ],
    )
    .with_context(|| format!("adding instance {}", i.name))?;
    conn.last_insert_rowid()
}

/// The live (not deleted) instance called `name`.
///
/// The instances a workflow holds (a recovery holds the old one and the one it makes).
///
/// # Errors
/// The query fails.
pub fn leased_by(conn: &Connection, workflow_id: i64) -> Result<Vec<InstanceRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM instances WHERE lease_workflow_id = ?1"
    ))?;
    let rows = st
        .query_map([workflow_id], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Whether any instance, live or gone, ever had this name.
///
/// # Errors
/// The query fails.
pub fn ever_named(conn: &Connection, name: &str) -> Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM instances WHERE name = ?1)",
        [name],
        |r| r.get(0),
    )
}

/// # Errors
/// The query fails.
pub fn live_by_name(conn: &Connection, name: &str) -> Result<Option<InstanceRow>> {
    conn
        .query_row(
            &format!("SELECT {COLS} FROM instances WHERE name = ?1 AND status NOT IN ('deleted', 'replaced', 'lost')"),
            [name],
            from_row,
        )
        .optional()
}

/// Whether the instance exists or is being made (not deleted, replaced or lost).
pub fn is_live(i: &InstanceRow) -> bool {
    ![status::DELETED, status::REPLACED, status::LOST].contains(&i.status.as_str())
}

/// The newest instance of this name lost with its host (`host remove --force`).
///
/// # Errors
/// The query fails.
pub fn lost_by_name(conn: &Connection, name: &str) -> Result<Option<InstanceRow>> {
    conn
        .query_row(
            &format!("SELECT {COLS} FROM instances WHERE name = ?1 AND status = 'lost' ORDER BY id DESC LIMIT 1"),
            [name],
            from_row,
        )
        .optional()
}

/// # Errors
/// No instance has that id.
pub fn get(conn: &Connection, id: i64) -> Result<InstanceRow> {
    conn.query_row(
        &format!("SELECT {COLS} FROM instances WHERE id = ?1"),
        [id],
        from_row,
    )
    .with_context(|| format!("instance #{id} is not in the catalog"))
}

/// Every instance row, gone ones too, oldest first.
///
/// # Errors
/// The query fails.
pub fn list_all(conn: &Connection) -> Result<Vec<InstanceRow>> {
    conn.query_all(
        &format!("SELECT {COLS} FROM instances ORDER BY id"),
        [],
        from_row,
    )
}

/// # Errors
/// The query fails.
pub fn list_live(conn: &Connection) -> Result<Vec<InstanceRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM instances WHERE status NOT IN ('deleted', 'replaced', 'lost') ORDER BY name"
    ))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Live instances placed on a host.
///
/// # Errors
/// The query fails.
pub fn live_on_host(conn: &Connection, host_id: i64) -> Result<Vec<InstanceRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM instances WHERE host_id = ?1 AND status NOT IN ('deleted', 'replaced', 'lost') ORDER BY name"
    ))?;
    let rows = st
        .query_map([host_id], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The instances that take room on a host: those on it, but a hibernated one (its data is
/// gone from there).
///
/// # Errors
/// The query fails.
pub fn holding_room_on(conn: &Connection, host_id: i64) -> Result<Vec<InstanceRow>> {
    Ok(live_on_host(conn, host_id)?
        .into_iter()
        .filter(|i| i.status != status::HIBERNATED)
        .collect())
}

/// # Errors
/// The update fails.
pub fn set_status(conn: &Connection, id: i64, status: &str) -> Result<()> {
    let deleted_at = (status == status::DELETED).then(super::now);
    conn.execute(
        "UPDATE instances SET status = ?2, deleted_at = COALESCE(?3, deleted_at) WHERE id = ?1",
        params![id, status, deleted_at],
    )?;
    Ok(())
}

/// Records what the host reported once the instance exists there.
///
/// # Errors
/// The update fails.
pub fn set_runtime(conn: &Connection, id: i64, port: u16, engine_version: &str) -> Result<()> {
    conn.execute(
        "UPDATE instances SET port = ?2, engine_version = ?3 WHERE id = ?1",
        params![id, port, engine_version],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn set_lease(conn: &Connection, id: i64, workflow: Option<i64>) -> Result<()> {
    conn.execute(
        "UPDATE instances SET lease_workflow_id = ?2 WHERE id = ?1",
        params![id, workflow],
    )?;
    Ok(())
}

/// Records that instance `id` took over from `replaced` (recovery).
///
/// # Errors
/// The update fails.
pub fn set_replaces(conn: &Connection, id: i64, replaced: i64) -> Result<()> {
    conn.execute(
        "UPDATE instances SET replaces_id = ?2 WHERE id = ?1",
        params![id, replaced],
    )?;
    Ok(())
}

/// The instance `id` took over from (by recovery), if any.
///
/// # Errors
/// The query fails.
pub fn replaces(conn: &Connection, id: i64) -> Result<Option<i64>> {
    conn.query_row(
        "SELECT replaces_id FROM instances WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
}

/// Gives an instance a new name (recovery hands the old name to its replacement).
///
/// # Errors
/// The name is in use by a live instance.
pub fn rename(conn: &Connection, id: i64, name: &str) -> Result<()> {
    conn.execute(
        "UPDATE instances SET name = ?2 WHERE id = ?1",
        params![id, name],
    )?;
    Ok(())
}

/// Releases every lease a workflow holds and marks the instances it was creating (other than
/// `except`) deleted: what a failed workflow leaves.
///
/// # Errors
/// The update fails.
pub fn release_workflow(
    conn: &Connection,
    workflow_id: i64,
    failed: bool,
    except: Option<i64>,
) -> Result<()> {
    if failed {
        conn.execute(
            "UPDATE instances SET status = 'deleted', deleted_at = ?3
             WHERE lease_workflow_id = ?1 AND status = 'creating' AND id IS DISTINCT FROM ?2",
            params![workflow_id, except, super::now()],
        )?;
    }
    conn.execute(
        "UPDATE instances SET lease_workflow_id = NULL WHERE lease_workflow_id = ?1",
        [workflow_id],
    )?;
    Ok(())
}
