//! The PostgreSQL engine: initdb, configuration sized from the class, pg_ctl, psql sessions,
//! online snapshots through pg_backup_start/stop, restores that recover to an exact LSN.

use super::{Engine, HostCtx, Liveness, SnapshotPoint};
use crate::agent::config::HostConfig;
use crate::agent::layout::InstanceMeta;
use crate::agent::osuser::{run_checked, tail};
use crate::wire::{EngineFact, ProvisionSpec, RecoverySpec, Size, Target};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres;

/// The instance's settings file, included from postgresql.conf.
const CONF_FILE: &str = "dbctl.conf";
/// Recovery settings of a restored copy; removed once it is promoted.
const RECOVERY_CONF: &str = "dbctl-recovery.conf";
/// Where a snapshot keeps the tablespaces that live outside the data directory: each
/// `pg_tblspc/<oid>` becomes a relative link into it, so that a copy made from the snapshot
/// has its own tablespaces and never shares the source's files.
const TABLESPACES: &str = "dbhost_tablespaces";
/// How long a restored copy may take to replay its logs.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(3600);

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
        if let Some(d) = &cfg.postgres_bin_dir {
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

    fn bin(host: &HostCtx, name: &str) -> Result<PathBuf> {
        let dir = Self::bin_dir(host.cfg).context("PostgreSQL is not installed on this host")?;
        Ok(dir.join(name))
    }

    /// Writes the files that make a data directory this host's instance: access rules for the
    /// admin role, settings for its size and port, and continuous archiving of its WAL into
    /// this host's log archive.
    fn write_config(
        host: &HostCtx,
        data_dir: &Path,
        spec: &ProvisionSpec,
        port: u16,
    ) -> Result<()> {
        let (admin_user, size) = (&spec.admin_user, &spec.size);
        let sockets = host.sockets.clone();
        let sock_path_len = sockets
            .join(format!(".s.PGSQL.{port}.lock"))
            .as_os_str()
            .len();
        if sock_path_len > 100 {
            bail!(
                "socket path under {} would be {sock_path_len} bytes, over the 100 a unix socket allows; use a shorter dbhost --root",
                sockets.display()
            );
        }
        std::fs::create_dir_all(&sockets)?;
        let mode = if sockets == host.layout.sockets() {
            0o755
        } else {
            0o700
        };
        std::fs::set_permissions(&sockets, std::fs::Permissions::from_mode(mode))?;
        host.run_as.chown(&sockets)?;
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
        // Every segment goes to dbhost, which reports success only once it is stored and
        // fsynced; archive_timeout bounds how long a commit can wait to be archived.
        conf += "archive_mode = on\n";
        conf += &format!(
            "archive_command = {}\n",
            quote(&dbhost_command(
                host,
                "archive-wal",
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
                let _ = std::fs::remove_file(host.layout.data(name).join(RECOVERY_CONF));
                let _ = std::fs::remove_dir_all(host.layout.restore_wal(name));
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

/// A command line for PostgreSQL to run dbhost (archive_command, restore_command). Paths
/// are single-quoted for the shell PostgreSQL uses; the instance name is validated to
/// [a-z0-9-] before it gets here; `args` are PostgreSQL's own placeholders.
fn dbhost_command(host: &HostCtx, verb: &str, instance: &str, args: &str) -> Result<String> {
    let sh = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let exe = std::env::current_exe().context("locating dbhost's own binary")?;
    Ok(format!(
        "{} --root {} {verb} --instance {} {args}",
        sh(&exe.display().to_string()),
        sh(&host.layout.root.display().to_string()),
        sh(instance)
    ))
}

/// A psql session held open as the OS user (peer auth maps it to the admin role): the
/// low-level backup API needs its start and stop in one session.
struct Session {
    child: Child,
    stdin: ChildStdin,
    out: BufReader<ChildStdout>,
}

const END_MARK: &str = "__dbhost_end__";

impl Session {
    fn open(host: &HostCtx, meta: &InstanceMeta) -> Result<Self> {
        let mut cmd = host
            .run_as
            .command(&Postgres::bin(host, "psql")?, &host.layout.root);
        cmd.env("PGCONNECT_TIMEOUT", "10")
            .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&host.sockets)
            .arg("-p")
            .arg(meta.port.to_string())
            .args(["-U", &meta.admin_user, "-d", "postgres"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("starting psql")?;
        let stdin = child.stdin.take().context("psql stdin")?;
        let out = BufReader::new(child.stdout.take().context("psql stdout")?);
        Ok(Self { child, stdin, out })
    }

    /// Runs one statement and returns its output (without trailing newline).
    fn ask(&mut self, sql: &str) -> Result<String> {
        writeln!(self.stdin, "{sql};\n\\echo {END_MARK}")
            .and_then(|_| self.stdin.flush())
            .context("writing to psql")?;
        let mut answer = String::new();
        loop {
            let mut line = String::new();
            if self.out.read_line(&mut line)? == 0 {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                bail!("psql ended: {}", err.trim());
            }
            if line.trim_end() == END_MARK {
                return Ok(answer.trim_end().to_string());
            }
            answer.push_str(&line);
        }
    }

    fn close(mut self) {
        let _ = writeln!(self.stdin, "\\q");
        drop(self.stdin);
        let _ = self.child.wait();
    }
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
fn scram_verifier(password: &str, salt: &[u8]) -> String {
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
fn recovery_target(t: &Target) -> Result<String> {
    Ok(match t {
        Target::Time(t) => format!("recovery_target_time = {}\n", quote(&pg_time(t)?)),
        Target::Lsn(l) => format!("recovery_target_lsn = {}\n", quote(l)),
        Target::Latest => String::new(),
    })
}

fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
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

fn decode_hex(s: &str) -> Result<String> {
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .context("bad hex from pg_backup_stop")?;
    Ok(String::from_utf8(bytes)?)
}

/// A WAL segment file name: 24 hex digits (timeline, log, segment).
fn is_wal_segment(name: &str) -> bool {
    name.len() == 24 && name.chars().all(|c| c.is_ascii_hexdigit())
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
        crate::agent::storage::plain::copy_tree(
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

impl Engine for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
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
        Self::write_config(host, data_dir, spec, port)
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
                "select pg_is_in_recovery()",
            ]);
        let out = probe.output().context("running psql")?;
        let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Ok(Liveness {
            running: true,
            pid,
            accepting: out.status.success() && (answer == "t" || answer == "f"),
            in_recovery: answer == "t",
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
        // Every segment from the backup's start on (the slot still holds them), so that
        // recovery reaches the stop position from the snapshot alone.
        // Only the server's own regular files: a link planted there is never followed.
        let wal_dir = target.join("pg_wal");
        std::fs::create_dir_all(&wal_dir)?;
        let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&live)?);
        for e in std::fs::read_dir(live.join("pg_wal"))?.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let regular = e.file_type().is_ok_and(|t| t.is_file());
            let wanted = regular
                && ((is_wal_segment(&n) && n[8..] >= start_wal[8..]) || n.ends_with(".history"));
            if wanted {
                if let Err(err) = crate::agent::storage::plain::copy_file_owned(
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
            timeline,
        })
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
        // A tablespace_map (from snapshots older than the tablespace capture) would link the
        // copy back to its source's tablespaces.
        for f in ["postmaster.pid", "postmaster.opts", "tablespace_map"] {
            let _ = std::fs::remove_file(data_dir.join(f));
        }
        Self::write_config(host, data_dir, spec, port)?;
        // Archive recovery from pg_wal alone (restore_command finds nothing elsewhere), to
        // exactly the snapshot's stop position, then promote: a new timeline of its own.
        // hot_standby off: a copy of another class may have fewer connections or workers than
        // its source, which a hot standby refuses; nobody needs to query it mid-recovery.
        // With a point-in-time target, restore_command fetches (checked) segments from the
        // source's archive and replay goes on to the target; PostgreSQL refuses to promote
        // if the target was not reached. Replay stays on the snapshot's own timeline: dbctl
        // picks the snapshot on the history wanted, and the archive may hold other branches
        // (an earlier restore that was undone) that 'latest' would wrongly follow.
        let (restore_command, target) = match recovery {
            None => (
                "/bin/false".to_string(),
                format!("recovery_target_lsn = {}\n", quote(position)),
            ),
            Some(r) if r.staged => (
                dbhost_command(host, "fetch-wal", &spec.instance, "--staged %f %p")?,
                recovery_target(&r.target)?,
            ),
            Some(r) => (
                dbhost_command(host, "fetch-wal", &r.wal_instance, "%f %p")?,
                recovery_target(&r.target)?,
            ),
        };
        let conf = format!(
            "# Written by dbhost; removed once the copy is promoted.\nrestore_command = {}\n{target}recovery_target_inclusive = on\nrecovery_target_timeline = 'current'\nrecovery_target_action = 'promote'\nhot_standby = off\n",
            quote(&restore_command)
        );
        for (f, text) in [(RECOVERY_CONF, conf.as_str()), ("recovery.signal", "")] {
            let p = data_dir.join(f);
            crate::fsutil::replace_file(&p, text.as_bytes(), 0o600)?;
            host.run_as.chown(&p)?;
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
        while start.elapsed() < Duration::from_secs(120) {
            let archived = crate::agent::wal::list(host.layout, name)?;
            if archived.iter().any(|seg| {
                seg.name.len() == 24 && seg.name[..8] == segment[..8] && seg.name >= segment
            }) {
                return Ok(segment);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!(
            "segment {segment} was not archived within 120 s; see {}",
            host.layout.log(name).display()
        )
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
        let verifier = scram_verifier(password, &rand::random::<[u8; 16]>());
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

    #[test]
    fn decodes_pg_backup_stop_hex() {
        assert_eq!(decode_hex("4142").unwrap(), "AB");
        assert!(is_wal_segment("000000010000000000000003"));
        assert!(!is_wal_segment("00000002.history"));
    }
}
