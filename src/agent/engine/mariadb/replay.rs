//! Point-in-time replay for a restored copy: the binary log files dbhost placed in the copy
//! (checked against the archive on the way) are read by `mariadb-binlog` from the snapshot's
//! position to the target and applied by the `mariadb` client, on the server started with no
//! network listener; only then does it serve. Binary log times have whole seconds: a time
//! target takes every transaction stamped at or before its second.

use super::binlog::Binlog;
use super::{backup, Mariadb};
use crate::agent::engine::HostCtx;
use crate::agent::logs::LogFormat;
use crate::wire::{RecoverySpec, Target};
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;
use std::process::Stdio;

/// Replays the placed files in `data`'s replay directory onto the server on `port`.
///
/// # Errors
/// A file is missing, a tool fails, or replay ends before the target.
pub(super) fn replay(
    host: &HostCtx,
    data: &Path,
    port: u16,
    recovery: &RecoverySpec,
) -> Result<()> {
    let format = Binlog::default();
    let dir = Mariadb.replay_dir(data);
    let (start_file, start_offset, _) = backup::binlog_info(data)?;
    // Only the snapshot's branch: files of a later one (an in-place restore's) start again
    // from 1 and go on from another point, never from the end of this one.
    let branch = format.branch_of(&start_file);
    let mut placed: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| format.in_chain(n) && format.branch_of(n) == branch)
        .collect();
    placed.sort_by_key(|n| format.file_order(n));
    let last = match &recovery.target {
        Target::Position(p) => format
            .file_of(p, 1)
            .with_context(|| format!("bad binary log position {p:?}"))?,
        _ => placed.last().cloned().unwrap_or_else(|| start_file.clone()),
    };
    // Every file from the snapshot's through the target's, none missing.
    let mut files = Vec::new();
    let mut f = start_file.clone();
    loop {
        if !placed.contains(&f) {
            bail!("binary log {f} is missing from the archive; the copy cannot reach its target");
        }
        files.push(f.clone());
        if f == last {
            break;
        }
        f = format.next_file(&f).context("no next binary log")?;
        if format
            .compare(&format!("{f}:0"), &format!("{last}:0"))
            .is_gt()
        {
            bail!("the target {last} is before the snapshot's {start_file}");
        }
    }
    let mut reader = host
        .run_as
        .command(&Mariadb::bin(host.cfg, "mariadb-binlog")?, &dir);
    reader
        .env("TZ", "UTC")
        .arg("--no-defaults")
        .arg(format!("--start-position={start_offset}"));
    match &recovery.target {
        Target::Position(p) => {
            let (_, end) = p.rsplit_once(':').context("bad binary log position")?;
            reader.arg(format!("--stop-position={end}"));
        }
        Target::Time(t) => {
            reader.arg(format!("--stop-datetime={}", stop_datetime(t)?));
        }
        Target::Latest => {}
    }
    reader
        .args(files.iter().map(|f| dir.join(f)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut reading = reader.spawn().context("starting mariadb-binlog")?;
    let stream = reading.stdout.take().context("mariadb-binlog stdout")?;
    // Its messages are read as they come: unread, a full pipe would stop it while the
    // client waits for its output.
    let messages = reading.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut said = String::new();
            let _ = e.read_to_string(&mut said);
            said
        })
    });
    let mut applier = host
        .run_as
        .command(&Mariadb::bin(host.cfg, "mariadb")?, &host.layout.root);
    applier
        .arg("--no-defaults")
        .arg("--protocol=socket")
        .arg(format!(
            "--socket={}",
            Mariadb::socket(host, port).display()
        ))
        .arg(format!("--user={}", host.run_as.name))
        .arg("--binary-mode")
        .arg("--max-allowed-packet=1073741824")
        .stdin(Stdio::from(stream))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let applied = applier.output();
    if applied.is_err() {
        // Nothing reads its output any more.
        let _ = reading.kill();
    }
    let applied = applied.context("running the mariadb client")?;
    if !applied.status.success() {
        // The client stopped on an error: the reader may be blocked writing to it.
        let _ = reading.kill();
    }
    let read = reading.wait()?;
    let said = messages.and_then(|t| t.join().ok()).unwrap_or_default();
    // A target past the log is the reader's to say; otherwise the client's error comes
    // first (the reader was stopped because of it).
    if said.contains("Did not reach") {
        bail!("mariadb-binlog: {}", said.trim());
    }
    if !applied.status.success() {
        bail!(
            "replaying the binary log failed: {}",
            String::from_utf8_lossy(&applied.stderr).trim()
        );
    }
    if !read.success() {
        bail!("mariadb-binlog: {}", said.trim());
    }
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    Ok(())
}

/// The `--stop-datetime` that keeps every event stamped at or before `t`'s second: events
/// carry whole seconds, and mariadb-binlog stops at the first one at or after its argument.
fn stop_datetime(t: &str) -> Result<String> {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(t, &Rfc3339)
        .with_context(|| format!("bad target time {t:?}"))?
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)?
        + time::Duration::seconds(1);
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    Ok(at.format(&f)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_target_keeps_its_whole_second() {
        assert_eq!(
            stop_datetime("2026-11-26T03:12:04.700Z").unwrap(),
            "2026-11-26 03:12:05"
        );
        assert_eq!(
            stop_datetime("2026-11-26T03:12:59Z").unwrap(),
            "2026-11-26 03:13:00"
        );
        assert!(stop_datetime("yesterday").is_err());
    }
}
