//! The log-range table (`wal_ranges`, its first name): the last seen extent of each
//! instance's log archive.

use super::db::{params, Conn as Connection, OptionalExtension};
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LogRange {
    pub segments: u64,
    pub first_segment: Option<String>,
    pub last_segment: Option<String>,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    /// The first segment missing from the chain, if any.
    pub gap: Option<String>,
    pub refreshed_at: String,
}

/// # Errors
/// The write fails.
pub fn put(conn: &Connection, instance_id: i64, r: &LogRange) -> Result<()> {
    conn.execute(
        "INSERT INTO wal_ranges (instance_id, segments, first_segment, last_segment, first_time, last_time, gap, refreshed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(instance_id) DO UPDATE SET segments = ?2, first_segment = ?3, last_segment = ?4, first_time = ?5,
             last_time = ?6, gap = ?7, refreshed_at = ?8",
        params![instance_id, r.segments, r.first_segment, r.last_segment, r.first_time, r.last_time, r.gap, r.refreshed_at],
    )?;
    Ok(())
}

/// # Errors
/// The query fails.
pub fn get(conn: &Connection, instance_id: i64) -> Result<Option<LogRange>> {
    conn
        .query_row(
            "SELECT segments, first_segment, last_segment, first_time, last_time, gap, refreshed_at FROM wal_ranges WHERE instance_id = ?1",
            [instance_id],
            |r| {
                Ok(LogRange {
                    segments: r.get(0)?,
                    first_segment: r.get(1)?,
                    last_segment: r.get(2)?,
                    first_time: r.get(3)?,
                    last_time: r.get(4)?,
                    gap: r.get(5)?,
                    refreshed_at: r.get(6)?,
                })
            },
        )
        .optional()
}
