//! Database engines behind one interface: what dbhost's generic instance operations call.
//!
//! Nothing engine-specific (file names, config keys, tools) leaves an engine's module.

pub mod mariadb;
pub mod postgres;
pub mod probe;

use crate::agent::layout::{InstanceMeta, Layout};
use crate::agent::logs::LogFormat;
use crate::agent::osuser::RunAs;
use crate::agent::HostConfig;
use crate::wire::{EngineFact, ProvisionSpec, RecoverySpec};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// What an engine is given to work with on this host, for one instance.
pub struct HostCtx<'a> {
    pub layout: &'a Layout,
    pub cfg: &'a HostConfig,
    /// The instance's OS user: its server and tools run as it, its files belong to it.
    pub run_as: RunAs,
    /// Where the instance's server puts its unix socket (only its OS user and dbhost use it).
    pub sockets: std::path::PathBuf,
}

impl HostCtx<'_> {
    /// Makes the instance's socket directory, private to its OS user unless it is the
    /// host's shared one, checking first that `longest` (the longest name the server puts
    /// there) fits in the 108 bytes a unix socket's path may have, with room to spare.
    ///
    /// # Errors
    /// The path would be too long, or the directory cannot be made.
    pub fn make_socket_dir(&self, longest: &str) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let len = self.sockets.join(longest).as_os_str().len();
        if len > 100 {
            anyhow::bail!(
                "socket path under {} would be {len} bytes, over the 100 a unix socket allows; use a shorter dbhost --root",
                self.sockets.display()
            );
        }
        std::fs::create_dir_all(&self.sockets)?;
        let mode = if self.sockets == self.layout.sockets() {
            0o755
        } else {
            0o700
        };
        std::fs::set_permissions(&self.sockets, std::fs::Permissions::from_mode(mode))?;
        self.run_as.chown(&self.sockets)
    }
}

/// What an integrity tool that prints only what is wrong said: whether it found the data
/// whole (it exited 0 and printed no finding on stdout), and its last lines otherwise. The
/// server's NOTICEs (an extension already there) are neither findings nor detail.
pub fn tool_verdict(out: &std::process::Output) -> (bool, String) {
    let said = |b: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(b)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("NOTICE:"))
            .map(str::to_string)
            .collect()
    };
    let findings = said(&out.stdout);
    let ok = out.status.success() && findings.is_empty();
    let mut lines = findings;
    lines.extend(said(&out.stderr));
    (ok, lines[lines.len().saturating_sub(5)..].join(" / "))
}

/// Whether a server runs and answers.
#[derive(Debug, Clone, Default)]
pub struct Liveness {
    pub running: bool,
    pub pid: Option<u32>,
    pub accepting: bool,
    /// Still replaying logs (a restored copy before promotion): read-only.
    pub in_recovery: bool,
    /// The server's own word that handing its logs to the archive fails (the last failure,
    /// newer than the last success).
    pub archive_error: Option<String>,
    /// Pages whose checksums failed as the server read them (corruption on disk).
    pub checksum_failures: u64,
    /// Client sessions connected now (not dbhost's own, nor the server's own workers).
    pub sessions: Option<u32>,
    /// It runs and refused the probe's session because its connection table is full (its
    /// words): alive and busy.
    pub busy: Option<String>,
    /// It runs but the probe got no answer (what happened: a deadline passed, or what the
    /// server said).
    pub unanswered: Option<String>,
    /// The time of the newest commit the server made since it started (RFC 3339, UTC; empty:
    /// none since), where it can say.
    pub newest_commit: Option<String>,
    /// The newest transaction it committed by the engine's own name for it (MariaDB's GTID
    /// position), where it has one.
    pub newest_transaction: Option<String>,
}

/// Where an online snapshot restores to.
#[derive(Debug, Clone)]
pub struct SnapshotPoint {
    /// The engine's log position, as the engine writes it.
    pub position: String,
    /// The log branch it is on (1 for an engine whose log never branches).
    pub branch: u32,
}

/// How an engine's finished log files reach the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogShipping {
    /// The server hands each file to `dbhost log-archive` itself, and reports a switch done
    /// only once the file is archived.
    Pushed,
    /// dbhost must copy closed files out of the server's own log directory.
    Pulled,
}

pub trait Engine {
    fn name(&self) -> &'static str;

    /// The installed engine's version and binaries, or None when it is not installed.
    fn detect(&self, cfg: &HostConfig) -> Option<EngineFact>;

    /// The server binary whose version `detect` reads, found without running anything: a
    /// detection holds for as long as that file is unchanged.
    fn server_binary(&self, cfg: &HostConfig) -> Option<std::path::PathBuf>;

    /// Runs the engine's own integrity check over every database of a running instance:
    /// its tool's name, whether the data is whole, and what it said otherwise.
    ///
    /// # Errors
    /// The tool cannot run at all.
    fn integrity_check(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
    ) -> Result<(String, bool, String)>;

    /// Runs one query of the DBA's in `database` (the engine's default when None) and returns
    /// its rows, one a line, fields separated by tabs or `|`.
    ///
    /// # Errors
    /// The server refuses it (the message says why).
    fn query(
        &self,
        host: &HostCtx,
        meta: &InstanceMeta,
        database: Option<&str>,
        sql: &str,
    ) -> Result<String>;

    /// Initializes a new data directory at `data_dir` (owned by the OS user, empty) for `spec`,
    /// listening on `port`, with the admin role and password of the spec.
    ///
    /// # Errors
    /// The engine's tools fail; the message carries their output.
    fn init(
        &self,
        host: &HostCtx,
        spec: &ProvisionSpec,
        port: u16,
        data_dir: &std::path::Path,
    ) -> Result<()>;

    /// Starts the server and waits until it accepts connections. Already running is success.
    ///
    /// # Errors
    /// The server does not start; the message carries the end of its log.
    fn start(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()>;

    /// Starts the server reachable only by dbhost's own local sessions (no network listener),
    /// so that nothing but dbhost can change it; waits until it accepts them.
    ///
    /// # Errors
    /// The server does not start.
    fn start_private(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()>;

    /// Stops the server (fast shutdown). Not running is success.
    ///
    /// # Errors
    /// The server does not stop in time.
    fn stop(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()>;

    /// Whether the server runs and answers a query.
    ///
    /// # Errors
    /// The engine's tools cannot be run at all.
    fn liveness(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<Liveness>;

    /// Whether `rel` (a path below a live data directory) is left out of snapshots.
    fn snapshot_skips(&self, rel: &str) -> bool;

    /// Takes an online snapshot while the server keeps serving: brackets `capture` (which
    /// copies the live data directory, given as its argument, to `target`) with the engine's
    /// backup API, then completes `target` so that it restores to one consistent point.
    /// Returns that point.
    ///
    /// # Errors
    /// The backup API or the capture fails; the backup is ended either way.
    fn online_snapshot(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        target: &Path,
        capture: &mut dyn FnMut(&Path) -> Result<()>,
    ) -> Result<SnapshotPoint>;

    /// Where a restored copy of data directory `data` reads the log files its replay needs:
    /// dbhost places checked copies there before the server starts, so replay fetches
    /// nothing on its way.
    fn replay_log_dir(&self, data: &Path) -> PathBuf;

    /// Readies a data directory copied from a snapshot to run as a new instance: settings
    /// from `spec` and `port`, access for the admin role, and recovery to exactly the
    /// snapshot's `position` or, with `recovery`, on through the archived logs placed in
    /// its [`Engine::replay_log_dir`] to its target.
    ///
    /// # Errors
    /// Files cannot be written.
    fn prepare_restored(
        &self,
        host: &HostCtx,
        spec: &ProvisionSpec,
        port: u16,
        data_dir: &Path,
        position: &str,
        recovery: Option<&RecoverySpec>,
    ) -> Result<()>;

    /// Replays `recovery` on a restored server that has started (an engine whose server
    /// replays while it starts, from what `prepare_restored` wrote, has nothing to do).
    ///
    /// # Errors
    /// Replay fails or does not reach the target.
    fn replay(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        recovery: &RecoverySpec,
    ) -> Result<()>;

    /// How the engine's finished log files reach the archive.
    fn log_shipping(&self) -> LogShipping;

    /// The engine's log files and positions, for the log archive.
    fn log_format(&self, cfg: &HostConfig) -> Box<dyn LogFormat>;

    /// Refuses an admin user name the engine reserves or cannot take.
    ///
    /// # Errors
    /// The name, and why it cannot be used.
    fn check_admin_user(&self, user: &str) -> Result<()>;

    /// Closes the current log file so it is archived now; returns its name once it is.
    ///
    /// # Errors
    /// The server refuses, or the segment is not archived in time.
    fn switch_log(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<String>;

    /// Rewrites the instance's settings for `size` and `archive_timeout_secs` (read by the
    /// server at its next start or reload).
    ///
    /// # Errors
    /// Files cannot be written.
    fn reconfigure(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        size: &crate::wire::Size,
        archive_timeout_secs: u32,
    ) -> Result<()>;

    /// Makes a running server read its settings again, without a restart.
    ///
    /// # Errors
    /// The server refuses.
    fn reload(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()>;

    /// Sets the admin role's password on the running server.
    ///
    /// # Errors
    /// The server refuses or does not answer.
    fn set_password(
        &self,
        host: &HostCtx,
        name: &str,
        meta: &InstanceMeta,
        password: &str,
    ) -> Result<()>;
}

/// Every engine this build knows.
pub fn all() -> Vec<Box<dyn Engine>> {
    vec![Box::new(postgres::Postgres), Box::new(mariadb::Mariadb)]
}

/// The engine called `name`, if this build knows it.
pub fn by_name(name: &str) -> Option<Box<dyn Engine>> {
    all().into_iter().find(|e| e.name() == name)
}
