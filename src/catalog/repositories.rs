//! The `repositories` table: the off-host tier's repositories, by name.

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RepositoryRow {
    pub id: i64,
    pub name: String,
    /// Where it is: `file:///PATH` or `s3://BUCKET/PREFIX`.
    pub url: String,
    /// An S3 repository's endpoint and region.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// The repository's own id (its config file's), which a second home checks on import.
    pub repo_id: String,
    pub created_at: String,
}

fn from_row(r: &Row) -> anyhow::Result<RepositoryRow> {
    Ok(RepositoryRow {
        id: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        endpoint: r.get(3)?,
        region: r.get(4)?,
        repo_id: r.get(5)?,
        created_at: r.get(6)?,
    })
}

/// # Errors
/// The name is taken or the insert fails.
pub fn insert(conn: &Connection, r: &RepositoryRow) -> Result<i64> {
    conn.execute(
        "INSERT INTO repositories (name, url, endpoint, region, repo_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![r.name, r.url, r.endpoint, r.region, r.repo_id, r.created_at],
    )?;
    conn.last_insert_rowid()
}

/// # Errors
/// The query fails.
pub fn get(conn: &Connection, name: &str) -> Result<Option<RepositoryRow>> {
    conn
        .query_row(
            "SELECT id, name, url, endpoint, region, repo_id, created_at FROM repositories WHERE name = ?1",
            params![name],
            from_row,
        )
        .optional()
}

/// # Errors
/// The query fails.
pub fn list(conn: &Connection) -> Result<Vec<RepositoryRow>> {
    let mut st =
        conn.prepare("SELECT id, name, url, endpoint, region, repo_id, created_at FROM repositories ORDER BY name")?;
    let rows = st
        .query_map([], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Forgets a repository: its backups leave the catalog, so do its shipped logs' records and
/// the policies naming it, then its row.
///
/// # Errors
/// The writes fail.
pub fn forget(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM backups WHERE repository_id = ?1", [id])?;
    conn.execute("DELETE FROM repository_logs WHERE repository_id = ?1", [id])?;
    conn.execute(
        "DELETE FROM repository_marks WHERE repository_id = ?1",
        [id],
    )?;
    conn.execute("DELETE FROM backup_policies WHERE repository_id = ?1", [id])?;
    conn.execute("DELETE FROM repositories WHERE id = ?1", [id])?;
    Ok(())
}
