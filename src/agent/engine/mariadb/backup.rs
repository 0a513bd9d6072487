//! Online snapshots through mariadb-backup (it copies InnoDB's files while it follows the
//! redo log, and holds BACKUP STAGE locks only briefly at the end), prepared at once so that
//! a restore is a copy; and what a restored copy needs before it serves: an account for its
//! own OS user and the GTID history of the snapshot it came from.

use super::{client, Mariadb};
use crate::agent::engine::{HostCtx, SnapshotPoint};
use crate::agent::layout::InstanceMeta;
use crate::agent::logs::LogFormat;
use crate::agent::osuser::run_checked;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// What mariadb-backup writes: the binary log file, offset and GTID position the copy is
/// consistent with.
const BINLOG_INFO: &str = "xtrabackup_binlog_info";
/// Left in a restored data directory until its first start has made it this instance's.
pub(super) const RESTORED_MARK: &str = ".dbhost-restored";

pub(super) fn online_snapshot(
    host: &HostCtx,
    name: &str,
    meta: &InstanceMeta,
    capture: &mut dyn FnMut(&Path) -> Result<()>,
) -> Result<SnapshotPoint> {
    // The backup is written where the instance's OS user may write (its instance directory),
    // prepared there, then captured into the snapshot store like a live data directory.
    let staging = host.layout.instance(name).join("backup-staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("removing {}", staging.display()))?;
    }
    std::fs::create_dir(&staging)?;
    std::fs::set_permissions(
        &staging,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )?;
    host.run_as.chown(&staging)?;
    let result = (|| {
        let tool = Mariadb::bin(host.cfg, "mariadb-backup")?;
        let mut backup = host.run_as.command(&tool, &staging);
        backup
            .arg("--no-defaults")
            .arg("--backup")
            .arg(format!("--target-dir={}", staging.display()))
            .arg(format!("--datadir={}", host.layout.data(name).display()))
            .arg(format!(
                "--socket={}",
                Mariadb::socket(host, meta.port).display()
            ))
            .arg(format!("--user={}", host.run_as.name));
        run_checked(&mut backup, "mariadb-backup --backup")?;
        let mut prepare = host.run_as.command(&tool, &staging);
        prepare
            .arg("--no-defaults")
            .arg("--prepare")
            .arg(format!("--target-dir={}", staging.display()));
        run_checked(&mut prepare, "mariadb-backup --prepare")?;
        let (file, offset, _gtid) = binlog_info(&staging)?;
        capture(&staging)?;
        Ok(point(&file, offset))
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// A snapshot where the storage takes an atomic copy of the live data directory (btrfs):
/// commits are blocked (`BACKUP STAGE START .. BLOCK_COMMIT`) only while the copy is made,
/// then released; InnoDB's crash recovery makes the copy consistent when it first starts.
/// The locks belong to a session whose server ends it after `suspend_timeout_secs` without
/// a word from dbhost (`wait_timeout`): if dbhost is gone or stuck, the server is suspended
/// no longer than that, and a snapshot whose session ended early is refused, never kept.
pub(super) fn atomic_snapshot(
    host: &HostCtx,
    name: &str,
    meta: &InstanceMeta,
    target: &Path,
    capture: &mut dyn FnMut(&Path) -> Result<()>,
) -> Result<SnapshotPoint> {
    let bound = host.cfg.suspend_timeout_secs.max(1);
    let mut s = client::Session::open(host, &Mariadb::socket(host, meta.port))?;
    let suspended = (|| -> Result<(String, String)> {
        s.ask(&format!(
            "SET SESSION wait_timeout = {bound}, SESSION interactive_timeout = {bound}"
        ))?;
        for stage in ["START", "FLUSH", "BLOCK_DDL", "BLOCK_COMMIT"] {
            s.ask(&format!("BACKUP STAGE {stage}"))?;
        }
        // Nothing commits now: the binary log position is the copy's.
        let status = s.ask("SHOW MASTER STATUS")?;
        let gtid = s.ask("SELECT @@gtid_binlog_pos")?;
        let mut cols = status.split('\t');
        let (Some(file), Some(offset)) = (cols.next(), cols.next()) else {
            bail!("unexpected SHOW MASTER STATUS: {status:?}");
        };
        Ok((format!("{file}\t{offset}"), gtid))
    })();
    let (at, gtid) = match suspended {
        Ok(p) => p,
        Err(e) => {
            s.close();
            return Err(e);
        }
    };
    if crate::failpoints::armed("hold", "suspend") {
        // Test-only: hold the locks well past the bound, as a dbhost that hangs would.
        std::thread::sleep(std::time::Duration::from_secs(u64::from(bound) * 5));
    }
    let captured = capture(&host.layout.data(name));
    let ended = s.ask("BACKUP STAGE END");
    s.close();
    captured?;
    ended.context(
        "the server ended the snapshot's session before the copy was made (it waited longer than suspend_timeout_secs); the copy is not consistent and was not kept",
    )?;
    let info = target.join(BINLOG_INFO);
    crate::fsutil::replace_file(&info, format!("{at}\t{gtid}\n").as_bytes(), 0o600)?;
    host.run_as.chown(&info)?;
    let (file, offset, _) = binlog_info(target)?;
    Ok(point(&file, offset))
}

/// A snapshot's point: its binary log position, on the branch its file is of.
fn point(file: &str, offset: u64) -> SnapshotPoint {
    SnapshotPoint {
        position: format!("{file}:{offset}"),
        branch: super::binlog::Binlog::default()
            .branch_of(file)
            .unwrap_or(1),
    }
}

/// The binary log file, offset and GTID position recorded in a prepared backup (or a copy
/// of one).
///
/// # Errors
/// The file is missing or not as mariadb-backup writes it.
pub(super) fn binlog_info(dir: &Path) -> Result<(String, u64, String)> {
    let p = dir.join(BINLOG_INFO);
    let text = crate::fsutil::read_small_no_follow(&p, 4096)
        .with_context(|| format!("the backup has no {BINLOG_INFO}: is the binary log on?"))?;
    // "binlog.000001\t848\t0-4242-3" (the GTID position may be empty, or several domains).
    let mut parts = text.trim_end_matches('\n').split('\t');
    let (Some(file), Some(offset)) = (parts.next(), parts.next()) else {
        bail!("unexpected {BINLOG_INFO}: {text:?}");
    };
    let gtid = parts.next().unwrap_or("").trim().to_string();
    let offset = offset
        .trim()
        .parse()
        .with_context(|| format!("bad offset in {BINLOG_INFO}: {text:?}"))?;
    if !super::binlog::Binlog::default().in_chain(file) {
        bail!("unexpected binary log file {file:?} in {BINLOG_INFO}");
    }
    if !gtid
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ',')
    {
        bail!("unexpected GTID position {gtid:?} in {BINLOG_INFO}");
    }
    Ok((file.to_string(), offset, gtid))
}

/// Makes a restored data directory this instance's, on its first start: the server runs
/// once with no network and no privilege checks (only its OS user can reach its socket),
/// gets a socket account for that user in place of the source's, and continues the
/// source's GTID history from the snapshot's position, in a binary log of its own.
pub(super) fn adopt(host: &HostCtx, data: &Path, log: &Path, port: u16) -> Result<()> {
    let (_, _, gtid) = binlog_info(data)?;
    Mariadb::launch_with(
        host,
        data,
        log,
        port,
        &["--skip-networking", "--skip-grant-tables"],
    )?;
    let socket = Mariadb::socket(host, port);
    let me = &host.run_as.name;
    let result = (|| {
        // Before the grant tables are loaded, every session may do anything: the list is
        // read then, and the rest runs in one session that loads them first (a second
        // session would have to log in by the accounts this one is about to make).
        let others = client::run(
            host,
            &socket,
            "SELECT user FROM mysql.global_priv WHERE host = 'localhost' AND user LIKE 'dbi\\_%'",
        )?;
        let mut sql = String::from("FLUSH PRIVILEGES;SET SESSION sql_log_bin = 0;");
        for other in others
            .lines()
            .map(str::trim)
            .filter(|u| !u.is_empty() && u != me)
        {
            if !other.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                bail!("unexpected account name {other:?} in the restored copy");
            }
            sql += &format!("DROP USER '{other}'@'localhost';");
        }
        sql += &format!(
            "CREATE USER IF NOT EXISTS '{me}'@'localhost' IDENTIFIED VIA unix_socket;\
             GRANT ALL PRIVILEGES ON *.* TO '{me}'@'localhost' WITH GRANT OPTION;\
             RESET MASTER;"
        );
        if !gtid.is_empty() {
            sql += &format!("SET GLOBAL gtid_binlog_state = '{gtid}';");
        }
        client::run(host, &socket, &sql)?;
        Ok(())
    })();
    let stopped = Mariadb::shut_down(host, port);
    result?;
    stopped?;
    std::fs::remove_file(data.join(RESTORED_MARK))?;
    Ok(())
}
