//! Continuous archiving of the binary log. MariaDB has no archive_command: a shipper process
//! per instance (`dbhost binlog-ship`), started by dbhost with the server as the instance's
//! OS user in a session of its own, copies every closed binary log file into the host's log
//! archive (fsynced, checksummed, described) and closes the current one (`FLUSH BINARY LOGS`)
//! once a write in it is `archive_timeout` old. So the loss window is bounded by the host
//! alone, with no dbctl running anywhere. A file is archived only once the server has
//! moved past it in its index or closed it cleanly at shutdown (the in-use flag in its
//! header is clear): a half-written file is never stored as complete. The shipper ends,
//! after a last pass, when the server does; every start of the server starts it again.

use super::binlog::Binlog;
use super::{client, config, Mariadb};
use crate::agent::engine::HostCtx;
use crate::agent::logs::LogFormat;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the shipper looks.
const INTERVAL: Duration = Duration::from_millis(200);
/// Closed files kept in the data directory once archived (the rest are purged there).
const KEEP_ARCHIVED: usize = 2;

fn pid_file(host: &HostCtx, port: u16) -> PathBuf {
    host.sockets.join(format!("binlog-ship.{port}.pid"))
}

/// The binary log files the server lists, oldest first (names only).
fn index(data: &Path) -> Vec<String> {
    let base = config::log_base(data);
    let text = std::fs::read_to_string(data.join(format!("{base}.index"))).unwrap_or_default();
    text.lines()
        .filter_map(|l| Path::new(l.trim()).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| Binlog::default().in_chain(n))
        .collect()
}

/// Whether the server closed binary log `path` cleanly: the in-use flag of its first event
/// (the format description, right after the four magic bytes) is clear.
fn closed_cleanly(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4 + 19];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head[..4] == [0xfe, b'b', b'i', b'n'] && head[21] & 0x01 == 0)
}

/// Archives every closed file the archive does not hold yet; `alive`: whether the server
/// still runs (then its newest file is open, unless it closed it at shutdown). Returns the
/// closed files, oldest first.
fn ship_closed(host: &HostCtx, instance: &str, data: &Path, alive: bool) -> Result<Vec<String>> {
    let files = index(data);
    let archive = crate::agent::logs::dir(host.layout, instance);
    let mut closed = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let path = data.join(f);
        if last && (alive || !closed_cleanly(&path)) {
            break;
        }
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        if let Some(held) = crate::agent::logs::held(host.layout, instance, f) {
            // Never over another file of the same name: the chain stops here, loudly.
            anyhow::ensure!(
                held.size == size,
                "binary log {f} ({size} bytes) is not the archived file of that name ({} bytes); it is not archived, and the restorable window ends before it",
                held.size
            );
        } else if archive.join(format!("{f}.json")).exists() {
            anyhow::bail!("the archive's record of {f} is unreadable; not archiving over it");
        } else {
            let format = Binlog {
                reader: Mariadb::bin(host.cfg, "mariadb-binlog").ok(),
            };
            crate::agent::logs::archive(host.layout, instance, &path, f, &format)
                .with_context(|| format!("archiving {f}"))?;
        }
        closed.push(f.clone());
    }
    Ok(closed)
}

/// The shipper's loop (`dbhost binlog-ship`), as the instance's OS user: runs until the
/// server has stopped and its last file is shipped.
///
/// # Errors
/// The instance is unknown here, or archiving fails for good.
pub fn run(host: &HostCtx, instance: &str, port: u16) -> Result<()> {
    let data = host.layout.data(instance);
    let timeout = Duration::from_secs(u64::from(config::archive_timeout(&data)));
    let socket = Mariadb::socket(host, port);
    crate::fsutil::replace_file(
        &pid_file(host, port),
        format!("{}\n", std::process::id()).as_bytes(),
        0o600,
    )?;
    // What the newest file held when it was first seen, and since when it holds more.
    let mut watched: Option<(String, u64)> = None;
    let mut dirty_since: Option<Instant> = None;
    loop {
        let alive = Mariadb::server_pid(host, port).is_some();
        let closed = match ship_closed(host, instance, &data, alive) {
            Ok(c) => c,
            Err(e) => {
                // Tried again next time: a full disk or a file in flux is not the end.
                // Its stderr is the instance's log.
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "dbhost binlog-ship {instance}: {e:#}");
                Vec::new()
            }
        };
        if !alive {
            break;
        }
        if closed.len() > KEEP_ARCHIVED {
            let keep_from = &closed[closed.len() - KEEP_ARCHIVED];
            let _ = client::run(
                host,
                &socket,
                &format!("PURGE BINARY LOGS TO '{keep_from}'"),
            );
        }
        if let Some(active) = index(&data).last() {
            let size = std::fs::metadata(data.join(active)).map_or(0, |m| m.len());
            match &watched {
                Some((name, seen)) if name == active => {
                    if size > *seen && dirty_since.is_none() {
                        dirty_since = Some(Instant::now());
                    }
                }
                _ => {
                    // A file first seen by a shipper that just started may already hold
                    // writes from before: it counts as written now.
                    // One just switched to may hold a commit made in the instant between
                    // the switch and this look: that counts as a write too, or it would
                    // wait for the next write to be archived, however late that came.
                    let fresh = watched.is_some();
                    watched = Some((active.clone(), size));
                    dirty_since =
                        (!fresh || holds_transaction(&data.join(active))).then(Instant::now);
                }
            }
            if dirty_since.is_some_and(|t| t.elapsed() >= timeout)
                && client::run(host, &socket, "FLUSH BINARY LOGS").is_ok()
            {
                dirty_since = None;
            }
        }
        std::thread::sleep(INTERVAL);
    }
    let _ = std::fs::remove_file(pid_file(host, port));
    Ok(())
}

/// Whether a binary log file holds a transaction (a GTID event) rather than only the
/// events a file starts with. One that cannot be read through is taken to hold one.
fn holds_transaction(path: &Path) -> bool {
    /// The event that opens every transaction in MariaDB's binary log.
    const GTID_EVENT: u8 = 162;
    /// An event's common header: time (4), type (1), server id (4), size (4), end (4),
    /// flags (2).
    const HEADER: usize = 19;
    /// A file just switched to is a few hundred bytes; one this large has been written.
    const CAP: u64 = 1 << 20;
    let Ok(file) = std::fs::File::open(path) else {
        return true;
    };
    let mut bytes = Vec::new();
    if std::io::Read::read_to_end(&mut std::io::Read::take(file, CAP), &mut bytes).is_err()
        || bytes.len() as u64 >= CAP
    {
        return true;
    }
    let mut at = 4;
    while at + HEADER <= bytes.len() {
        let size = u32::from_le_bytes([
            bytes[at + 9],
            bytes[at + 10],
            bytes[at + 11],
            bytes[at + 12],
        ]) as usize;
        if bytes[at + 4] == GTID_EVENT || size < HEADER {
            return true;
        }
        at += size;
    }
    false
}

/// Starts the instance's shipper unless it runs.
///
/// # Errors
/// dbhost's own binary cannot be found or the process cannot be started.
pub(super) fn ensure(host: &HostCtx, instance: &str, port: u16) -> Result<()> {
    use std::os::unix::process::CommandExt;
    if shipper_pid(host, port).is_some() {
        return Ok(());
    }
    let exe = std::env::current_exe().context("locating dbhost's own binary")?;
    let log = std::fs::OpenOptions::new()
        .append(true)
        .open(host.layout.log(instance))
        .context("opening the instance's log")?;
    let mut cmd = host.run_as.command(&exe, &host.layout.root);
    cmd.arg("--root")
        .arg(&host.layout.root)
        .args(["binlog-ship", "--instance", instance])
        .stdout(std::process::Stdio::null())
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; the shipper outlives this call like the server.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    cmd.spawn().context("starting the binary log shipper")?;
    Ok(())
}

/// The running shipper's pid: the pid file's process, only if it is dbhost run by the
/// instance's OS user.
fn shipper_pid(host: &HostCtx, port: u16) -> Option<u32> {
    super::own_process(host, &pid_file(host, port), "dbhost")
}

/// Closes the current binary log and waits until the shipper has archived it; returns its
/// name.
///
/// # Errors
/// The server refuses, or the file is not archived within two minutes.
pub(super) fn switch(host: &HostCtx, instance: &str, port: u16) -> Result<String> {
    ensure(host, instance, port)?;
    let socket = Mariadb::socket(host, port);
    let status = client::run(host, &socket, "SHOW MASTER STATUS")?;
    let file = status
        .split('\t')
        .next()
        .filter(|f| Binlog::default().in_chain(f))
        .with_context(|| format!("unexpected SHOW MASTER STATUS: {status:?}"))?
        .to_string();
    client::run(host, &socket, "FLUSH BINARY LOGS")?;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if crate::agent::logs::holds(host.layout, instance, &file) {
            return Ok(file);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!(
        "binary log {file} was not archived within 120 s; see {}",
        host.layout.log(instance).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_counts_as_closed_only_with_its_in_use_flag_clear() {
        let d = tempfile::tempdir().unwrap();
        let mut head = vec![0xfe, b'b', b'i', b'n'];
        head.extend_from_slice(&[0u8; 19]);
        head[21] = 0x01;
        std::fs::write(d.path().join("open"), &head).unwrap();
        head[21] = 0x00;
        std::fs::write(d.path().join("closed"), &head).unwrap();
        std::fs::write(d.path().join("short"), [0xfe, b'b']).unwrap();
        assert!(!closed_cleanly(&d.path().join("open")));
        assert!(closed_cleanly(&d.path().join("closed")));
        assert!(!closed_cleanly(&d.path().join("short")));
        std::fs::write(
            d.path().join("binlog.index"),
            "./binlog.000001\n/x/binlog.000002\nbinlog.state\n",
        )
        .unwrap();
        assert_eq!(index(d.path()), ["binlog.000001", "binlog.000002"]);
    }

    /// An event of `kind` with `body` bytes after its common header.
    fn event(kind: u8, body: usize) -> Vec<u8> {
        let mut e = vec![0u8; 19 + body];
        e[4] = kind;
        e[9..13].copy_from_slice(&((19 + body) as u32).to_le_bytes());
        e
    }

    #[test]
    fn a_file_just_switched_to_holds_a_transaction_only_with_a_gtid_event() {
        let d = tempfile::tempdir().unwrap();
        // Format description (15), GTID list (163), binlog checkpoint (161): a fresh file.
        let mut fresh = vec![0xfe, b'b', b'i', b'n'];
        for (kind, body) in [(15, 237), (163, 12), (161, 20)] {
            fresh.extend(event(kind, body));
        }
        std::fs::write(d.path().join("fresh"), &fresh).unwrap();
        assert!(!holds_transaction(&d.path().join("fresh")));
        let mut written = fresh.clone();
        written.extend(event(162, 20));
        written.extend(event(2, 40));
        std::fs::write(d.path().join("written"), &written).unwrap();
        assert!(holds_transaction(&d.path().join("written")));
        // Unreadable is written: never a reason to wait.
        let mut broken = fresh;
        broken.extend(event(2, 0)[..4].iter().chain(&[0u8; 15]));
        std::fs::write(d.path().join("broken"), &broken).unwrap();
        assert!(holds_transaction(&d.path().join("broken")));
        assert!(holds_transaction(&d.path().join("absent")));
    }
}
