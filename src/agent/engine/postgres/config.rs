//! PostgreSQL's settings files: what makes a data directory this host's instance (access,
//! sizes from the class, continuous archiving into dbhost) and what makes a restored copy
//! replay to its target.

use super::CONF_FILE;
use crate::agent::engine::HostCtx;
use crate::wire::{ProvisionSpec, RecoverySpec, Size, Target};
use anyhow::{Context, Result};
use std::path::Path;

/// Recovery settings of a restored copy; removed once it is promoted.
pub(super) const RECOVERY_CONF: &str = "dbctl-recovery.conf";

/// Writes the files that make a data directory this host's instance: access rules for the
/// admin role, settings for its size and port, and continuous archiving of its WAL into
/// this host's log archive.
pub(super) fn write_config(
    host: &HostCtx,
    data_dir: &Path,
    spec: &ProvisionSpec,
    port: u16,
) -> Result<()> {
    let (admin_user, size) = (&spec.admin_user, &spec.size);
    let sockets = host.sockets.clone();
    host.make_socket_dir(&format!(".s.PGSQL.{port}.lock"))?;
    // Local connections by the OS user map to the admin role (dbhost's own sessions);
    // every network connection needs the password. The data directory belongs to the
    // database's own OS user, who may have planted links: files are replaced, never
    // written through.
    let write = |f: &str, text: &str| -> Result<()> {
        let p = data_dir.join(f);
        crate::fsutil::replace_file(&p, text.as_bytes(), 0o600)?;
        host.run_as.chown(&p)
    };
    write(
        "pg_hba.conf",
        "# Written by dbhost.\nlocal all all peer map=dbhost\nhost all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\nhost replication all 0.0.0.0/0 scram-sha-256\nhost replication all ::/0 scram-sha-256\n",
    )?;
    write(
        "pg_ident.conf",
        &format!(
            "# Written by dbhost.\ndbhost {} {admin_user}\n",
            host.run_as.name
        ),
    )?;
    let mut conf =
        String::from("# Written by dbhost from the instance class; change it through dbctl.\n");
    conf += &format!("listen_addresses = {}\n", quote(&host.cfg.listen_address));
    conf += &format!("port = {port}\n");
    conf += &format!(
        "unix_socket_directories = {}\n",
        quote(&sockets.display().to_string())
    );
    for (k, v) in settings_for(size) {
        conf += &format!("{k} = {}\n", quote(&v));
    }
    conf += "password_encryption = 'scram-sha-256'\nlog_line_prefix = '%m [%p] %q%u@%d '\n";
    // The newest commit's time, so the monitor can tell whether anything is not archived yet.
    conf += "track_commit_timestamp = on\n";
    // Every segment goes to dbhost, which reports success only once it is stored and
    // fsynced; archive_timeout bounds how long a commit can wait to be archived.
    conf += "archive_mode = on\n";
    conf += &format!(
        "archive_command = {}\n",
        quote(&dbhost_command(
            host,
            "log-archive",
            &spec.instance,
            "%p %f"
        )?)
    );
    conf += &format!(
        "archive_timeout = '{}s'\n",
        spec.archive_timeout_secs.max(1)
    );
    write(CONF_FILE, &conf)?;
    let main_conf = data_dir.join("postgresql.conf");
    let mut text = crate::fsutil::read_no_follow(&main_conf)?;
    for line in [
        format!("include = '{CONF_FILE}'"),
        format!("include_if_exists = '{RECOVERY_CONF}'"),
    ] {
        if !text.lines().any(|l| l.trim() == line) {
            text += &format!("\n{line}\n");
        }
    }
    write("postgresql.conf", &text)?;
    Ok(())
}

/// A command line for PostgreSQL to run dbhost (archive_command, restore_command). Paths
/// are single-quoted for the shell PostgreSQL uses; the instance name is validated to
/// [a-z0-9-] before it gets here; `args` are PostgreSQL's own placeholders.
pub(super) fn dbhost_command(
    host: &HostCtx,
    verb: &str,
    instance: &str,
    args: &str,
) -> Result<String> {
    let sh = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let exe = std::env::current_exe().context("locating dbhost's own binary")?;
    Ok(format!(
        "{} --root {} {verb} --instance {} {args}",
        sh(&exe.display().to_string()),
        sh(&host.layout.root.display().to_string()),
        sh(instance)
    ))
}

/// Settings that follow from the instance's size.
pub fn settings_for(size: &Size) -> Vec<(&'static str, String)> {
    let mem = size.memory_mb.max(128);
    let conns = u64::from(size.max_connections.max(10));
    let cpus = size.cpus.ceil().max(1.0) as u64;
    vec![
        ("max_connections", conns.to_string()),
        ("shared_buffers", format!("{}MB", mem / 4)),
        ("effective_cache_size", format!("{}MB", mem * 3 / 4)),
        (
            "maintenance_work_mem",
            format!("{}MB", (mem / 16).clamp(16, 2048)),
        ),
        (
            "work_mem",
            format!("{}kB", (mem * 1024 / 4 / conns).max(1024)),
        ),
        ("max_worker_processes", (cpus * 2).max(8).to_string()),
        ("max_parallel_workers", cpus.to_string()),
        (
            "max_parallel_workers_per_gather",
            (cpus / 2).max(1).to_string(),
        ),
    ]
}

/// An RFC 3339 time as recovery_target_time accepts it ("YYYY-MM-DD HH:MM:SS.ffffff+00"; it
/// refuses the "T...Z" form).
fn pg_time(t: &str) -> Result<String> {
    let parsed = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("bad target time {t:?}"))?
        .to_offset(time::UtcOffset::UTC);
    let f = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]+00"
    );
    Ok(parsed.format(&f)?)
}

/// A SCRAM-SHA-256 verifier for `password` (RFC 5802/7677, as PostgreSQL stores it):
/// what `ALTER ROLE ... PASSWORD` takes in place of the password itself.
pub(super) fn scram_verifier(password: &str, salt: &[u8]) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    const ITERATIONS: u32 = 4096;
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, ITERATIONS, &mut salted);
    let hmac = |key: &[u8], msg: &[u8]| {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        m.update(msg);
        m.finalize().into_bytes()
    };
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac(&salted, b"Server Key");
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "SCRAM-SHA-256${ITERATIONS}:{}${}:{}",
        b64.encode(salt),
        b64.encode(stored_key),
        b64.encode(server_key)
    )
}

/// The recovery_target_* line for a target (none for `latest`: all of the log).
pub(super) fn recovery_target(t: &Target) -> Result<String> {
    Ok(match t {
        Target::Time(t) => format!("recovery_target_time = {}\n", quote(&pg_time(t)?)),
        Target::Position(l) => format!("recovery_target_lsn = {}\n", quote(l)),
        Target::Latest => String::new(),
    })
}

pub(super) fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

pub(super) fn prepare_restored(
    host: &HostCtx,
    spec: &ProvisionSpec,
    port: u16,
    data_dir: &Path,
    position: &str,
    recovery: Option<&RecoverySpec>,
) -> Result<()> {
    // A tablespace_map (from snapshots older than the tablespace capture) would link the
    // copy back to its source's tablespaces.
    for f in ["postmaster.pid", "postmaster.opts", "tablespace_map"] {
        let _ = std::fs::remove_file(data_dir.join(f));
    }
    write_config(host, data_dir, spec, port)?;
    // Archive recovery from pg_wal alone (restore_command finds nothing elsewhere: dbhost
    // placed checked copies of every segment replay needs there, as pg_basebackup's
    // streamed WAL is, so no process runs per segment and replay never waits for one), to
    // exactly the snapshot's stop position or on to a point-in-time target, then promote:
    // a new timeline of its own. PostgreSQL refuses to promote if the target was not
    // reached. hot_standby off: a copy of another class may have fewer connections or
    // workers than its source, which a hot standby refuses; nobody needs to query it
    // mid-recovery. Replay stays on the snapshot's own timeline: dbctl picks the snapshot
    // on the history wanted, and the archive may hold other branches (an earlier restore
    // that was undone) that 'latest' would wrongly follow.
    let target = match recovery {
        None => format!("recovery_target_lsn = {}\n", quote(position)),
        Some(r) => recovery_target(&r.target)?,
    };
    mark_archived(host, &data_dir.join("pg_wal"))?;
    let conf = format!(
        "# Written by dbhost; removed once the copy is promoted.\nrestore_command = '/bin/false'\n{target}recovery_target_inclusive = on\nrecovery_target_timeline = 'current'\nrecovery_target_action = 'promote'\nhot_standby = off\n"
    );
    for (f, text) in [(RECOVERY_CONF, conf.as_str()), ("recovery.signal", "")] {
        let p = data_dir.join(f);
        crate::fsutil::replace_file(&p, text.as_bytes(), 0o600)?;
        host.run_as.chown(&p)?;
    }
    Ok(())
}

/// Marks every segment and history file in a restored copy's `pg_wal` as archived: they
/// are its source's, already in that archive, and the copy's own archive starts with its
/// own timeline (unmarked, the copy would archive each again once it is promoted).
fn mark_archived(host: &HostCtx, pg_wal: &Path) -> Result<()> {
    let status = pg_wal.join("archive_status");
    if !std::fs::symlink_metadata(&status).is_ok_and(|m| m.is_dir()) {
        std::fs::create_dir(&status)?;
        host.run_as.chown(&status)?;
    }
    for e in std::fs::read_dir(pg_wal)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = super::wal::is_segment(&name) || name.ends_with(".history");
        if !ours || !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let mark = status.join(format!("{name}.done"));
        if std::fs::symlink_metadata(&mark).is_err() {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&mark)?;
            host.run_as.chown(&mark)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_settings_follow_the_class() {
        let s = settings_for(&Size {
            cpus: 2.0,
            memory_mb: 4096,
            max_connections: 200,
        });
        let get = |k: &str| s.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("shared_buffers"), "1024MB");
        assert_eq!(get("effective_cache_size"), "3072MB");
        assert_eq!(get("max_connections"), "200");
        assert_eq!(get("maintenance_work_mem"), "256MB");
        assert_eq!(get("work_mem"), "5242kB");
    }

    #[test]
    fn quotes_config_values() {
        assert_eq!(quote("a'b"), "'a''b'");
        assert_eq!(
            pg_time("2026-11-24T20:35:27.5Z").unwrap(),
            "2026-11-24 20:35:27.500000+00"
        );
        assert_eq!(
            pg_time("2026-11-24T21:35:27+01:00").unwrap(),
            "2026-11-24 20:35:27.000000+00"
        );
    }

    #[test]
    fn scram_verifiers_have_postgresqls_form() {
        // That the server accepts them is shown by every clone: its new password logs in.
        let v = scram_verifier("foobar", b"0123456789abcdef");
        assert!(
            v.starts_with("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$"),
            "{v}"
        );
        assert_eq!(v.split('$').count(), 3);
        assert!(!v.contains("foobar"));
    }
}
