//! The MariaDB engine: mariadb-install-db, the server run by dbhost itself (there is no
//! pg_ctl: dbhost starts `mariadbd` in a session of its own and stops it by its pid), its
//! liveness and passwords; its settings (`config`), the statements dbhost runs on it
//! (`client`) and its binary log as the log archive sees it (`binlog`).

mod backup;
pub mod binlog;
mod client;
mod config;
mod replay;
pub mod ship;

use super::{Engine, HostCtx, Liveness, LogShipping, SnapshotPoint};
use crate::agent::config::HostConfig;
use crate::agent::layout::InstanceMeta;
use crate::agent::logs::LogFormat;
use crate::agent::osuser::run_checked;
use crate::wire::{EngineFact, ProvisionSpec, RecoverySpec};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct Mariadb;

/// How long the server may take to start (InnoDB crash recovery of a busy instance) or to
/// stop (a clean shutdown writes back the buffer pool).
const SERVER_TIMEOUT: Duration = Duration::from_secs(600);

/// Where Debian's packages put the server and its tools.
const STANDARD_DIRS: &[&str] = &["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];

/// Names the server or install-db reserve for accounts of their own.
const RESERVED_USERS: &[&str] = &["root", "mysql", "mariadb.sys", "public"];

impl Mariadb {
    /// The path of one of the engine's programs: in `[bin_dirs] mariadb` when dbhost.toml
    /// names it, else where the packages put it.
    ///
    /// # Errors
    /// The program is not installed there.
    pub(crate) fn bin(cfg: &HostConfig, program: &str) -> Result<PathBuf> {
        let dirs: Vec<PathBuf> = match cfg.bin_dirs.get("mariadb") {
            Some(d) => vec![d.clone()],
            None => STANDARD_DIRS.iter().map(PathBuf::from).collect(),
        };
        dirs.iter()
            .map(|d| d.join(program))
            .find(|p| p.is_file())
            .with_context(|| {
                format!(
                    "{program} is not installed (looked in {}); install mariadb-server, mariadb-client and mariadb-backup, or set [bin_dirs] mariadb in dbhost.toml",
                    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
                )
            })
    }

    pub(super) fn socket(host: &HostCtx, port: u16) -> PathBuf {
        host.sockets.join(format!("mariadb.{port}.sock"))
    }

    /// The instance's own directory for server-side file statements, beside its server log:
    /// made private to its OS user; one that is a link or not a directory is refused.
    fn files_dir(host: &HostCtx, log: &Path) -> Result<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let dir = log
            .parent()
            .context("the server log has no directory")?
            .join("files");
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => bail!("{} is not a directory: refusing to use it", dir.display()),
            Err(_) => {
                std::fs::create_dir(&dir).with_context(|| format!("making {}", dir.display()))?
            }
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        host.run_as.chown(&dir)?;
        Ok(dir)
    }

    fn pid_file(host: &HostCtx, port: u16) -> PathBuf {
        host.sockets.join(format!("mariadb.{port}.pid"))
    }

    /// Starts the server on `data` in a session of its own (it outlives dbhost's call), as
    /// the instance's OS user, with `extra` server options (constants); waits until it
    /// answers.
    pub(super) fn launch_with(
        host: &HostCtx,
        data: &Path,
        log: &Path,
        port: u16,
        extra: &[&str],
    ) -> Result<()> {
        use std::os::unix::process::CommandExt;
        if !log.exists() {
            crate::fsutil::replace_file(log, b"", 0o600)?;
            host.run_as.chown(log)?;
        }
        // LOAD_FILE, LOAD DATA INFILE and SELECT ... INTO OUTFILE reach this directory
        // alone: a private one of the instance's, never the host's files or /tmp.
        let files = Self::files_dir(host, log)?;
        let socket = Self::socket(host, port);
        let mut cmd = host.run_as.command(&Self::bin(host.cfg, "mariadbd")?, data);
        // The settings file must be the first argument; the rest are paths, none secret.
        cmd.arg(format!(
            "--defaults-file={}",
            data.join(config::FILE).display()
        ))
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", socket.display()))
        .arg(format!(
            "--pid-file={}",
            Self::pid_file(host, port).display()
        ))
        .arg(format!("--log-error={}", log.display()))
        .arg(format!("--secure-file-priv={}", files.display()));
        cmd.args(extra);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: setsid is async-signal-safe; it only detaches the child from dbhost's
        // session, so the server does not end with the SSH session that started it.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                Ok(())
            });
        }
        let mut child = cmd.spawn().context("starting mariadbd")?;
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("MariaDB did not start ({status}): {}", log_tail(log));
            }
            if client::run(host, &socket, "SELECT 1").is_ok() {
                return Ok(());
            }
            if start.elapsed() > SERVER_TIMEOUT {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(child.id() as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
                bail!(
                    "MariaDB did not accept connections within {} s: {}",
                    SERVER_TIMEOUT.as_secs(),
                    log_tail(log)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts instance `name`'s server unless it runs (`private`: no network listener).
    fn start_instance(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        private: bool,
    ) -> Result<()> {
        if Self::server_pid(host, meta.port).is_some() {
            return Ok(());
        }
        host.make_socket_dir(&format!("mariadb.{}.sock.lock", meta.port))?;
        let (data, log) = (host.layout.data(name), host.layout.log(name));
        if data.join(backup::RESTORED_MARK).exists() {
            backup::adopt(host, &data, &log, meta.port)?;
        }
        let extra: &[&str] = if private { &["--skip-networking"] } else { &[] };
        Self::launch_with(host, &data, &log, meta.port, extra)?;
        ship::ensure(host, name, meta.port)
    }

    /// The server's pid when one runs for this instance.
    fn server_pid(host: &HostCtx, port: u16) -> Option<u32> {
        own_process(host, &Self::pid_file(host, port), "mariadbd")
    }

    /// Stops the server on `port` (a clean shutdown) and waits until it has exited.
    pub(super) fn shut_down(host: &HostCtx, port: u16) -> Result<()> {
        let Some(pid) = Self::server_pid(host, port) else {
            return Ok(());
        };
        let target = nix::unistd::Pid::from_raw(pid as i32);
        nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGTERM)
            .with_context(|| format!("signalling mariadbd {pid}"))?;
        let start = Instant::now();
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            // dbhost started it but does not wait for it: reap it if it is our child.
            let _ = nix::sys::wait::waitpid(target, Some(nix::sys::wait::WaitPidFlag::WNOHANG));
            if start.elapsed() > SERVER_TIMEOUT {
                bail!(
                    "MariaDB (pid {pid}) did not stop within {} s",
                    SERVER_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Where a restored copy's binary log files wait for replay.
    fn replay_dir(&self, data: &Path) -> PathBuf {
        data.join(".dbhost-binlogs")
    }

    fn check_password(password: &str) -> Result<()> {
        if password.is_empty() || !password.chars().all(|c| c.is_ascii_alphanumeric()) {
            bail!("a password must be non-empty and alphanumeric");
        }
        Ok(())
    }
}

/// The process a pid file names, only if it runs `comm` as the instance's OS user (a pid
/// file can be stale, or written by that user to point at anything).
fn own_process(host: &HostCtx, pid_file: &Path, comm: &str) -> Option<u32> {
    let text = crate::fsutil::read_small_no_follow(pid_file, 64).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&proc_dir).ok()?);
    let running = std::fs::read_to_string(proc_dir.join("comm")).ok()?;
    (owner == host.run_as.uid.as_raw() && running.trim() == comm).then_some(pid)
}

/// `dbhost binlog-ship`: the instance's binary log shipper (see [`ship`]), run as its OS
/// user by dbhost when the server starts.
///
/// # Errors
/// The instance is unknown here, or archiving fails for good.
pub fn ship_binlogs(root: &Path, instance: &str) -> Result<()> {
    let layout = crate::agent::layout::Layout::new(root);
    let cfg = HostConfig::load(root)?;
    let meta = layout
        .meta(instance)?
        .with_context(|| format!("no instance {instance} on this host"))?;
    if meta.engine != "mariadb" {
        bail!("{instance} is not a MariaDB instance");
    }
    let user = meta.os_user.clone();
    let host = HostCtx {
        layout: &layout,
        cfg: &cfg,
        run_as: crate::agent::osuser::RunAs::resolve(user.as_deref().unwrap_or(&cfg.os_user))?,
        sockets: match &user {
            Some(u) => layout.sockets().join(u),
            None => layout.sockets(),
        },
    };
    ship::run(&host, instance, meta.port)
}

/// The last lines of the server's error log, which say why it stopped.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(8);
    lines[from..].join(" | ")
}

impl Engine for Mariadb {
    fn name(&self) -> &'static str {
        "mariadb"
    }

    fn server_binary(&self, cfg: &HostConfig) -> Option<PathBuf> {
        Self::bin(cfg, "mariadbd").ok()
    }

    fn integrity_check(
        &self,
        host: &HostCtx,
        _name: &str,
        meta: &InstanceMeta,
    ) -> Result<(String, bool, String)> {
        // CHECK TABLE over every table of every database; silent prints only what is wrong.
        let mut cmd = host
            .run_as
            .command(&Self::bin(host.cfg, "mariadb-check")?, &host.layout.root);
        cmd.arg("--no-defaults")
            .arg("--protocol=socket")
            .arg(format!(
                "--socket={}",
                Self::socket(host, meta.port).display()
            ))
            .arg(format!("--user={}", host.run_as.name))
            .args(["--all-databases", "--check", "--extended", "--silent"])
            .stdin(std::process::Stdio::null());
        let out = cmd.output().context("running mariadb-check")?;
        // It prints nothing when all is whole.
        let (ok, detail) = super::tool_verdict(&out);
        Ok(("mariadb-check --extended".into(), ok, detail))
    }

    fn query(
        &self,
        host: &HostCtx,
        meta: &InstanceMeta,
        database: Option<&str>,
        sql: &str,
    ) -> Result<String> {
        let text = match database {
            Some(db) => format!("USE `{db}`;\n{sql}"),
            None => sql.to_string(),
        };
        client::run(host, &Self::socket(host, meta.port), &text)
    }

    fn detect(&self, cfg: &HostConfig) -> Option<EngineFact> {
        let server = Self::bin(cfg, "mariadbd").ok()?;
        for tool in ["mariadb", "mariadb-install-db"] {
            Self::bin(cfg, tool).ok()?;
        }
        let out = std::process::Command::new(&server)
            .arg("--version")
            .output()
            .ok()?;
        // "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)"
        let text = String::from_utf8_lossy(&out.stdout);
        let mut words = text.split_whitespace().skip_while(|w| *w != "Ver").skip(1);
        let version = words.next()?.split('-').next()?.to_string();
        Some(EngineFact {
            name: self.name().into(),
            version,
            bin_dir: server.parent()?.display().to_string(),
        })
    }

    fn init(&self, host: &HostCtx, spec: &ProvisionSpec, port: u16, data_dir: &Path) -> Result<()> {
        Self::check_password(&spec.admin_password)?;
        host.make_socket_dir(&format!("mariadb.{port}.sock.lock"))?;
        // An init interrupted while its private server ran left that server behind.
        Self::shut_down(host, port)?;
        let mut cmd = host
            .run_as
            .command(&Self::bin(host.cfg, "mariadb-install-db")?, data_dir);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data_dir.display()))
            .arg("--auth-root-authentication-method=socket")
            .arg(format!("--auth-root-socket-user={}", host.run_as.name))
            .arg("--skip-test-db");
        run_checked(&mut cmd, "mariadb-install-db")?;
        let id = config::server_id(&host.layout.root, &spec.instance);
        config::write(
            host,
            data_dir,
            &config::settings(host, &spec.size, port, id, spec.archive_timeout_secs, 1),
        )?;
        // The admin account, made on the new server reachable only by dbhost, which then
        // stops: the instance's own start comes next.
        let log = host.layout.log(&spec.instance);
        Self::launch_with(host, data_dir, &log, port, &["--skip-networking"])?;
        let user = &spec.admin_user;
        let hash = client::native_hash(&spec.admin_password);
        let made = client::run(
            host,
            &Self::socket(host, port),
            &format!(
                "SET SESSION sql_log_bin = 0;\
                 CREATE USER '{user}'@'%' IDENTIFIED BY PASSWORD '{hash}';\
                 GRANT ALL PRIVILEGES ON *.* TO '{user}'@'%' WITH GRANT OPTION;"
            ),
        );
        let stopped = Self::shut_down(host, port);
        made?;
        stopped
    }

    /// A copy still to replay starts with no network listener: nobody sees it before it
    /// has reached its target.
    fn start(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()> {
        self.start_instance(host, name, meta, meta.replay.is_some())
    }

    fn start_private(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()> {
        self.start_instance(host, name, meta, true)
    }

    fn stop(&self, host: &HostCtx, _name: &str, meta: &InstanceMeta) -> Result<()> {
        Self::shut_down(host, meta.port)
    }

    fn liveness(&self, host: &HostCtx, _name: &str, meta: &InstanceMeta) -> Result<Liveness> {
        let Some(pid) = Self::server_pid(host, meta.port) else {
            return Ok(Liveness::default());
        };
        // Whether it answers, and the clients connected besides this probe (not the server's
        // own threads, nor the binary log shipper reading its logs). A stalled server must
        // read as not answering within the probe's deadline, a full one as busy.
        use crate::agent::engine::probe::{says_full, Probed, PROBE_DEADLINE};
        let probed = client::probe(
            host,
            &Self::socket(host, meta.port),
            "SELECT COUNT(*), @@global.gtid_binlog_pos FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID') AND USER NOT IN ('system user', 'event_scheduler')",
            PROBE_DEADLINE,
        )?;
        let mut live = Liveness {
            running: true,
            pid: Some(pid),
            ..Default::default()
        };
        match probed {
            Probed::Ended(out) if out.status.success() => {
                live.accepting = true;
                let text = String::from_utf8_lossy(&out.stdout);
                let mut fields = text.trim().split('\t');
                live.sessions = fields.next().and_then(|n| n.trim().parse().ok());
                live.newest_transaction = fields.next().map(|g| g.trim().to_string());
            }
            Probed::Ended(out) => {
                let said = client::said(&String::from_utf8_lossy(&out.stderr));
                if says_full(&said) {
                    live.busy = Some(said);
                } else {
                    live.unanswered = Some(said);
                }
            }
            Probed::TimedOut => {
                live.unanswered = Some(format!("no answer within {} s", PROBE_DEADLINE.as_secs()));
            }
        }
        Ok(live)
    }

    fn snapshot_skips(&self, rel: &str) -> bool {
        rel == config::FILE
    }

    fn online_snapshot(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        target: &Path,
        capture: &mut dyn FnMut(&Path) -> Result<()>,
    ) -> Result<SnapshotPoint> {
        let storage = crate::agent::storage::select(&host.layout.root, &host.cfg.storage)?;
        if storage.captures_atomically(&host.layout.data(name)) {
            backup::atomic_snapshot(host, name, meta, target, capture)
        } else {
            backup::online_snapshot(host, name, meta, capture)
        }
    }

    fn replay_log_dir(&self, data: &Path) -> PathBuf {
        self.replay_dir(data)
    }

    fn prepare_restored(
        &self,
        host: &HostCtx,
        spec: &ProvisionSpec,
        port: u16,
        data_dir: &Path,
        _position: &str,
        _recovery: Option<&RecoverySpec>,
    ) -> Result<()> {
        // The copy must say where its binary log position is before it is worth starting.
        backup::binlog_info(data_dir)?;
        let id = config::server_id(&host.layout.root, &spec.instance);
        // A server restored in place goes on in its old archive: on a branch of its own,
        // after every branch there, so none of its files takes an archived file's name.
        let format = binlog::Binlog::default();
        let branch = crate::agent::logs::list_held(host.layout, &spec.instance)?
            .iter()
            .filter_map(|f| format.branch_of(&f.name))
            .max()
            .map_or(1, |b| b + 1);
        // A copy of the whole data directory (a btrfs snapshot) carries the source's binary
        // logs: files of another branch are never this server's, nor shipped; gone.
        let ours = binlog::base(branch);
        for e in std::fs::read_dir(data_dir)?.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let log_file = format.branch_of(&n).is_some_and(|b| b != branch);
            let side_file = [".index", ".state"].iter().any(|s| {
                n.strip_suffix(s)
                    .is_some_and(|b| b != ours && format.in_chain(&format!("{b}.000001")))
            });
            if (log_file || side_file) && e.file_type().is_ok_and(|t| t.is_file()) {
                std::fs::remove_file(e.path())?;
            }
        }
        config::write(
            host,
            data_dir,
            &config::settings(
                host,
                &spec.size,
                port,
                id,
                spec.archive_timeout_secs,
                branch,
            ),
        )?;
        let mark = data_dir.join(backup::RESTORED_MARK);
        crate::fsutil::replace_file(&mark, b"", 0o600)?;
        host.run_as.chown(&mark)
    }

    /// Replays onto the server `start` brought up with no network listener, then starts
    /// it for everyone.
    fn replay(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        recovery: &RecoverySpec,
    ) -> Result<()> {
        replay::replay(host, &host.layout.data(name), meta.port, recovery)?;
        Self::shut_down(host, meta.port)?;
        let done = InstanceMeta {
            replay: None,
            ..meta.clone()
        };
        self.start_instance(host, name, &done, false)
    }

    fn log_shipping(&self) -> LogShipping {
        LogShipping::Pulled
    }

    fn log_format(&self, cfg: &HostConfig) -> Box<dyn LogFormat> {
        Box::new(binlog::Binlog {
            reader: Self::bin(cfg, "mariadb-binlog").ok(),
        })
    }

    fn check_admin_user(&self, user: &str) -> Result<()> {
        if RESERVED_USERS.contains(&user) || user.starts_with("dbi_") {
            bail!("invalid admin user `{user}`: MariaDB or dbhost uses that account name; pick another");
        }
        if user.is_empty()
            || user.len() > 80
            || !user
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            bail!("invalid admin user `{user}`: use up to 80 lowercase letters, digits and _");
        }
        Ok(())
    }

    fn switch_log(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<String> {
        ship::switch(host, name, meta.port)
    }

    fn reconfigure(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        size: &crate::wire::Size,
        archive_timeout_secs: u32,
    ) -> Result<()> {
        // The server keeps its id and the binary log branch it writes.
        use crate::agent::logs::LogFormat;
        let data_dir = host.layout.data(name);
        let branch = binlog::Binlog::default()
            .branch_of(&format!("{}.000001", config::log_base(&data_dir)))
            .unwrap_or(1);
        let id = config::server_id(&host.layout.root, name);
        config::write(
            host,
            &data_dir,
            &config::settings(host, size, meta.port, id, archive_timeout_secs, branch),
        )
    }

    fn reload(&self, _: &HostCtx, _: &str, _: &InstanceMeta) -> Result<()> {
        // The settings that change without a restart are dbhost's own (the archive timeout),
        // read by the shipper each time it looks.
        Ok(())
    }

    fn set_password(
        &self,
        host: &HostCtx,
        _name: &str,
        meta: &InstanceMeta,
        password: &str,
    ) -> Result<()> {
        Self::check_password(password)?;
        self.check_admin_user(&meta.admin_user)?;
        let hash = client::native_hash(password);
        client::run(
            host,
            &Self::socket(host, meta.port),
            &format!(
                "SET SESSION sql_log_bin = 0;ALTER USER '{}'@'%' IDENTIFIED BY PASSWORD '{hash}';",
                meta.admin_user
            ),
        )
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_malformed_admin_names_are_refused() {
        for bad in ["root", "mysql", "dbi_1234", "a'b", "Admin", ""] {
            assert!(Mariadb.check_admin_user(bad).is_err(), "{bad}");
        }
        assert!(Mariadb.check_admin_user("dbadmin").is_ok());
    }
}
