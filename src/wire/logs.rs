//! The log archive's part of the protocol: what an archive holds (files, their checksums and
//! commits, dbhost's switch marks), what a snapshot's chain of logs reaches, and the specs of the
//! log ops that read, check, export and prune it.

use serde::{Deserialize, Serialize};

/// Archived files of an instance to read back against their records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogCheckSpec {
    pub instance: String,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogExportSpec {
    pub instance: String,
    /// The engine whose log it is (it says which files a position needs).
    pub engine: String,
    /// Only what replay from this snapshot needs (all when None).
    pub from: Option<SnapshotStart>,
    /// Only these files (and their records), when given: what a repository lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
}

/// What the archive knows of one stored file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogFile {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub archived_at: String,
    /// Commit timestamps of the first and last transaction in the file (RFC 3339, UTC).
    #[serde(default)]
    pub first_commit: Option<String>,
    #[serde(default)]
    pub last_commit: Option<String>,
    /// Where the last commit record starts: replay can stop right after it.
    #[serde(default, alias = "last_commit_lsn")]
    pub last_commit_position: Option<String>,
    /// Whether its commits were read at all (the engine's log reader ran): without that,
    /// "no commit" in it means nothing.
    #[serde(default = "yes")]
    pub scanned: bool,
    /// The first and last transaction in the file, by the engine's own name for them
    /// (MariaDB's GTIDs), where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_transaction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transaction: Option<String>,
}

fn yes() -> bool {
    true
}

/// A log switch dbhost made: every commit timestamped before `before` is in `segment` or an
/// earlier file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    pub segment: String,
    pub before: String,
}

/// An archive's files and dbhost's switch marks (`LogList`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogListing {
    pub files: Vec<LogFile>,
    pub marks: Vec<Mark>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PruneSpec {
    pub instance: String,
    pub engine: String,
    /// Snapshots still kept: the files the oldest of them needs (from its position on) stay.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<SnapshotStart>,
    /// Snapshots in this host's store whose files stay too, looked up when the prune runs
    /// (one taken earlier in the same workflow had no position when it was planned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_snapshots: Vec<String>,
    /// Keep everything (a snapshot still being taken needs what comes from now on).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_all: bool,
    /// Reckon with these records instead (a repository's copy of the archive): answer which
    /// files would go, touching nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<LogListing>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CoverageSpec {
    pub instance: String,
    pub engine: String,
    pub snapshots: Vec<SnapshotStart>,
    /// A position target to place against each snapshot's chain (dbhost checks that it is
    /// one, and orders it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The archive's records to reckon with instead of this host's archive: a repository's
    /// copy of an instance's logs, which any host running the engine can order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<LogListing>,
}

/// A snapshot's own end point, from which its log chain continues.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotStart {
    pub snapshot: String,
    pub position: String,
    /// The log branch the position is on.
    pub branch: u32,
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
    /// The spec's position target as the engine normalizes it.
    #[serde(default)]
    pub target: Option<String>,
}

/// Where a position target lies against a snapshot's chain.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// Before the snapshot's own position.
    Before,
    /// Between the snapshot and the end of its unbroken chain: restorable from it.
    Within,
    /// Past the end of the chain.
    After,
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
    /// The first file of the chain whose commits could not be read (the engine's log reader
    /// could not run): the last commit it knows of may not be the last there is.
    #[serde(default)]
    pub unscanned: Option<String>,
    /// A time before which every commit is known to be in the chain (a log switch dbhost
    /// made at that time was archived within it); None when no such switch is in it.
    #[serde(default)]
    pub complete_until: Option<String>,
    /// The end of the unbroken chain (the snapshot's own position when nothing follows).
    pub until_position: String,
    /// The first missing file, when archived files exist past it.
    pub gap: Option<String>,
    /// Whether the snapshot is on the newest branch its archive holds (an older one would
    /// replay a branch an in-place restore abandoned).
    #[serde(default)]
    pub on_newest_branch: bool,
    /// Where the spec's position target lies against this chain.
    #[serde(default)]
    pub target: Option<Place>,
}
