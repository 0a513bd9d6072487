//! Request and answer types shared by dbctl and dbhost: the versioned JSON-lines protocol.
//!
//! dbctl writes one [`Request`] to `dbhost rpc`'s stdin; dbhost answers with zero or more
//! progress/event [`Message`]s and exactly one `result` message. Nothing here is ever turned
//! into a shell command line on either side.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol this build speaks. dbctl refuses a host that answers with another one.
pub const PROTOCOL: u32 = 1;
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
    /// Set the admin role's password of a running instance.
    SetPassword(PasswordSpec),
    /// Read-only: the instance's archived log segments.
    WalList(InstanceRef),
    /// Read-only: what the root holds on disk, by instance, snapshot and log archive.
    DiskUsage,
    /// Close the current log segment and wait until it is archived.
    WalSwitch(InstanceRef),
    /// Read-only: how far the archived logs after each snapshot reach, and the first gap.
    LogCoverage(CoverageSpec),
    /// Remove archived segments older than the oldest kept snapshot needs (all, if none).
    WalPrune(PruneSpec),
    /// Stop an instance and move its data aside, put it back, or drop it (in-place restore).
    DataAside(AsideSpec),
    /// Bulk: stdout carries the archived log files of an instance from a snapshot's position on.
    WalExport(WalExportSpec),
    /// Bulk: stdin carries log files from a WalExport, stored in this host's archive under the
    /// same instance name, each checked against its recorded checksum.
    WalImport(InstanceRef),
}

impl Op {
    /// Ops that change the host are journaled under their request id; read-only ones are not.
    pub fn is_mutating(&self) -> bool {
        matches!(
            self,
            Op::Provision(_)
                | Op::Start(_)
                | Op::Stop(_)
                | Op::StopArchived(_)
                | Op::Destroy(_)
                | Op::SnapshotCreate(_)
                | Op::SnapshotDelete(_)
                | Op::SnapshotImport(_)
                | Op::Restore(_)
                | Op::SetPassword(_)
                | Op::WalSwitch(_)
                | Op::WalPrune(_)
                | Op::DataAside(_)
                | Op::WalImport(_)
        )
    }

    /// Ops whose stdin or stdout is a raw data stream (answers on stderr).
    pub fn is_bulk(&self) -> bool {
        matches!(
            self,
            Op::SnapshotExport(_) | Op::SnapshotImport(_) | Op::WalExport(_) | Op::WalImport(_)
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Op::Facts => "facts",
            Op::Preflight(_) => "preflight",
            Op::Provision(_) => "provision",
            Op::Start(_) => "start",
            Op::Stop(_) => "stop",
            Op::StopArchived(_) => "stop_archived",
            Op::Status(_) => "status",
            Op::Destroy(_) => "destroy",
            Op::SnapshotCreate(_) => "snapshot_create",
            Op::SnapshotDelete(_) => "snapshot_delete",
            Op::SnapshotVerify(_) => "snapshot_verify",
            Op::SnapshotExport(_) => "snapshot_export",
            Op::SnapshotImport(_) => "snapshot_import",
            Op::Restore(_) => "restore",
            Op::SetPassword(_) => "set_password",
            Op::WalList(_) => "wal_list",
            Op::DiskUsage => "disk_usage",
            Op::WalSwitch(_) => "wal_switch",
            Op::LogCoverage(_) => "log_coverage",
            Op::WalPrune(_) => "wal_prune",
            Op::WalExport(_) => "wal_export",
            Op::WalImport(_) => "wal_import",
            Op::DataAside(a) => match a.mode {
                AsideMode::Set => "set_data_aside",
                AsideMode::PutBack => "put_data_back",
                AsideMode::Drop => "drop_old_data",
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceRef {
    /// The instance's name on the host (the catalog's uid, unique per host).
    pub instance: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SnapshotRef {
    /// The snapshot's name on the host (the catalog's uid).
    pub snapshot: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SnapshotSpec {
    pub instance: String,
    pub snapshot: String,
}

pub fn default_archive_timeout() -> u32 {
    60
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
}

/// Point-in-time recovery: which archive to replay from, and how far.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecoverySpec {
    /// The instance (host name) whose log archive holds the segments.
    pub wal_instance: String,
    pub target: Target,
    /// Set by dbhost itself, never sent: replay reads the copies staged for the restored
    /// instance rather than `wal_instance`'s archive.
    #[serde(skip)]
    pub staged: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// An RFC 3339 UTC time: every transaction committed at or before it.
    Time(String),
    /// A log position such as "0/3000060".
    Lsn(String),
    /// Everything archived.
    Latest,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WalExportSpec {
    pub instance: String,
    /// Only what replay from this snapshot needs (all when None).
    pub from: Option<SnapshotStart>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    /// Remove the set-aside data.
    Drop,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PruneSpec {
    pub instance: String,
    /// The oldest snapshot still kept: segments it needs (from its position on) stay.
    pub keep_from: Option<SnapshotStart>,
    /// Snapshots in this host's store whose segments stay too, looked up when the prune runs
    /// (one taken earlier in the same workflow had no position when it was planned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_snapshots: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CoverageSpec {
    pub instance: String,
    pub snapshots: Vec<SnapshotStart>,
}

/// A snapshot's own end point, from which its log chain continues.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SnapshotStart {
    pub snapshot: String,
    pub position: String,
    pub timeline: u32,
}

/// How far replay can go from each snapshot, and what the archive holds in all.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Coverage {
    pub snapshots: Vec<SnapshotReach>,
    pub segments: u64,
    pub first_segment: Option<String>,
    pub last_segment: Option<String>,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SnapshotReach {
    pub snapshot: String,
    /// The last commit time in the unbroken chain after the snapshot (None: no archived
    /// commit after it yet).
    pub until_time: Option<String>,
    /// Where that last commit's record starts.
    #[serde(default)]
    pub until_commit_position: Option<String>,
    /// The first segment of the chain whose commits could not be read (pg_waldump was
    /// missing): the last commit it knows of may not be the last there is.
    #[serde(default)]
    pub unscanned: Option<String>,
    /// A time before which every commit is known to be in the chain (a log switch dbhost
    /// made at that time was archived within it); None when no such switch is in it.
    #[serde(default)]
    pub complete_until: Option<String>,
    /// The end of the unbroken chain (the snapshot's own position when nothing follows).
    pub until_position: String,
    /// The first missing segment, when archived segments exist past it.
    pub gap: Option<String>,
}

/// What the host's log archive holds for one instance.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WalSegment {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub archived_at: String,
    #[serde(default)]
    pub first_commit: Option<String>,
    #[serde(default)]
    pub last_commit: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    /// The engine position the snapshot restores to (an LSN for PostgreSQL).
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
    /// The log timeline the snapshot was taken on.
    #[serde(default = "one")]
    pub timeline: u32,
    /// When the snapshot became consistent (its position was reached): the earliest time it
    /// can be restored to.
    #[serde(default)]
    pub consistent_at: String,
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
pub struct PreflightSpec {
    pub engine: String,
    pub port: Option<u16>,
    pub storage_gb: u64,
}

/// The size an instance is given; each engine derives its own settings from it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Size {
    pub cpus: f64,
    pub memory_mb: u64,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    /// After a restore with recovery: the point it was set to recover to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_to: Option<String>,
    /// After a stop that archived: every commit made before this time is in the archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_until: Option<String>,
}

/// Bytes on disk under a host's root, by owner (names as the host knows them); a file shared
/// by hard links counts once.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DiskUsage {
    pub instances: std::collections::BTreeMap<String, u64>,
    pub snapshots: std::collections::BTreeMap<String, u64>,
    pub logs: std::collections::BTreeMap<String, u64>,
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
