//! The `instance_settings` table: an instance's maintenance window and the class change
//! waiting for it, its automatic snapshots, and what the monitor does when it fails.

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::Result;
use serde::Serialize;

/// What the monitor does about a failed instance.
pub mod on_failure {
    pub const RECOVER: &str = "recover";
    pub const NOTIFY: &str = "notify";
}

/// Minutes between automatic snapshots when nothing else is said (what an RDS user expects
/// of point-in-time recovery: a recent base to replay from).
pub const DEFAULT_SNAPSHOT_INTERVAL_MINS: u32 = 15;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Settings {
    pub instance_id: i64,
    pub maintenance_window: Option<String>,
    pub pending_class: Option<String>,
    pub pending_since: Option<String>,
    pub snapshot_interval_mins: u32,
    pub on_failure: String,
}

impl Settings {
    pub fn defaults(instance_id: i64) -> Self {
        Self {
            instance_id,
            maintenance_window: None,
            pending_class: None,
            pending_since: None,
            snapshot_interval_mins: DEFAULT_SNAPSHOT_INTERVAL_MINS,
            on_failure: on_failure::RECOVER.into(),
        }
    }
}

const COLS: &str =
    "instance_id, maintenance_window, pending_class, pending_since, snapshot_interval_mins, on_failure";

fn from_row(r: &Row) -> anyhow::Result<Settings> {
    Ok(Settings {
        instance_id: r.get(0)?,
        maintenance_window: r.get(1)?,
        pending_class: r.get(2)?,
        pending_since: r.get(3)?,
        snapshot_interval_mins: r.get(4)?,
        on_failure: r.get(5)?,
    })
}

/// An instance's settings (the defaults when none were set).
///
/// # Errors
/// The query fails.
pub fn get(conn: &Connection, instance_id: i64) -> Result<Settings> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLS} FROM instance_settings WHERE instance_id = ?1"),
            [instance_id],
            from_row,
        )
        .optional()?
        .unwrap_or_else(|| Settings::defaults(instance_id)))
}

/// # Errors
/// The write fails.
pub fn put(conn: &Connection, s: &Settings) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO instance_settings ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6){}",
            super::db::on_conflict_replace(COLS, &["instance_id"])
        ),
        params![
            s.instance_id,
            s.maintenance_window,
            s.pending_class,
            s.pending_since,
            s.snapshot_interval_mins,
            s.on_failure
        ],
    )?;
    Ok(())
}

/// Clears a pending class change (it was applied, or the class it named is the class now).
///
/// # Errors
/// The update fails.
pub fn clear_pending(conn: &Connection, instance_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE instance_settings SET pending_class = NULL, pending_since = NULL WHERE instance_id = ?1",
        [instance_id],
    )?;
    Ok(())
}

/// A recovered or resumed instance keeps the settings of the one it replaced.
///
/// # Errors
/// The write fails.
pub fn carry_over(conn: &Connection, from: i64, to: i64) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO instance_settings ({COLS}) SELECT ?2, maintenance_window, pending_class, pending_since, snapshot_interval_mins, on_failure FROM instance_settings WHERE instance_id = ?1{}",
            super::db::on_conflict_replace(COLS, &["instance_id"])
        ),
        params![from, to],
    )?;
    Ok(())
}
