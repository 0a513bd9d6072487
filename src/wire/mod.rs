//! Request and answer types shared by dbctl and dbhost: the versioned JSON-lines protocol.
//!
//! dbctl writes one [`Request`] to `dbhost rpc`'s stdin; dbhost answers with zero or more
//! progress/event [`Message`]s and exactly one `result` message. After a read-only request's
//! result, another request may follow on the same stdin (the daemon's checks do this). Nothing here is ever turned
//! into a shell command line on either side.

pub mod logs;

use logs::{CoverageSpec, LogCheckSpec, LogExportSpec, PruneSpec, SnapshotStart};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol this build speaks. dbctl refuses a host that answers with another one.
/// 2: engine-neutral log ops and positions, specs that refuse unknown fields.
/// 3: a stream's files in restic tree order (the top's first), so a repository takes it as
/// it comes.
/// 4: `reconfigure`.
/// 5: read-only requests may follow one another on one conversation; `check`.
pub const PROTOCOL: u32 = 7;
/// The package version, carried in every answer so skew is visible.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One request from dbctl to dbhost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Request {
    pub protocol: u32,
    /// Idempotency key: the same id never acts twice on a host (workflow id + step index).
    pub request_id: String,
    #[serde(flatten)]
    pub op: Op,
}

impl Request {
    pub fn new(request_id: impl Into<String>, op: Op) -> Self {
        Self {
            protocol: PROTOCOL,
            request_id: request_id.into(),
            op,
        }
    }
}

/// What dbhost is asked to do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Describe the host: versions, capacity, engines.
    Facts,
    /// Read-only check that an instance could be provisioned here.
    Preflight(PreflightSpec),
    /// Create an instance's data directory and configuration (not started).
    Provision(ProvisionSpec),
    Start(InstanceRef),
    Stop(InstanceRef),
    /// Stop a running instance after archiving every commit it made: its sessions are ended,
    /// it comes back with no network listener, its current log is archived, it stops.
    StopArchived(InstanceRef),
    /// Read-only: does the instance exist, run, answer queries.
    Status(InstanceRef),
    /// The engine's own integrity checks of an instance's data, then the DBA's queries.
    Check(CheckSpec),
    /// Stop the instance if it runs and remove all its data.
    Destroy(InstanceRef),
    /// Take an online snapshot of a running instance into the host's snapshot store.
    SnapshotCreate(SnapshotSpec),
    /// Remove a snapshot from the host's store.
    SnapshotDelete(SnapshotRef),
    /// Read-only: recompute a snapshot's checksums against its manifest.
    SnapshotVerify(SnapshotRef),
    /// Bulk: stdout carries the snapshot as a stream; answers go to stderr.
    SnapshotExport(SnapshotRef),
    /// Bulk: stdin (after the request line) carries a stream from an export, stored as a
    /// snapshot here with every file checked on arrival; answers go to stderr.
    SnapshotImport(SnapshotRef),
    /// Make a new instance (not started) from a snapshot in this host's store.
    Restore(RestoreSpec),
    /// Bulk: the same from the snapshot stream stdin carries (a repository's backup),
    /// written straight into the new data directory; the spec's snapshot is only a name.
    RestoreStreamed(RestoreSpec),
    /// Set the admin role's password of a running instance.
    SetPassword(PasswordSpec),
    /// Read-only: the instance's archived log files (not those found damaged).
    LogList(InstanceRef),
    /// Read the named archived files back against their recorded checksums; those that do
    /// not match are recorded as damaged (holes from then on) and returned.
    LogCheck(LogCheckSpec),
    /// Read-only: what the root holds on disk, by instance, snapshot and log archive.
    DiskUsage,
    /// Close the current log file and wait until it is archived.
    LogSwitch(InstanceRef),
    /// Read-only: how far the archived logs after each snapshot reach, and the first gap.
    LogCoverage(CoverageSpec),
    /// Remove archived log files older than the oldest kept snapshot needs (all, if none).
    LogPrune(PruneSpec),
    /// Stop an instance and move its data aside, put it back, or drop it (in-place restore).
    DataAside(AsideSpec),
    /// Bulk: stdout carries the archived log files of an instance from a snapshot's position on.
    LogExport(LogExportSpec),
    /// Bulk: stdin carries log files from a LogExport, stored in this host's archive under the
    /// same instance name, each checked against its recorded checksum.
    LogImport(InstanceRef),
    /// Rewrite an instance's settings for another size or archive timeout; a running server
    /// reloads them, or restarts when the spec says the change needs it.
    Reconfigure(ReconfigureSpec),
    /// Stop a replaced instance and set its directory aside (private to dbhost, kept until a
    /// person or the retention removes it), then free what the instance held as `Destroy`
    /// does: its OS user, its socket directory.
    Retire(RetireSpec),
    /// Read-only: the data set aside here by recoveries and in-place restores.
    ReplacedList,
    /// Remove the named set-aside data (the only way it is deleted).
    ReplacedRemove(ReplacedRemoveSpec),
}

/// An instance to set aside, and why (kept with it for people).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetireSpec {
    pub instance: String,
    pub reason: String,
}

/// Set-aside data to remove, by the names `ReplacedList` gives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReplacedRemoveSpec {
    pub names: Vec<String>,
}

/// Data a recovery or an in-place restore replaced, set aside on its host.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReplacedData {
    /// Its name under the host's `replaced/` (what `ReplacedRemove` takes).
    pub name: String,
    /// The instance (as the host knows it) whose data it was.
    pub instance: String,
    #[serde(default)]
    pub engine: String,
    /// When it was set aside (RFC 3339, UTC).
    pub replaced_at: String,
    #[serde(default)]
    pub reason: String,
    /// Bytes it takes on disk.
    #[serde(default)]
    pub bytes: u64,
}

/// What an op is, for the transports and the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpInfo {
    /// The name progress, errors and the journal use.
    pub name: &'static str,
    /// It changes the host: journaled under its request id, so a re-sent step never acts
    /// twice.
    pub mutating: bool,
    /// Its stdin or stdout is a raw data stream (answers on stderr).
    pub bulk: bool,
}

impl Op {
    /// Every op's name and kind, in one exhaustive match: a new op cannot be added without
    /// saying whether it changes the host.
    pub fn info(&self) -> OpInfo {
        let (name, mutating, bulk) = match self {
            Op::Facts => ("facts", false, false),
            Op::Preflight(_) => ("preflight", false, false),
            Op::Provision(_) => ("provision", true, false),
            Op::Start(_) => ("start", true, false),
            Op::Stop(_) => ("stop", true, false),
            Op::StopArchived(_) => ("stop_archived", true, false),
            Op::Status(_) => ("status", false, false),
            // PostgreSQL's checks install the amcheck extension where it is missing.
            Op::Check(_) => ("check", true, false),
            Op::Destroy(_) => ("destroy", true, false),
            Op::SnapshotCreate(_) => ("snapshot_create", true, false),
            Op::SnapshotDelete(_) => ("snapshot_delete", true, false),
            Op::SnapshotVerify(_) => ("snapshot_verify", false, false),
            Op::SnapshotExport(_) => ("snapshot_export", false, true),
            Op::SnapshotImport(_) => ("snapshot_import", true, true),
            Op::Restore(_) => ("restore", true, false),
            Op::RestoreStreamed(_) => ("restore_streamed", true, true),
            Op::SetPassword(_) => ("set_password", true, false),
            Op::LogList(_) => ("log_list", false, false),
            Op::LogCheck(_) => ("log_check", true, false),
            Op::DiskUsage => ("disk_usage", false, false),
            Op::LogSwitch(_) => ("log_switch", true, false),
            Op::LogCoverage(_) => ("log_coverage", false, false),
            Op::LogPrune(_) => ("log_prune", true, false),
            Op::LogExport(_) => ("log_export", false, true),
            Op::LogImport(_) => ("log_import", true, true),
            Op::Reconfigure(_) => ("reconfigure", true, false),
            Op::Retire(_) => ("retire", true, false),
            Op::ReplacedList => ("replaced_list", false, false),
            Op::ReplacedRemove(_) => ("replaced_remove", true, false),
            Op::DataAside(a) => (
                match a.mode {
                    AsideMode::Set => "set_data_aside",
                    AsideMode::PutBack => "put_data_back",
                    AsideMode::Drop => "retire_old_data",
                },
                true,
                false,
            ),
        };
        OpInfo {
            name,
            mutating,
            bulk,
        }
    }

    /// Ops that change the host are journaled under their request id; read-only ones are not.
    pub fn is_mutating(&self) -> bool {
        self.info().mutating
    }

    /// Ops whose stdin or stdout is a raw data stream (answers on stderr).
    pub fn is_bulk(&self) -> bool {
        self.info().bulk
    }

    pub fn name(&self) -> &'static str {
        self.info().name
    }
}

/// An instance's settings rewritten (`dbctl modify`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReconfigureSpec {
    pub instance: String,
    pub size: Size,
    pub archive_timeout_secs: u32,
    /// Restart a running server so that settings read only at start take effect.
    pub restart: bool,
}

/// What to check of an instance's data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub instance: String,
    /// The database the queries run in [default: the engine's own: postgres, or none].
    #[serde(default)]
    pub database: Option<String>,
    /// Each must return true or at least one row.
    #[serde(default)]
    pub queries: Vec<String>,
}

/// What the checks found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckReport {
    /// The engine's tool (pg_amcheck, mariadb-check) and whether it found the data whole.
    pub tool: String,
    pub engine_ok: bool,
    /// What it said when it did not (its last lines).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub engine_detail: String,
    pub queries: Vec<QueryCheck>,
}

impl CheckReport {
    /// Whether everything passed.
    pub fn ok(&self) -> bool {
        self.engine_ok && self.queries.iter().all(|q| q.ok)
    }
}

/// One of the DBA's queries and its verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueryCheck {
    pub sql: String,
    pub ok: bool,
    /// Why it failed: false, no rows, or the server's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InstanceRef {
    /// The instance's name on the host (the catalog's uid, unique per host).
    pub instance: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRef {
    /// The snapshot's name on the host (the catalog's uid).
    pub snapshot: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotSpec {
    pub instance: String,
    pub snapshot: String,
}

pub fn default_archive_timeout() -> u32 {
    60
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RestoreSpec {
    pub instance: String,
    pub snapshot: String,
    pub port: Option<u16>,
    pub size: Size,
    /// The admin role of the snapshot's source (roles come with the data).
    pub admin_user: String,
    #[serde(default = "default_archive_timeout")]
    pub archive_timeout_secs: u32,
    /// Replay archived logs past the snapshot to this target; None: stop at the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoverySpec>,
    /// Restore into the existing instance (its data set aside first), keeping its port.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_place: bool,
    /// Take the port of this instance on the same host (one a recovery replaces), when its
    /// server is stopped: clients keep their address. Otherwise a port is picked as usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_from: Option<String>,
}

/// Point-in-time recovery: which archive to replay from, and how far.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecoverySpec {
    /// The instance (host name) whose log archive holds the files.
    pub log_instance: String,
    pub target: Target,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// An RFC 3339 UTC time: every transaction committed at or before it.
    Time(String),
    /// A log position, as the engine writes it.
    Position(String),
    /// Everything archived.
    Latest,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AsideSpec {
    pub instance: String,
    pub mode: AsideMode,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum AsideMode {
    /// Stop the server and move its data directory aside.
    Set,
    /// Discard whatever data is there now, move the set-aside data back and start it.
    PutBack,
    /// The set-aside data is done with: moved to the host's replaced data (`ReplacedList`),
    /// kept until a person or the retention removes it.
    Drop,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PasswordSpec {
    pub instance: String,
    /// Filled in by the executor from the secret store just before sending.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
}

/// What a host knows of one snapshot in its store.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SnapshotInfo {
    pub snapshot: String,
    pub instance: String,
    pub engine: String,
    pub engine_version: String,
    /// The engine position the snapshot restores to, as the engine writes it.
    pub position: String,
    pub taken_at: String,
    pub backend: String,
    pub files: u64,
    pub size_bytes: u64,
    /// Files shared with the instance's previous snapshot instead of copied.
    pub shared_files: u64,
    /// Bytes of the files not shared with the previous snapshot: what this one added.
    #[serde(default)]
    pub new_bytes: u64,
    pub admin_user: String,
    /// The log branch the snapshot was taken on (stores from before branches were named so
    /// call it by PostgreSQL's word).
    #[serde(default = "one", alias = "timeline")]
    pub branch: u32,
    /// When the snapshot became consistent (its position was reached): the earliest time it
    /// can be restored to.
    #[serde(default)]
    pub consistent_at: String,
}

impl SnapshotInfo {
    /// Where the snapshot's log chain starts.
    pub fn start(&self) -> SnapshotStart {
        SnapshotStart {
            snapshot: self.snapshot.clone(),
            position: self.position.clone(),
            branch: self.branch,
        }
    }
}

fn one() -> u32 {
    1
}

/// The result of checking a snapshot against its manifest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VerifyReport {
    pub snapshot: String,
    pub files_checked: u64,
    /// One line per bad file; empty when the snapshot is intact.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PreflightSpec {
    pub engine: String,
    /// The admin user the instance will have: the engine refuses a name it reserves.
    pub admin_user: String,
    pub port: Option<u16>,
    pub storage_gb: u64,
}

/// The size an instance is given; each engine derives its own settings from it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Size {
    pub cpus: f64,
    pub memory_mb: u64,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProvisionSpec {
    pub instance: String,
    pub engine: String,
    /// None: dbhost picks a port that is really free in its range.
    pub port: Option<u16>,
    pub size: Size,
    pub admin_user: String,
    /// Longest time a written transaction may wait before its log is archived.
    #[serde(default = "default_archive_timeout")]
    pub archive_timeout_secs: u32,
    /// Filled in by the executor from the secret store just before sending; never persisted in
    /// the catalog's step list.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub admin_password: String,
}

/// Facts a host reports about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Facts {
    pub version: String,
    pub protocol: u32,
    pub hostname: String,
    pub root: String,
    pub cpus: u32,
    pub memory_mb: u64,
    pub disk_free_gb: u64,
    pub engines: Vec<EngineFact>,
    pub storage_backend: String,
    pub listen_address: String,
    pub port_range: [u16; 2],
    /// The OS user database servers run as.
    pub os_user: String,
    /// The snapshots its store holds, finished ones only (None: the store could not be
    /// listed; an older dbhost). What `host refresh` reconciles the catalog with.
    #[serde(default)]
    pub snapshots: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EngineFact {
    pub name: String,
    pub version: String,
    pub bin_dir: String,
}

/// What dbhost knows of one instance.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InstanceStatus {
    pub instance: String,
    pub exists: bool,
    /// It exists, but its data directory is gone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub data_missing: bool,
    pub running: bool,
    /// The server answered a query.
    pub accepting: bool,
    #[serde(default)]
    pub engine: String,
    #[serde(default)]
    pub engine_version: String,
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub in_recovery: bool,
    /// Handing its logs to the archive fails (the server's last word on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_error: Option<String>,
    /// Pages whose checksums failed as the server read them: its data is damaged on disk.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub checksum_failures: u64,
    /// Client sessions connected (not dbhost's own): whether anyone uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<u32>,
    /// After a restore with recovery: the point it was set to recover to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_to: Option<String>,
    /// After a restore to a point: every commit up to this time is in the copy (where the
    /// engine can say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached: Option<String>,
    /// After a restore from an archive: its last commit after the snapshot, in the unbroken
    /// chain; commits after `reached` up to this one stay in the archive, not in the copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_until: Option<String>,
    /// After a restore to a point before `archive_until`: how many commits the archive
    /// holds after `reached` (which the copy does not), where the engine's reader can count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commits_after: Option<u64>,
    /// After its data was set aside (a retire, an in-place restore's old data): its name
    /// among the host's replaced data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<String>,
    /// After a stop that archived: every commit made before this time is in the archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_until: Option<String>,
    /// It runs and refused a session because its connection table is full (its words):
    /// alive and busy, never a reason to replace it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy: Option<String>,
    /// It runs but gave the probe no answer (a deadline passed, or what it said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanswered: Option<String>,
    /// The filesystem holding its data has no room left (how little): a server that stopped
    /// for it is not broken, and starts again once there is room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_full: Option<String>,
    /// What losing its data now would lose: None when unknown (the server cannot say what
    /// it committed last), else whether it committed anything the archive lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
}

/// Whether a running server holds commits its archive lacks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Exposure {
    /// The archive's newest commit (RFC 3339, UTC), if any.
    pub archived_through: Option<String>,
    /// Some: the server committed after `archived_through`, so everything it committed since
    /// that moment would be lost with its data; None: nothing is at risk.
    pub at_risk_since: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Bytes on disk under a host's root, by owner (names as the host knows them); a file shared
/// by hard links counts once.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DiskUsage {
    pub instances: std::collections::BTreeMap<String, u64>,
    pub snapshots: std::collections::BTreeMap<String, u64>,
    pub logs: std::collections::BTreeMap<String, u64>,
    /// Data set aside by recoveries and in-place restores, by its name there.
    #[serde(default)]
    pub replaced: std::collections::BTreeMap<String, u64>,
    /// Everything else under the root (journal, sockets, staging).
    pub other: u64,
}

/// An error that crossed the wire: data, so dbctl can add context and decide on retries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for WireError {}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    /// A value the user gave (a position, an admin user name) that the engine cannot take:
    /// said to the user as bad input.
    InvalidInput,
    ProtocolMismatch,
    EngineMissing,
    PortInUse,
    NoSpace,
    NotFound,
    /// A snapshot's files do not match its manifest.
    SnapshotCorrupt,
    EngineFailed,
    Internal,
}

impl ErrorCode {
    /// Whether trying the same request again may help.
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorCode::EngineFailed | ErrorCode::Internal)
    }
}

/// One line of dbhost's answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Progress {
        message: String,
    },
    Event {
        message: String,
    },
    Result {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ok: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<WireError>,
        version: String,
        protocol: u32,
        /// True when the answer was replayed from the host's journal.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        replayed: bool,
    },
}

impl Message {
    pub fn ok(value: Value, replayed: bool) -> Self {
        Message::Result {
            ok: Some(value),
            error: None,
            version: VERSION.to_string(),
            protocol: PROTOCOL,
            replayed,
        }
    }

    pub fn err(error: WireError) -> Self {
        Message::Result {
            ok: None,
            error: Some(error),
            version: VERSION.to_string(),
            protocol: PROTOCOL,
            replayed: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::logs::LogFile;
    use super::*;

    #[test]
    fn request_is_flat_json_with_op_tag() {
        let r = Request::new(
            "wf1-s0",
            Op::Start(InstanceRef {
                instance: "a".into(),
            }),
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["op"], "start");
        assert_eq!(v["instance"], "a");
        assert_eq!(v["protocol"], PROTOCOL);
        let back: Request = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn specs_refuse_unknown_fields() {
        let ok = r#"{"protocol":2,"request_id":"r","op":"start","instance":"a"}"#;
        assert!(serde_json::from_str::<Request>(ok).is_ok());
        let extra = r#"{"protocol":2,"request_id":"r","op":"start","instance":"a","force":true}"#;
        let e = serde_json::from_str::<Request>(extra).unwrap_err();
        assert!(e.to_string().contains("force"), "{e}");
        // Nested specs too.
        let nested = r#"{"protocol":2,"request_id":"r","op":"restore","instance":"a","snapshot":"s",
            "port":null,"size":{"cpus":1.0,"memory_mb":1,"max_connections":1},"admin_user":"u",
            "recovery":{"log_instance":"b","target":{"kind":"latest"},"staged":true}}"#;
        assert!(serde_json::from_str::<Request>(nested).is_err());
        // A listing handed to dbhost to reckon with, down to each file's record.
        let file = r#"{"name":"000000010000000000000001","size":1,"sha256":"x","archived_at":"t"}"#;
        let listing = |file: &str| {
            format!(
                r#"{{"protocol":2,"request_id":"r","op":"log_coverage","instance":"a","engine":"postgres",
                "snapshots":[],"given":{{"files":[{file}],"marks":[]}}}}"#
            )
        };
        assert!(serde_json::from_str::<Request>(&listing(file)).is_ok());
        let extra = file.replace(r#""size":1"#, r#""size":1,"executable":true"#);
        let e = serde_json::from_str::<Request>(&listing(&extra)).unwrap_err();
        assert!(e.to_string().contains("executable"), "{e}");
        // Records written before the field's rename still read.
        let old: LogFile = serde_json::from_str(
            &file.replace(r#""size":1"#, r#""size":1,"last_commit_lsn":"0/1""#),
        )
        .unwrap();
        assert_eq!(old.last_commit_position.as_deref(), Some("0/1"));
    }

    #[test]
    fn every_op_says_whether_it_changes_the_host() {
        let i = || InstanceRef {
            instance: "a".into(),
        };
        let prune = Op::LogPrune(PruneSpec {
            instance: "a".into(),
            engine: "postgres".into(),
            keep: vec![],
            keep_snapshots: vec![],
            keep_all: false,
            given: None,
        });
        assert!(prune.is_mutating() && !prune.is_bulk());
        assert!(Op::LogImport(i()).is_mutating() && Op::LogImport(i()).is_bulk());
        assert!(!Op::Status(i()).is_mutating());
        assert_eq!(Op::LogSwitch(i()).info().name, "log_switch");
    }

    #[test]
    fn password_is_not_serialized_when_empty() {
        let spec = ProvisionSpec {
            instance: "a".into(),
            engine: "postgres".into(),
            port: None,
            size: Size {
                cpus: 1.0,
                memory_mb: 1024,
                max_connections: 100,
            },
            admin_user: "dbadmin".into(),
            archive_timeout_secs: 60,
            admin_password: String::new(),
        };
        let s = serde_json::to_string(&Op::Provision(spec)).unwrap();
        assert!(!s.contains("admin_password"), "{s}");
    }

    #[test]
    fn result_messages_round_trip() {
        let m = Message::err(WireError {
            code: ErrorCode::PortInUse,
            message: "port 5 is in use".into(),
            hint: None,
        });
        let line = serde_json::to_string(&m).unwrap();
        assert!(line.contains(r#""type":"result""#));
        assert!(line.contains(r#""code":"port_in_use""#));
        assert_eq!(serde_json::from_str::<Message>(&line).unwrap(), m);
    }
}
