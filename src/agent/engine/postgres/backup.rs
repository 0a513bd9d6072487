//! Online snapshots through PostgreSQL's low-level backup API: pg_backup_start, a copy of the
//! live data directory (and of tablespaces outside it), pg_backup_stop, and the WAL the copy
//! needs to reach its consistent point.

use super::session::Session;
use crate::agent::engine::{HostCtx, SnapshotPoint};
use crate::agent::layout::InstanceMeta;
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Where a snapshot keeps the tablespaces that live outside the data directory: each
/// `pg_tblspc/<oid>` becomes a relative link into it, so that a copy made from the snapshot
/// has its own tablespaces and never shares the source's files.
const TABLESPACES: &str = "dbhost_tablespaces";

pub(super) fn online_snapshot(
    host: &HostCtx,
    name: &str,
    meta: &InstanceMeta,
    target: &Path,
    capture: &mut dyn FnMut(&Path) -> Result<()>,
) -> Result<SnapshotPoint> {
    let live = host.layout.data(name);
    let label: String = target
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| {
            let n = n.to_string_lossy();
            n.trim_end_matches(".partial")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect()
        })
        .unwrap_or_default();
    let slot = format!("dbhost_{}", label.to_ascii_lowercase())
        .chars()
        .take(63)
        .collect::<String>();
    let mut s = Session::open(host, meta)?;
    // A temporary slot keeps every WAL segment from here on until the session ends, so the
    // segments the snapshot needs cannot be recycled while it is taken, however busy.
    s.ask(&format!(
        "SELECT pg_create_physical_replication_slot('{slot}', true, true)"
    ))?;
    let start_lsn = s.ask(&format!("SELECT pg_backup_start('{label}', true)"))?;
    let start_wal = s.ask(&format!("SELECT pg_walfile_name('{start_lsn}')"))?;
    if let Err(e) = capture(&live).and_then(|_| capture_tablespaces(&live, target)) {
        let _ = s.ask("SELECT pg_backup_stop(false)");
        s.close();
        return Err(e);
    }
    let row = s.ask(
        "SELECT lsn || '|' || encode(convert_to(labelfile, 'UTF8'), 'hex') || '|' || encode(convert_to(coalesce(spcmapfile, ''), 'UTF8'), 'hex') FROM pg_backup_stop(false)",
    )?;
    let mut parts = row.split('|');
    let (Some(stop_lsn), Some(label_hex), Some(map_hex)) =
        (parts.next(), parts.next(), parts.next())
    else {
        bail!("unexpected answer from pg_backup_stop: {row:?}");
    };
    let stop_lsn = stop_lsn.to_string();
    let label_text = decode_hex(label_hex)?;
    // "START TIMELINE: 1"
    let timeline = label_text
        .lines()
        .find_map(|l| l.strip_prefix("START TIMELINE:"))
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1);
    std::fs::write(target.join("backup_label"), &label_text)?;
    // No tablespace_map: it would make a restored copy link back to the source's
    // tablespace directories. The snapshot holds their contents behind its own links.
    let _ = map_hex;
    // The segments from the backup's start through its stop (the slot still holds them), so
    // that recovery reaches the stop position from the snapshot alone; none after it, such
    // as the recycled segments PostgreSQL keeps under future names.
    // Only the server's own regular files: a link planted there is never followed.
    let stop_wal = super::wal::last_segment_for(&stop_lsn, timeline)
        .with_context(|| format!("bad stop position {stop_lsn:?}"))?;
    let wal_dir = target.join("pg_wal");
    std::fs::create_dir_all(&wal_dir)?;
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&live)?);
    for e in std::fs::read_dir(live.join("pg_wal"))?.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let regular = e.file_type().is_ok_and(|t| t.is_file());
        let wanted = regular
            && ((super::wal::is_segment(&n)
                && n[8..] >= start_wal[8..]
                && n[8..] <= stop_wal[8..])
                || n.ends_with(".history"));
        if wanted {
            if let Err(err) = crate::agent::storage::files::copy_file_owned(
                &e.path(),
                &wal_dir.join(&n),
                Some(owner),
            ) {
                s.close();
                return Err(err).with_context(|| format!("copying WAL segment {n}"));
            }
        }
    }
    s.close();
    host.run_as.chown(&target.join("backup_label"))?;
    host.run_as.chown(&wal_dir)?;
    for e in std::fs::read_dir(&wal_dir)?.flatten() {
        host.run_as.chown(&e.path())?;
    }
    Ok(SnapshotPoint {
        position: stop_lsn,
        branch: timeline,
    })
}

fn decode_hex(s: &str) -> Result<String> {
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .context("bad hex from pg_backup_stop")?;
    Ok(String::from_utf8(bytes)?)
}

/// Copies each tablespace that lives outside the live data directory into the snapshot at
/// `target` (under the backup API, like the rest) and points its `pg_tblspc` entry there.
/// Only a directory owned by the server's own OS user is followed: anything else in
/// `pg_tblspc` was not made by CREATE TABLESPACE.
fn capture_tablespaces(live: &Path, target: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(live)?.uid();
    let Ok(entries) = std::fs::read_dir(target.join("pg_tblspc")) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let oid = e.file_name().to_string_lossy().into_owned();
        if oid.is_empty() || !oid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if !e.file_type()?.is_symlink() {
            continue;
        }
        let rel = format!("pg_tblspc/{oid}");
        let to = std::fs::read_link(e.path())?;
        if crate::agent::links::stays_inside(&rel, &to) {
            continue;
        }
        let src = live
            .join("pg_tblspc")
            .join(&to)
            .canonicalize()
            .with_context(|| format!("tablespace {oid} at {}", to.display()))?;
        let meta = std::fs::symlink_metadata(&src)?;
        if !meta.is_dir() || meta.uid() != owner {
            bail!(
                "tablespace {oid} at {} is not a directory owned by the server's OS user; refusing to follow it",
                src.display()
            );
        }
        let dst = target.join(TABLESPACES).join(&oid);
        std::fs::create_dir_all(target.join(TABLESPACES))?;
        std::fs::set_permissions(
            target.join(TABLESPACES),
            std::fs::Permissions::from_mode(0o700),
        )?;
        crate::agent::storage::walk::copy_tree(
            &src,
            &dst,
            "",
            &|r: &str| r.split('/').any(|p| p.starts_with("pgsql_tmp")),
            None,
            &mut Default::default(),
            Some(owner),
        )
        .with_context(|| format!("copying tablespace {oid} from {}", src.display()))?;
        std::fs::remove_file(e.path())?;
        std::os::unix::fs::symlink(format!("../{TABLESPACES}/{oid}"), e.path())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pg_backup_stop_hex() {
        assert_eq!(decode_hex("4142").unwrap(), "AB");
        assert!(decode_hex("4").is_err());
    }
}
