//! Restore drills and what each found (`dbctl drill`).

use super::db::{params, Conn as Connection, Row};
use anyhow::Result;
use serde::Serialize;

pub mod status {
    pub const RUNNING: &str = "running";
    pub const PASSED: &str = "passed";
    pub const FAILED: &str = "failed";
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillRow {
    pub id: i64,
    #[serde(skip)]
    pub instance_id: i64,
    pub instance: String,
    pub tier: String,
    pub target: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub rto_secs: Option<f64>,
    pub rpo_secs: Option<f64>,
    pub scratch: Option<String>,
    /// What the checks found (`CheckReport` as JSON).
    #[serde(skip)]
    pub report: Option<String>,
    pub error: Option<String>,
}

const COLS: &str = "id, instance_id, instance_name, tier, target, status, started_at, finished_at, rto_secs, rpo_secs, scratch, report, error";

fn from_row(r: &Row) -> anyhow::Result<DrillRow> {
    Ok(DrillRow {
        id: r.get(0)?,
        instance_id: r.get(1)?,
        instance: r.get(2)?,
        tier: r.get(3)?,
        target: r.get(4)?,
        status: r.get(5)?,
        started_at: r.get(6)?,
        finished_at: r.get(7)?,
        rto_secs: r.get(8)?,
        rpo_secs: r.get(9)?,
        scratch: r.get(10)?,
        report: r.get(11)?,
        error: r.get(12)?,
    })
}

/// Records a drill as started; its id.
///
/// # Errors
/// The write fails.
pub fn start(
    conn: &Connection,
    instance: (i64, &str),
    tier: &str,
    target: &str,
    at: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO drills (instance_id, instance_name, tier, target, status, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![instance.0, instance.1, tier, target, status::RUNNING, at],
    )?;
    conn.last_insert_rowid()
}

/// # Errors
/// The write fails.
pub fn set_scratch(conn: &Connection, id: i64, scratch: &str) -> Result<()> {
    conn.execute(
        "UPDATE drills SET scratch = ?2 WHERE id = ?1",
        params![id, scratch],
    )?;
    Ok(())
}

/// How a drill ended.
pub struct Ending<'a> {
    pub status: &'a str,
    pub at: &'a str,
    pub rto_secs: Option<f64>,
    pub rpo_secs: Option<f64>,
    pub report: Option<String>,
    pub error: Option<&'a str>,
}

/// # Errors
/// The write fails.
pub fn finish(conn: &Connection, id: i64, e: &Ending) -> Result<()> {
    conn.execute(
        "UPDATE drills SET status = ?2, finished_at = ?3, rto_secs = ?4, rpo_secs = ?5, report = ?6, error = ?7 WHERE id = ?1",
        params![id, e.status, e.at, e.rto_secs, e.rpo_secs, e.report, e.error],
    )?;
    Ok(())
}

/// Drills, newest first; of the instances named `instance` only, when given.
///
/// # Errors
/// The query fails.
pub fn list(conn: &Connection, instance: Option<&str>) -> Result<Vec<DrillRow>> {
    conn.query_all(
        &format!(
            "SELECT {COLS} FROM drills WHERE (CAST(?1 AS TEXT) IS NULL OR instance_name = ?1) ORDER BY id DESC"
        ),
        params![instance],
        from_row,
    )
}

/// The newest drill of the instances named `name`, and the newest that passed.
///
/// # Errors
/// The query fails.
pub fn latest(conn: &Connection, name: &str) -> Result<(Option<DrillRow>, Option<DrillRow>)> {
    let all = list(conn, Some(name))?;
    let passed = all.iter().find(|d| d.status == status::PASSED).cloned();
    Ok((all.into_iter().next(), passed))
}
