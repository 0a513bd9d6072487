//! Actions: each kind of workflow in one module that builds its steps and says what its end
//! means for the catalog. [`ActionKind`] names them; the executor learns from it, through
//! exhaustive matches, what success and failure mean.
//!
//! Adding an action: a module here (its `MEANING` and its `steps`), an arm of `ActionKind`
//! with its line in [`ActionKind::meaning`], and the control-side planning that calls it.

pub mod backup;
pub mod clone;
pub mod create;
pub mod delete;
pub mod hibernate;
pub mod modify;
pub mod reboot;
pub mod recover;
pub mod restore_in_place;
pub mod resume;
pub mod snapshot;
pub mod snapshot_delete;
pub mod start;
mod steps;
pub mod stop;

pub use steps::{CloneFrom, FromRepository};

use crate::catalog::instances::status;

/// Every kind of workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Create,
    Delete,
    Snapshot,
    SnapshotDelete,
    /// A new instance from a snapshot (`clone`, and `restore --as`, to a point in time).
    Clone,
    /// `restore --in-place`: the same instance back to a point in time.
    RestoreInPlace,
    Recover,
    /// A snapshot copied into a repository.
    Backup,
    /// The server stopped, its data kept.
    Stop,
    Start,
    Reboot,
    /// The server gone and its host's room freed, all it committed kept.
    Hibernate,
    Resume,
    /// A new class or archive timeout, in place or on another host.
    Modify,
}

/// What the end of an action means for its instance in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meaning {
    /// The name the catalog, events and people use.
    pub name: &'static str,
    /// The instance's status once a failed workflow has been fully undone.
    pub after_failure: AfterFailure,
    /// The event recorded when it succeeds.
    pub success_event: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Undo returned the instance to what it was.
    Unchanged,
    /// Undo leaves it in this status.
    Set(&'static str),
}

impl ActionKind {
    pub const ALL: [ActionKind; 14] = [
        ActionKind::Create,
        ActionKind::Delete,
        ActionKind::Snapshot,
        ActionKind::SnapshotDelete,
        ActionKind::Clone,
        ActionKind::RestoreInPlace,
        ActionKind::Recover,
        ActionKind::Backup,
        ActionKind::Stop,
        ActionKind::Start,
        ActionKind::Reboot,
        ActionKind::Hibernate,
        ActionKind::Resume,
        ActionKind::Modify,
    ];

    pub fn meaning(self) -> &'static Meaning {
        match self {
            ActionKind::Create => &create::MEANING,
            ActionKind::Delete => &delete::MEANING,
            ActionKind::Snapshot => &snapshot::MEANING,
            ActionKind::SnapshotDelete => &snapshot_delete::MEANING,
            ActionKind::Clone => &clone::MEANING,
            ActionKind::RestoreInPlace => &restore_in_place::MEANING,
            ActionKind::Recover => &recover::MEANING,
            ActionKind::Backup => &backup::MEANING,
            ActionKind::Stop => &stop::MEANING,
            ActionKind::Start => &start::MEANING,
            ActionKind::Reboot => &reboot::MEANING,
            ActionKind::Hibernate => &hibernate::MEANING,
            ActionKind::Resume => &resume::MEANING,
            ActionKind::Modify => &modify::MEANING,
        }
    }

    pub fn name(self) -> &'static str {
        self.meaning().name
    }

    /// The kind a workflow row names (None for a name this build does not know).
    pub fn parse(name: &str) -> Option<ActionKind> {
        ActionKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The instance's status after a failed, fully undone workflow of kind `name`; an
    /// action this build does not know leaves it `failed` for a person to look at.
    pub fn status_after_failure(name: &str) -> Option<&'static str> {
        match ActionKind::parse(name).map(|k| k.meaning().after_failure) {
            Some(AfterFailure::Unchanged) => None,
            Some(AfterFailure::Set(s)) => Some(s),
            None => Some(status::FAILED),
        }
    }

    /// The event recorded when a workflow of kind `name` succeeds.
    pub fn success_event(name: &str) -> &'static str {
        ActionKind::parse(name).map_or("succeeded", |k| k.meaning().success_event)
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::instances::InstanceRow;

    pub(crate) fn inst() -> InstanceRow {
        InstanceRow {
            id: 7,
            name: "prod".into(),
            uid: "prod-abc".into(),
            engine: "postgres".into(),
            engine_version: None,
            class: "small".into(),
            cpus: 1.0,
            memory_mb: 1024,
            max_connections: 100,
            storage_gb: 10,
            host_id: Some(1),
            port: None,
            admin_user: "dbadmin".into(),
            status: status::CREATING.into(),
            lease_workflow_id: None,
            created_at: String::new(),
            deleted_at: None,
            source_instance: None,
            source_snapshot_id: None,
            archive_timeout_secs: 60,
        }
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        for k in ActionKind::ALL {
            assert_eq!(ActionKind::parse(k.name()), Some(k));
        }
        let mut names: Vec<&str> = ActionKind::ALL.iter().map(|k| k.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ActionKind::ALL.len());
        assert_eq!(ActionKind::parse("made-up"), None);
    }

    #[test]
    fn failure_and_success_mean_what_each_action_says() {
        assert_eq!(
            ActionKind::status_after_failure("create"),
            Some(status::DELETED)
        );
        assert_eq!(
            ActionKind::status_after_failure("clone"),
            Some(status::DELETED)
        );
        assert_eq!(
            ActionKind::status_after_failure("delete"),
            Some(status::AVAILABLE)
        );
        for unchanged in ["snapshot", "snapshot-delete", "recover", "restore"] {
            assert_eq!(
                ActionKind::status_after_failure(unchanged),
                None,
                "{unchanged}"
            );
        }
        assert_eq!(
            ActionKind::status_after_failure("unknown"),
            Some(status::FAILED)
        );
        assert_eq!(ActionKind::success_event("restore"), "restored_in_place");
        assert_eq!(ActionKind::success_event("unknown"), "succeeded");
    }
}
