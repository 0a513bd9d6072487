//! The `instance_exposure` table: what losing an instance's data would lose, as the monitor
//! measured it on its last pass (the metrics' loss window reads it; a scrape never asks a
//! host).

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::Result;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposure {
    pub instance_id: i64,
    pub checked_at: String,
    /// The archive's newest commit.
    pub archived_through: Option<String>,
    /// The server holds commits past `archived_through`: at risk since then. None: nothing.
    pub at_risk_since: Option<String>,
}

const COLS: &str = "instance_id, checked_at, archived_through, at_risk_since";

fn from_row(r: &Row) -> anyhow::Result<Exposure> {
    Ok(Exposure {
        instance_id: r.get(0)?,
        checked_at: r.get(1)?,
        archived_through: r.get(2)?,
        at_risk_since: r.get(3)?,
    })
}

/// # Errors
/// The query fails.
pub fn get(conn: &Connection, instance_id: i64) -> Result<Option<Exposure>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM instance_exposure WHERE instance_id = ?1"),
        [instance_id],
        from_row,
    )
    .optional()
}

/// # Errors
/// The write fails.
pub fn put(conn: &Connection, e: &Exposure) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO instance_exposure ({COLS}) VALUES (?1, ?2, ?3, ?4){}",
            super::db::on_conflict_replace(COLS, &["instance_id"])
        ),
        params![
            e.instance_id,
            e.checked_at,
            e.archived_through,
            e.at_risk_since
        ],
    )?;
    Ok(())
}
