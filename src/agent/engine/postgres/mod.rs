//! The PostgreSQL engine: initdb, pg_ctl, liveness, passwords; its settings files
//! (`config`), psql sessions (`session`), online snapshots (`backup`) and its write-ahead log
//! as the log archive sees it (`wal`).

mod backup;
mod config;
mod session;
pub mod wal;

use super::{Engine, HostCtx, Liveness, LogShipping, SnapshotPoint};
use crate::agent::config::HostConfig;
use crate::agent::layout::InstanceMeta;
use crate::agent::logs::LogFormat;
use crate::agent::osuser::{run_checked, tail};
use crate::wire::{EngineFact, ProvisionSpec, RecoverySpec};
use anyhow::{bail, Context, Result};
use session::Session;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

pub struct Postgres;

/// The instance's settings file, included from postgresql.conf.
pub(super) const CONF_FILE: &str = "dbctl.conf";
/// How long a restored copy may take to replay its logs.
pub(super) const RECOVERY_TIMEOUT: Duration = Duration::from_secs(3600);

/// Contents of these directories are rebuilt by the server and left out of snapshots
/// (PostgreSQL's documentation, "Making a Base Backup Using the Low Level API"); pg_wal is
/// filled in separately with exactly the segments the snapshot needs.
const SKIPPED_DIRS: &[&str] = &[
    "pg_wal",
    "pg_replslot",
    "pg_dynshmem",
    "pg_notify",
    "pg_serial",
    "pg_snapshots",
    "pg_stat_tmp",
    "pg_subtrans",
];

impl Postgres {
    /// Starts the server with pg_ctl (and extra server `options`) unless it runs, then waits
    /// until it accepts connections and is out of recovery.
    fn pg_ctl_start(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        options: Option<&str>,
    ) -> Result<()> {
        if self.liveness(host, name, meta)?.running {
            return self.wait_for_promotion(host, name, meta);
        }
        let log = host.layout.log(name);
        if !log.exists() {
            crate::fsutil::replace_file(&log, b"", 0o600)?;
            host.run_as.chown(&log)?;
        }
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "pg_ctl")?, &host.layout.instance(name));
        cmd.arg("start")
            .arg("-D")
            .arg(host.layout.data(name))
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", &RECOVERY_TIMEOUT.as_secs().to_string(), "-s"]);
        if let Some(o) = options {
            cmd.arg("-o").arg(o);
        }
        let out = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .context("starting pg_ctl")?;
        if !out.status.success() {
            bail!(
                "PostgreSQL did not start: {} {}",
                tail(&out),
                log_tail(&log)
            );
        }
        // A restored copy accepts read-only queries while it replays; done means promoted.
        self.wait_for_promotion(host, name, meta)
    }

    fn bin_dir(cfg: &HostConfig) -> Option<PathBuf> {
        let complete = |d: &Path| {
            ["postgres", "initdb", "pg_ctl", "psql"]
                .iter()
                .all(|b| d.join(b).exists())
        };
        if let Some(d) = cfg.bin_dirs.get("postgres") {
            return complete(d).then(|| d.clone());
        }
        // PATH first (a symlink such as /usr/local/bin/pg_ctl resolves to its real directory),
        // then the newest of Debian's versioned directories.
        let path =
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
        for dir in std::env::split_paths(&path) {
            if let Ok(real) = dir.join("pg_ctl").canonicalize() {
                if let Some(parent) = real.parent() {
                    if complete(parent) {
                        return Some(parent.to_path_buf());
                    }
                }
            }
        }
        let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| {
                let v: u32 = e.file_name().to_str()?.parse().ok()?;
                Some((v, e.path().join("bin")))
            })
            .filter(|(_, d)| complete(d))
            .collect();
        versioned.sort();
        versioned.pop().map(|(_, d)| d)
    }

    pub(super) fn bin(host: &HostCtx, name: &str) -> Result<PathBuf> {
        let dir = Self::bin_dir(host.cfg).context("PostgreSQL is not installed on this host")?;
        Ok(dir.join(name))
    }

    /// Polls until the server is out of recovery (a restored copy promotes itself).
    fn wait_for_promotion(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()> {
        let start = Instant::now();
        loop {
            let live = self.liveness(host, name, meta)?;
            if !live.running {
                bail!(
                    "PostgreSQL stopped during recovery: {}",
                    log_tail(&host.layout.log(name))
                );
            }
            if live.accepting && !live.in_recovery {
                let _ = std::fs::remove_file(host.layout.data(name).join(config::RECOVERY_CONF));
                return Ok(());
            }
            if start.elapsed() > RECOVERY_TIMEOUT {
                bail!(
                    "PostgreSQL is still recovering after {}s",
                    start.elapsed().as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// What the server last said that explains a failure: its FATAL/PANIC/ERROR lines near the
/// end of the log (with their DETAIL/HINT), else its last lines.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let recent: Vec<&str> = text
        .lines()
        .rev()
        .take(40)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // dbhost's own words (a log segment refused by restore_command, say) say most.
    let ours: Vec<&str> = recent
        .iter()
        .copied()
        .filter(|l| l.starts_with("dbhost: "))
        .collect();
    if let Some(last) = ours.last() {
        return last.to_string();
    }
    let telling: Vec<&str> = recent
        .iter()
        .copied()
        .filter(|l| {
            ["FATAL:", "PANIC:", "ERROR:", "DETAIL:", "HINT:"]
                .iter()
                .any(|k| l.contains(k))
        })
        .collect();
    let chosen = if telling.is_empty() {
        &recent[recent.len().saturating_sub(3)..]
    } else {
        &telling[telling.len().saturating_sub(4)..]
    };
    chosen.join(" / ")
}

impl Engine for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn server_binary(&self, cfg: &HostConfig) -> Option<PathBuf> {
        Self::bin_dir(cfg).map(|d| d.join("postgres"))
    }

    fn integrity_check(
        &self,
        host: &HostCtx,
        _name: &str,
        meta: &InstanceMeta,
    ) -> Result<(String, bool, String)> {
        // Every table and index of every database, each index against every heap tuple; the
        // amcheck extension installed where it is missing, but never into a template.
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "pg_amcheck")?, &host.layout.root);
        cmd.env("PGCONNECT_TIMEOUT", "10")
            .arg("-h")
            .arg(&host.sockets)
            .arg("-p")
            .arg(meta.port.to_string())
            .args([
                "-U",
                &meta.admin_user,
                "--no-password",
                "--maintenance-db",
                "postgres",
            ])
            .args(["--all", "--exclude-database", "template1"])
            .args(["--heapallindexed", "--install-missing"])
            .stdin(Stdio::null());
        let out = cmd.output().context("running pg_amcheck")?;
        // It prints nothing when all is whole.
        let (ok, detail) = super::tool_verdict(&out);
        Ok(("pg_amcheck --heapallindexed".into(), ok, detail))
    }

    fn query(
        &self,
        host: &HostCtx,
        meta: &InstanceMeta,
        database: Option<&str>,
        sql: &str,
    ) -> Result<String> {
        use std::io::Write;
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "psql")?, &host.layout.root);
        cmd.env("PGCONNECT_TIMEOUT", "10")
            // NULL printed as MariaDB's client prints it, so a row of NULL is not "no rows".
            .args([
                "-X",
                "-A",
                "-t",
                "-q",
                "-P",
                "null=NULL",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
            ])
            .arg(&host.sockets)
            .arg("-p")
            .arg(meta.port.to_string())
            .args(["-U", &meta.admin_user, "-d", database.unwrap_or("postgres")])
            // The query on stdin: a DBA's SQL never rides on a command line.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("starting psql")?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(sql.as_bytes());
        }
        let out = child.wait_with_output().context("running psql")?;
        if !out.status.success() {
            bail!("{}", tail(&out));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    }

    fn detect(&self, cfg: &HostConfig) -> Option<EngineFact> {
        let dir = Self::bin_dir(cfg)?;
        let out = std::process::Command::new(dir.join("postgres"))
            .arg("--version")
            .output()
            .ok()?;
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.split_whitespace().nth(2)?.to_string();
        Some(EngineFact {
            name: self.name().into(),
            version,
            bin_dir: dir.display().to_string(),
        })
    }

    fn init(&self, host: &HostCtx, spec: &ProvisionSpec, port: u16, data_dir: &Path) -> Result<()> {
        let inst_dir = data_dir.parent().context("data dir has no parent")?;
        // The password reaches initdb through a file only the OS user can read, never argv.
        let pwfile = inst_dir.join(".pwfile");
        crate::fsutil::write_atomic(&pwfile, spec.admin_password.as_bytes(), 0o600)?;
        host.run_as.chown(&pwfile)?;
        let mut cmd = host.run_as.command(&Self::bin(host, "initdb")?, inst_dir);
        cmd.arg("-D")
            .arg(data_dir)
            .arg("--username")
            .arg(&spec.admin_user)
            .arg(format!("--pwfile={}", pwfile.display()))
            .args([
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "--data-checksums",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
            ]);
        let result = run_checked(&mut cmd, "initdb");
        let _ = std::fs::remove_file(&pwfile);
        result?;
        config::write_config(host, data_dir, spec, port)
    }

    fn start(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()> {
        self.pg_ctl_start(host, name, meta, None)
    }

    fn start_private(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()> {
        // pg_ctl hands -o to the server's command line; the value is a constant.
        self.pg_ctl_start(host, name, meta, Some("-c listen_addresses=''"))
    }

    fn stop(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()> {
        if !self.liveness(host, name, meta)?.running {
            return Ok(());
        }
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "pg_ctl")?, &host.layout.instance(name));
        cmd.arg("stop")
            .arg("-D")
            .arg(host.layout.data(name))
            .args(["-m", "fast", "-w", "-t", "120", "-s"]);
        run_checked(&mut cmd, "pg_ctl stop")?;
        Ok(())
    }

    fn liveness(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<Liveness> {
        let data = host.layout.data(name);
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "pg_ctl")?, &host.layout.root);
        cmd.arg("status").arg("-D").arg(&data);
        let out = cmd.output().context("running pg_ctl status")?;
        if !out.status.success() {
            return Ok(Liveness::default());
        }
        let pid = std::fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()));
        let mut probe = host
            .run_as
            .command(&Self::bin(host, "psql")?, &host.layout.root);
        probe
            .env("PGCONNECT_TIMEOUT", "5")
            .args(["-X", "-A", "-t", "-q", "-h"])
            .arg(&host.sockets)
            .arg("-p")
            .arg(meta.port.to_string())
            .args([
                "-U",
                &meta.admin_user,
                "-d",
                "postgres",
                "-c",
                // One round trip: whether it replays, and an archive_command failing since
                // its last success.
                // The clients connected besides this probe say whether anyone uses it.
                // The newest commit's time where the server tracks it (an instance made
                // before it did reads empty until its next restart).
                "select pg_is_in_recovery(), coalesce((select last_failed_wal || ' failed at ' || last_failed_time from pg_stat_archiver where last_failed_time > coalesce(last_archived_time, 'epoch')), ''), (select coalesce(sum(checksum_failures), 0) from pg_stat_database), (select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()), case when current_setting('track_commit_timestamp')::bool then coalesce(to_char((pg_last_committed_xact()).timestamp at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'none') else 'off' end",
            ]);
        // A stalled server (a stopped postmaster, a session stuck in its startup) reads as
        // not answering within the deadline; a full one says so and is busy, not gone.
        use crate::agent::engine::probe::{says_full, Probed, PROBE_DEADLINE};
        let out = match crate::agent::engine::probe::run_within(&mut probe, None, PROBE_DEADLINE)
            .context("running psql")?
        {
            Probed::Ended(out) => out,
            Probed::TimedOut => {
                return Ok(Liveness {
                    running: true,
                    pid,
                    unanswered: Some(format!("no answer within {} s", PROBE_DEADLINE.as_secs())),
                    ..Default::default()
                })
            }
        };
        let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let mut fields = answer.split('|');
        let recovery = fields.next().unwrap_or_default();
        let archive = fields.next().unwrap_or_default();
        let checksum_failures = fields.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let sessions = fields.next().and_then(|n| n.parse().ok());
        // "off": not tracked (unknown); "none": nothing committed since it started.
        let newest_commit = match fields.next().map(str::trim) {
            None | Some("off") | Some("") => None,
            Some("none") => Some(String::new()),
            Some(t) => Some(t.to_string()),
        };
        let accepting = out.status.success() && (recovery == "t" || recovery == "f");
        let refused = (!accepting).then(|| {
            let said = String::from_utf8_lossy(&out.stderr);
            said.lines()
                .map(str::trim)
                .rfind(|l| !l.is_empty())
                .unwrap_or("the probe got no answer")
                .trim_start_matches("psql: error: ")
                .to_string()
        });
        let (busy, unanswered) = match refused {
            Some(r) if says_full(&r) => (Some(r), None),
            other => (None, other),
        };
        Ok(Liveness {
            running: true,
            pid,
            accepting,
            in_recovery: recovery == "t",
            archive_error: (!archive.is_empty()).then(|| format!("archiving {archive}")),
            checksum_failures,
            sessions,
            busy,
            unanswered,
            newest_commit,
            newest_transaction: None,
        })
    }

    fn snapshot_skips(&self, rel: &str) -> bool {
        let file = rel.rsplit('/').next().unwrap_or(rel);
        matches!(rel, "postmaster.pid" | "postmaster.opts")
            || file == "pg_internal.init"
            || rel.split('/').any(|part| part.starts_with("pgsql_tmp"))
            || SKIPPED_DIRS
                .iter()
                .any(|d| rel.starts_with(&format!("{d}/")))
    }

    fn online_snapshot(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        target: &Path,
        capture: &mut dyn FnMut(&Path) -> Result<()>,
    ) -> Result<SnapshotPoint> {
        backup::online_snapshot(host, name, meta, target, capture)
    }

    fn replay_log_dir(&self, data: &Path) -> PathBuf {
        data.join("pg_wal")
    }

    fn prepare_restored(
        &self,
        host: &HostCtx,
        spec: &ProvisionSpec,
        port: u16,
        data_dir: &Path,
        position: &str,
        recovery: Option<&RecoverySpec>,
    ) -> Result<()> {
        config::prepare_restored(host, spec, port, data_dir, position, recovery)
    }

    /// Nothing to do after the start: PostgreSQL replays while it starts, from the recovery
    /// settings `prepare_restored` wrote, and `start` returns once it has promoted.
    fn replay(&self, _: &HostCtx, _: &str, _: &InstanceMeta, _: &RecoverySpec) -> Result<()> {
        Ok(())
    }

    fn log_shipping(&self) -> LogShipping {
        LogShipping::Pushed
    }

    fn log_format(&self, cfg: &HostConfig) -> Box<dyn LogFormat> {
        Box::new(wal::Wal {
            waldump: Self::bin_dir(cfg).map(|d| d.join("pg_waldump")),
        })
    }

    fn check_admin_user(&self, user: &str) -> Result<()> {
        if user.starts_with("pg_") {
            bail!("invalid admin user `{user}`: role names starting with pg_ are reserved by PostgreSQL");
        }
        Ok(())
    }

    fn switch_log(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<String> {
        let mut s = Session::open(host, meta)?;
        // The segment holding everything written so far is the one to wait for.
        let segment = s.ask("SELECT pg_walfile_name(pg_current_wal_lsn())");
        let switched = s.ask("SELECT pg_switch_wal()");
        s.close();
        let segment = segment?;
        switched?;
        let start = Instant::now();
        let mut polls = 0u32;
        while start.elapsed() < Duration::from_secs(120) {
            // The segment itself, often; the whole archive (thousands of sidecars on a busy
            // instance) once a second, for a later segment of the timeline that shows it
            // went by.
            if crate::agent::logs::holds(host.layout, name, &segment) {
                return Ok(segment);
            }
            polls += 1;
            if polls.is_multiple_of(20)
                && crate::agent::logs::list(host.layout, name)?
                    .iter()
                    .any(|seg| {
                        wal::is_segment(&seg.name)
                            && seg.name[..8] == segment[..8]
                            && seg.name >= segment
                    })
            {
                return Ok(segment);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "segment {segment} was not archived within 120 s; see {}",
            host.layout.log(name).display()
        )
    }

    fn reconfigure(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        size: &crate::wire::Size,
        archive_timeout_secs: u32,
    ) -> Result<()> {
        let spec = ProvisionSpec {
            instance: name.into(),
            engine: self.name().into(),
            port: Some(meta.port),
            size: *size,
            admin_user: meta.admin_user.clone(),
            archive_timeout_secs,
            admin_password: String::new(),
        };
        config::write_config(host, &host.layout.data(name), &spec, meta.port)
    }

    fn reload(&self, host: &HostCtx, name: &str, _meta: &InstanceMeta) -> Result<()> {
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "pg_ctl")?, &host.layout.instance(name));
        cmd.arg("reload")
            .arg("-D")
            .arg(host.layout.data(name))
            .arg("-s");
        run_checked(&mut cmd, "pg_ctl reload")?;
        Ok(())
    }

    fn set_password(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        password: &str,
    ) -> Result<()> {
        if password.is_empty() || !password.chars().all(|c| c.is_ascii_alphanumeric()) {
            bail!("a password must be non-empty and alphanumeric");
        }
        if !meta
            .admin_user
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            bail!("invalid admin role name {:?}", meta.admin_user);
        }
        self.wait_for_promotion(host, name, meta)?;
        // The server gets a SCRAM verifier, never the password: no statement, log line or
        // error can show it.
        let verifier = config::scram_verifier(password, &rand::random::<[u8; 16]>());
        let mut s = Session::open(host, meta)?;
        let r = s.ask(&format!(
            "ALTER ROLE \"{}\" PASSWORD '{verifier}'",
            meta.admin_user
        ));
        s.close();
        r.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_leave_out_what_the_server_rebuilds() {
        let pg = Postgres;
        for skip in [
            "postmaster.pid",
            "pg_wal/000000010000000000000001",
            "pg_stat_tmp/x",
            "base/1/pg_internal.init",
            "base/pgsql_tmp/t1",
        ] {
            assert!(pg.snapshot_skips(skip), "{skip}");
        }
        for keep in [
            "pg_wal",
            "base/1/1259",
            "global/pg_control",
            "PG_VERSION",
            "pg_xact/0000",
        ] {
            assert!(!pg.snapshot_skips(keep), "{keep}");
        }
    }

    #[test]
    fn reserved_role_names_are_refused() {
        assert!(Postgres.check_admin_user("pg_admin").is_err());
        assert!(Postgres.check_admin_user("dbadmin").is_ok());
    }
}
