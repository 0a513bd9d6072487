//! The `repository_logs` and `repository_marks` tables: which log files of which instance a
//! repository holds, with their archive records, and the switch marks last shipped.

use super::db::{params, Conn as Connection, OptionalExtension};
use crate::wire::logs::{LogFile, Mark};
use anyhow::Result;

/// A shipped file: its record and the restic snapshot of its shipment.
#[derive(Debug, Clone, PartialEq)]
pub struct ShippedLog {
    pub file: LogFile,
    pub restic_id: String,
    pub shipped_at: String,
}

/// The files of `instance_id` that `repository_id` holds.
///
/// # Errors
/// The query fails or a record is unreadable.
pub fn list(conn: &Connection, repository_id: i64, instance_id: i64) -> Result<Vec<ShippedLog>> {
    let mut st = conn.prepare(
        "SELECT record, restic_id, shipped_at FROM repository_logs WHERE repository_id = ?1 AND instance_id = ?2 ORDER BY name",
    )?;
    let rows = st
        .query_map(params![repository_id, instance_id], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
            ))
        })?
        .collect::<anyhow::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(record, restic_id, shipped_at)| {
            Ok(ShippedLog {
                file: serde_json::from_str(&record)?,
                restic_id,
                shipped_at,
            })
        })
        .collect()
}

/// Records a shipment: its files and the marks as they were.
///
/// # Errors
/// The write fails.
pub fn record(
    conn: &Connection,
    repository_id: i64,
    instance_id: i64,
    files: &[LogFile],
    marks: &[Mark],
    restic_id: &str,
) -> Result<()> {
    let now = super::now();
    for f in files {
        conn.execute(
            "INSERT INTO repository_logs (repository_id, instance_id, name, record, restic_id, shipped_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (repository_id, instance_id, name) DO UPDATE SET record = excluded.record, restic_id = excluded.restic_id, shipped_at = excluded.shipped_at",
            params![repository_id, instance_id, f.name, serde_json::to_string(f)?, restic_id, now],
        )?;
    }
    conn.execute(
        "INSERT INTO repository_marks (repository_id, instance_id, marks, shipped_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (repository_id, instance_id) DO UPDATE SET marks = excluded.marks, shipped_at = excluded.shipped_at",
        params![repository_id, instance_id, serde_json::to_string(marks)?, now],
    )?;
    Ok(())
}

/// The marks last shipped, and when.
///
/// # Errors
/// The query fails.
pub fn marks(
    conn: &Connection,
    repository_id: i64,
    instance_id: i64,
) -> Result<(Vec<Mark>, Option<String>)> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT marks, shipped_at FROM repository_marks WHERE repository_id = ?1 AND instance_id = ?2",
            params![repository_id, instance_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((m, at)) => (serde_json::from_str(&m).unwrap_or_default(), Some(at)),
        None => (Vec::new(), None),
    })
}

/// Forgets shipped files (expiry removed their shipments).
///
/// # Errors
/// The write fails.
pub fn forget(
    conn: &Connection,
    repository_id: i64,
    instance_id: i64,
    names: &[String],
) -> Result<()> {
    for n in names {
        conn.execute(
            "DELETE FROM repository_logs WHERE repository_id = ?1 AND instance_id = ?2 AND name = ?3",
            params![repository_id, instance_id, n],
        )?;
    }
    Ok(())
}
