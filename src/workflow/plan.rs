//! What a persisted step is: its action, verification, undo and retry budget.

use crate::wire::Op;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepSpec {
    pub action: Action,
    /// A test that the action really took effect, run after it succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Check>,
    /// The request that reverses the action, run when a later step fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<Op>,
    /// What the catalog learns from the action's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Record>,
    /// Attempts after the first, with exponential backoff from `backoff_ms`.
    pub retries: u32,
    pub backoff_ms: u64,
    /// Clean-up after the work is done: if it fails, that is recorded and the workflow still
    /// succeeds (undoing a finished recovery because old files could not be removed would
    /// be worse).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub best_effort: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// A request to dbhost on a host.
    Host { host_id: i64, op: Op },
    /// A change to the catalog alone.
    Catalog { change: CatalogChange },
    /// Streams data between hosts through dbctl: a bulk export op on one piped into a bulk
    /// import op on the other (a snapshot, or archived logs).
    Transfer {
        from_host: i64,
        to_host: i64,
        export: Op,
        import: Op,
        /// The content's size when planned (0: unknown), for people reading a plan; the
        /// stream may carry less (compressed files travel as they are stored).
        bytes: u64,
    },
    /// Streams a host's snapshot export through dbctl into a repository as backup
    /// `backup_id`; whatever it stored is removed again if it did not all arrive.
    Upload {
        from_host: i64,
        export: Op,
        repository: String,
        backup_id: i64,
        bytes: u64,
    },
    /// Streams log shipments from a repository through dbctl into a host's log import.
    DownloadLogs {
        repository: String,
        shipments: Vec<String>,
        to_host: i64,
        import: Op,
    },
    /// Streams a backup from a repository through dbctl into a host's snapshot import.
    Download {
        repository: String,
        restic_id: String,
        to_host: i64,
        import: Op,
        bytes: u64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum CatalogChange {
    /// The instance reached a new state (`available`, ...).
    SetStatus { instance_id: i64, status: String },
    /// The instance is gone from its host: mark it deleted and drop its secret.
    Forget { instance_id: i64 },
    /// The snapshot is gone from its host.
    SnapshotDeleted { snapshot_id: i64 },
    /// Recovery's new instance takes the old one's name and endpoint; the old is replaced.
    TakeOver { old_id: i64, new_id: i64 },
    /// The instance runs with a new class (and archive timeout); a class change waiting for
    /// the maintenance window is done when this is the class it named.
    Resized {
        instance_id: i64,
        class: String,
        size: crate::wire::Size,
        archive_timeout_secs: u32,
    },
}

/// Checks an instance's state on its host through a read-only status request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Check {
    pub host_id: i64,
    pub instance: String,
    pub expect: Expect,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Provisioned on the host (data directory and metadata present).
    Exists,
    /// Running and answering a query.
    Accepting,
    /// Not running.
    Stopped,
    /// Nothing of it left on the host.
    Absent,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The host's InstanceStatus gives the instance's port and engine version.
    InstanceRuntime { instance_id: i64 },
    /// The host's SnapshotInfo completes the snapshot's row.
    SnapshotTaken { snapshot_id: i64 },
    /// What the repository stored completes the backup's row.
    BackupStored { backup_id: i64 },
}

/// A named step, before it is written to the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    pub name: String,
    pub spec: StepSpec,
}
