//! The `hosts` table: machines running dbhost, how to reach them, their pinned key and facts.

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use crate::wire::Facts;
use anyhow::{Context, Result};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct HostRow {
    pub id: i64,
    pub name: String,
    /// "local" (dbhost as a subprocess) or "ssh".
    pub transport: String,
    pub address: String,
    pub port: u16,
    pub ssh_user: Option<String>,
    pub identity: Option<String>,
    /// dbhost root for the local transport.
    pub root: Option<String>,
    pub host_key_type: Option<String>,
    pub host_key: Option<String>,
    pub facts: Facts,
    pub facts_at: String,
    pub created_at: String,
}

const COLS: &str = "id, name, transport, address, port, ssh_user, identity, root, host_key_type, host_key, facts, facts_at, created_at";

fn from_row(r: &Row) -> anyhow::Result<HostRow> {
    let facts: String = r.get(10)?;
    Ok(HostRow {
        id: r.get(0)?,
        name: r.get(1)?,
        transport: r.get(2)?,
        address: r.get(3)?,
        port: r.get(4)?,
        ssh_user: r.get(5)?,
        identity: r.get(6)?,
        root: r.get(7)?,
        host_key_type: r.get(8)?,
        host_key: r.get(9)?,
        facts: serde_json::from_str(&facts)
            .map_err(|e| anyhow::anyhow!("host facts in the catalog are not valid: {e}"))?,
        facts_at: r.get(11)?,
        created_at: r.get(12)?,
    })
}

/// # Errors
/// The name is taken or the insert fails.
pub fn insert(conn: &Connection, h: &HostRow) -> Result<i64> {
    conn.execute(
        "INSERT INTO hosts (name, transport, address, port, ssh_user, identity, root, host_key_type, host_key, facts, facts_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            h.name,
            h.transport,
            h.address,
            h.port,
            h.ssh_user,
            h.identity,
            h.root,
            h.host_key_type,
            h.host_key,
            serde_json::to_string(&h.facts)?,
            h.facts_at,
            h.created_at
        ],
    )
    .with_context(|| format!("adding host {}", h.name))?;
    conn.last_insert_rowid()
}

/// # Errors
/// The query fails.
pub fn by_name(conn: &Connection, name: &str) -> Result<Option<HostRow>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM hosts WHERE name = ?1"),
        [name],
        from_row,
    )
    .optional()
}

/// # Errors
/// No host has that id.
pub fn get(conn: &Connection, id: i64) -> Result<HostRow> {
    conn.query_row(
        &format!("SELECT {COLS} FROM hosts WHERE id = ?1"),
        [id],
        from_row,
    )
    .with_context(|| format!("host #{id} is not in the catalog"))
}

/// # Errors
/// The query fails.
pub fn list(conn: &Connection) -> Result<Vec<HostRow>> {
    let mut st = conn.prepare(&format!("SELECT {COLS} FROM hosts ORDER BY name"))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// # Errors
/// The update fails.
pub fn update_facts(conn: &Connection, id: i64, facts: &Facts, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE hosts SET facts = ?2, facts_at = ?3 WHERE id = ?1",
        // The snapshot listing is reconciled at once, not kept.
        params![
            id,
            serde_json::to_string(&Facts {
                snapshots: None,
                ..facts.clone()
            })?,
            at
        ],
    )?;
    Ok(())
}

/// Records that host `id` answered at `at` in `rtt_ms` (None: it did not answer then, and
/// its last contact stays).
///
/// # Errors
/// The update fails.
pub fn record_contact(conn: &Connection, id: i64, at: &str, rtt_ms: Option<u64>) -> Result<()> {
    if let Some(ms) = rtt_ms {
        conn.execute(
            "UPDATE hosts SET last_contact_at = ?2, rtt_ms = ?3 WHERE id = ?1",
            params![id, at, ms],
        )?;
    }
    Ok(())
}

/// When host `id` last answered, and in how long.
///
/// # Errors
/// The query fails.
pub fn contact(conn: &Connection, id: i64) -> Result<(Option<String>, Option<u64>)> {
    // A host not stored yet (`host add --dry-run`) was never contacted as far as we know.
    Ok(conn
        .query_opt(
            "SELECT last_contact_at, rtt_ms FROM hosts WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .unwrap_or((None, None)))
}

/// Pins a new SSH host key.
///
/// # Errors
/// The update fails.
pub fn set_host_key(conn: &Connection, id: i64, kind: &str, blob: &str) -> Result<()> {
    conn.execute(
        "UPDATE hosts SET host_key_type = ?2, host_key = ?3 WHERE id = ?1",
        params![id, kind, blob],
    )?;
    Ok(())
}

/// # Errors
/// The delete fails.
pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM hosts WHERE id = ?1", [id])?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! A host row for unit tests, with the facts they vary.
    use super::HostRow;
    use crate::wire::{EngineFact, Facts};

    pub(crate) fn host(name: &str, mem: u64, engines: &[&str]) -> HostRow {
        HostRow {
            id: 1,
            name: name.into(),
            transport: "local".into(),
            address: "127.0.0.1".into(),
            port: 22,
            ssh_user: None,
            identity: None,
            root: None,
            host_key_type: None,
            host_key: None,
            facts: Facts {
                version: "0".into(),
                protocol: crate::wire::PROTOCOL,
                hostname: name.into(),
                root: "/".into(),
                cpus: 2,
                memory_mb: mem,
                disk_free_gb: 100,
                engines: engines
                    .iter()
                    .map(|e| EngineFact {
                        name: (*e).into(),
                        version: "15".into(),
                        bin_dir: "/".into(),
                    })
                    .collect(),
                storage_backend: "plain".into(),
                listen_address: "*".into(),
                port_range: [1, 2],
                os_user: "postgres".into(),
                snapshots: None,
            },
            facts_at: String::new(),
            created_at: String::new(),
        }
    }
}
