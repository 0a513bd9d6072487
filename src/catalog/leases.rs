//! The `leases` table: who does a piece of the control plane's own work now. A lease is
//! taken if it is free, expired, or already the taker's; it lapses by itself when its
//! holder dies.

use super::db::{params, Conn as Connection};
use anyhow::Result;

/// Takes lease `name` for `holder` for `ttl_secs`; whether it got it.
///
/// # Errors
/// The write fails.
pub fn take(conn: &Connection, name: &str, holder: &str, ttl_secs: u32) -> Result<bool> {
    // By the database's clock, as the expiry is judged (`julianday('now')` there).
    let now =
        time::OffsetDateTime::parse(&conn.now()?, &time::format_description::well_known::Rfc3339)?;
    let expires = (now + time::Duration::seconds(i64::from(ttl_secs)))
        .format(&time::format_description::well_known::Rfc3339)?;
    // One statement: of several takers at once, SQLite lets exactly one write.
    let n = conn.execute(
        "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET holder = ?2, expires_at = ?3
         WHERE leases.holder = ?2 OR julianday(leases.expires_at) < julianday('now')",
        params![name, holder, expires],
    )?;
    Ok(n == 1)
}

/// Lets lease `name` go, if `holder` has it.
///
/// # Errors
/// The write fails.
pub fn release(conn: &Connection, name: &str, holder: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
        params![name, holder],
    )?;
    Ok(())
}

/// Runs `work` under lease `name` if it can be taken (None when another holds it), letting
/// go afterwards.
///
/// # Errors
/// The lease cannot be written; `work`'s own error.
pub fn under<T>(
    conn: &Connection,
    name: &str,
    holder: &str,
    ttl_secs: u32,
    work: impl FnOnce() -> Result<T>,
) -> Result<Option<T>> {
    if !take(conn, name, holder, ttl_secs)? {
        return Ok(None);
    }
    let out = work();
    release(conn, name, holder)?;
    out.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_until_it_lets_go_or_lapses() {
        let cat = crate::catalog::Catalog::open_in_memory().unwrap();
        let conn = cat.conn();
        assert!(take(conn, "ship:1", "a", 30).unwrap());
        assert!(!take(conn, "ship:1", "b", 30).unwrap());
        assert!(
            take(conn, "ship:1", "a", 30).unwrap(),
            "its own holder renews it"
        );
        release(conn, "ship:1", "a").unwrap();
        assert!(take(conn, "ship:1", "b", 0).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(
            take(conn, "ship:1", "a", 30).unwrap(),
            "a lapsed lease is free"
        );
    }
}
