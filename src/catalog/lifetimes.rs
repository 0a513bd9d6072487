//! How long an instance lives (`clone --expires-in`, `--delete-when-idle`, `protect`).

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::Result;
use serde::Serialize;

/// `protected_until` for "until someone says otherwise".
pub const FOR_GOOD: &str = "9999-12-31T23:59:59Z";

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Lifetime {
    #[serde(skip)]
    pub instance_id: i64,
    /// Deleted at this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Deleted after this many seconds without a client connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_limit_secs: Option<u64>,
    /// A final snapshot is taken before it is deleted.
    pub final_snapshot: bool,
    /// Kept until then whatever the above say ([`FOR_GOOD`]: until unprotected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected_until: Option<String>,
    /// When a client was last seen connected (or when it was made).
    pub last_active_at: String,
}

const COLS: &str =
    "instance_id, expires_at, idle_limit_secs, final_snapshot, protected_until, last_active_at";

fn from_row(r: &Row) -> anyhow::Result<Lifetime> {
    Ok(Lifetime {
        instance_id: r.get(0)?,
        expires_at: r.get(1)?,
        idle_limit_secs: r.get(2)?,
        final_snapshot: r.get::<i64>(3)? != 0,
        protected_until: r.get(4)?,
        last_active_at: r.get(5)?,
    })
}

/// # Errors
/// The query fails.
pub fn get(conn: &Connection, instance_id: i64) -> Result<Option<Lifetime>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM instance_lifetimes WHERE instance_id = ?1"),
        [instance_id],
        from_row,
    )
    .optional()
}

/// Every lifetime recorded (of live instances and gone ones alike).
///
/// # Errors
/// The query fails.
pub fn all(conn: &Connection) -> Result<Vec<Lifetime>> {
    conn.query_all(
        &format!("SELECT {COLS} FROM instance_lifetimes ORDER BY instance_id"),
        [],
        from_row,
    )
}

/// # Errors
/// The write fails.
pub fn put(conn: &Connection, l: &Lifetime) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO instance_lifetimes ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6){}",
            super::db::on_conflict_replace(COLS, &["instance_id"])
        ),
        params![
            l.instance_id,
            l.expires_at,
            l.idle_limit_secs,
            i64::from(l.final_snapshot),
            l.protected_until,
            l.last_active_at
        ],
    )?;
    Ok(())
}

/// Gives a new instance the lifetime asked for it, if any.
///
/// # Errors
/// The write fails.
pub fn put_for(conn: &Connection, instance_id: i64, asked: Option<&Lifetime>) -> Result<()> {
    match asked {
        Some(l) => put(
            conn,
            &Lifetime {
                instance_id,
                ..l.clone()
            },
        ),
        None => Ok(()),
    }
}

/// Instance `id` lives until deleted again.
///
/// # Errors
/// The write fails.
pub fn clear(conn: &Connection, id: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM instance_lifetimes WHERE instance_id = ?1",
        params![id],
    )?;
    Ok(())
}

/// Records that a client was connected to instance `id` at `at`.
///
/// # Errors
/// The write fails.
pub fn saw_activity(conn: &Connection, id: i64, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE instance_lifetimes SET last_active_at = ?2 WHERE instance_id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// A recovered instance lives as long as the one it replaced.
///
/// # Errors
/// The write fails.
pub fn carry_over(conn: &Connection, from: i64, to: i64) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO instance_lifetimes ({COLS}) SELECT ?2, expires_at, idle_limit_secs, final_snapshot, protected_until, last_active_at FROM instance_lifetimes WHERE instance_id = ?1{}",
            super::db::on_conflict_replace(COLS, &["instance_id"])
        ),
        params![from, to],
    )?;
    Ok(())
}
