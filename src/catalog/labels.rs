//! The `labels` table: key=value labels on instances, snapshots and hosts.

use super::db::{params, Conn as Connection};
use anyhow::Result;
use std::collections::BTreeMap;

/// What a label is on.
pub mod kind {
    pub const INSTANCE: &str = "instance";
    pub const SNAPSHOT: &str = "snapshot";
    pub const HOST: &str = "host";
}

/// Sets `labels` on `kind` `id` (a key given again takes the new value).
///
/// # Errors
/// The write fails.
pub fn set(conn: &Connection, kind: &str, id: i64, labels: &[(String, String)]) -> Result<()> {
    for (k, v) in labels {
        conn.execute(
            "INSERT INTO labels (kind, ref_id, key, value) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, ref_id, key) DO UPDATE SET value = excluded.value",
            params![kind, id, k, v],
        )?;
    }
    Ok(())
}

/// Takes label `key` off `kind` `id`.
///
/// # Errors
/// The write fails.
pub fn remove(conn: &Connection, kind: &str, id: i64, key: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM labels WHERE kind = ?1 AND ref_id = ?2 AND key = ?3",
        params![kind, id, key],
    )?;
    Ok(())
}

/// The labels of `kind` `id`.
///
/// # Errors
/// The query fails.
pub fn of(conn: &Connection, kind: &str, id: i64) -> Result<BTreeMap<String, String>> {
    Ok(conn
        .query_all(
            "SELECT key, value FROM labels WHERE kind = ?1 AND ref_id = ?2 ORDER BY key",
            params![kind, id],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
        )?
        .into_iter()
        .collect())
}

/// Whether `kind` `id` carries every one of `wanted`.
///
/// # Errors
/// The query fails.
pub fn matches(
    conn: &Connection,
    kind: &str,
    id: i64,
    wanted: &[(String, String)],
) -> Result<bool> {
    if wanted.is_empty() {
        return Ok(true);
    }
    let have = of(conn, kind, id)?;
    Ok(wanted.iter().all(|(k, v)| have.get(k) == Some(v)))
}

/// A recovered or resumed instance keeps the labels of the one it replaced.
///
/// # Errors
/// The write fails.
pub fn carry_over(conn: &Connection, from: i64, to: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO labels (kind, ref_id, key, value) SELECT kind, ?2, key, value FROM labels WHERE kind = 'instance' AND ref_id = ?1 ON CONFLICT (kind, ref_id, key) DO NOTHING",
        params![from, to],
    )?;
    Ok(())
}
