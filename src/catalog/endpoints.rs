//! The `endpoints` table: stable names clients use, each pointing at an instance's address.

use super::db::{params, Conn as Connection, OptionalExtension};
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EndpointRow {
    pub name: String,
    pub instance_id: i64,
    pub address: String,
    pub port: u16,
    pub updated_at: String,
}

/// Points `name` at an instance's address; returns the address it pointed at before when that
/// differs (the endpoint moved).
///
/// # Errors
/// The write fails.
pub fn point(
    conn: &Connection,
    name: &str,
    instance_id: i64,
    address: &str,
    port: u16,
) -> Result<Option<String>> {
    let old = get(conn, name)?;
    conn.execute(
        "INSERT INTO endpoints (name, instance_id, address, port, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(name) DO UPDATE SET instance_id = ?2, address = ?3, port = ?4, updated_at = ?5",
        params![name, instance_id, address, port, super::now()],
    )?;
    Ok(old
        .filter(|o| o.address != address || o.port != port)
        .map(|o| join(&o.address, o.port)))
}

/// "address:port", with brackets for IPv6.
pub fn join(address: &str, port: u16) -> String {
    if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}

/// # Errors
/// The query fails.
pub fn get(conn: &Connection, name: &str) -> Result<Option<EndpointRow>> {
    conn.query_row(
        "SELECT name, instance_id, address, port, updated_at FROM endpoints WHERE name = ?1",
        [name],
        |r| {
            Ok(EndpointRow {
                name: r.get(0)?,
                instance_id: r.get(1)?,
                address: r.get(2)?,
                port: r.get(3)?,
                updated_at: r.get(4)?,
            })
        },
    )
    .optional()
}

/// # Errors
/// The query fails.
pub fn list(conn: &Connection) -> Result<Vec<EndpointRow>> {
    let mut st = conn.prepare(
        "SELECT name, instance_id, address, port, updated_at FROM endpoints ORDER BY name",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok(EndpointRow {
                name: r.get(0)?,
                instance_id: r.get(1)?,
                address: r.get(2)?,
                port: r.get(3)?,
                updated_at: r.get(4)?,
            })
        })?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// # Errors
/// The delete fails.
pub fn remove_for_instance(conn: &Connection, instance_id: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM endpoints WHERE instance_id = ?1",
        [instance_id],
    )?;
    Ok(())
}
