//! What steps do to the catalog: the changes a step is made of, what a host's answer
//! records, and moving endpoints (with the hook that tells the world).

use super::Executor;
use crate::catalog::{backups, endpoints, events, hosts, instances, snapshots};
use crate::wire::{InstanceStatus, SnapshotInfo};
use crate::workflow::plan::{CatalogChange, Record};
use anyhow::Result;
use serde_json::Value;

/// An endpoint that now points elsewhere.
pub(super) struct Moved {
    endpoint: String,
    instance: (i64, String),
    old: String,
    new: String,
}

/// Points an instance's endpoint at it; returns the move when the address changed.
fn point_endpoint(
    tx: &crate::catalog::db::Conn,
    name: &str,
    instance_id: i64,
) -> Result<Option<Moved>> {
    let inst = instances::get(tx, instance_id)?;
    let (Some(host_id), Some(port)) = (inst.host_id, inst.port) else {
        return Ok(None);
    };
    let host = hosts::get(tx, host_id)?;
    let old = endpoints::point(tx, name, instance_id, &host.address, port)?;
    Ok(old.map(|old| Moved {
        endpoint: name.to_string(),
        instance: (instance_id, inst.name.clone()),
        old,
        new: endpoints::join(&host.address, port),
    }))
}

/// Records what a host's answer (`output`) says, as the step's `record` asks.
///
/// # Errors
/// The answer is not what the record expects, or the catalog fails.
pub(super) fn record(
    tx: &crate::catalog::db::Conn,
    record: Option<Record>,
    output: &Value,
) -> Result<()> {
    match record {
        Some(Record::InstanceRuntime { instance_id }) => {
            let st: InstanceStatus = serde_json::from_value(output.clone())?;
            instances::set_runtime(tx, instance_id, st.port, &st.engine_version)
        }
        Some(Record::SnapshotTaken { snapshot_id }) => {
            let info: SnapshotInfo = serde_json::from_value(output.clone())?;
            snapshots::record_taken(tx, snapshot_id, &info)
        }
        Some(Record::BackupStored { backup_id }) => {
            let s: super::repository::Stored = serde_json::from_value(output.clone())?;
            backups::record_stored(tx, backup_id, &s.restic_id, s.files, s.bytes, s.added)
        }
        None => Ok(()),
    }
}

impl Executor<'_> {
    pub(super) fn apply(&mut self, wf: i64, change: &CatalogChange) -> Result<Option<Moved>> {
        match change {
            CatalogChange::SetStatus {
                instance_id,
                status,
            } => self.catalog.write(|tx| {
                instances::set_status(tx, *instance_id, status)?;
                if status == instances::status::AVAILABLE {
                    let name = instances::get(tx, *instance_id)?.name;
                    return point_endpoint(tx, &name, *instance_id);
                }
                Ok(None)
            }),
            CatalogChange::SnapshotDeleted { snapshot_id } => {
                snapshots::set_status(
                    self.catalog.conn(),
                    *snapshot_id,
                    snapshots::status::DELETED,
                )?;
                Ok(None)
            }
            CatalogChange::Forget { instance_id } => {
                let inst = instances::get(self.catalog.conn(), *instance_id)?;
                self.catalog.write(|tx| {
                    instances::set_status(tx, *instance_id, instances::status::DELETED)?;
                    endpoints::remove_for_instance(tx, *instance_id)
                })?;
                self.secrets.remove(&inst.uid);
                Ok(None)
            }
            CatalogChange::Resized {
                instance_id,
                class,
                size,
                archive_timeout_secs,
            } => self.catalog.write(|tx| {
                instances::set_size(tx, *instance_id, class, size, *archive_timeout_secs)?;
                let s = crate::catalog::instance_settings::get(tx, *instance_id)?;
                if s.pending_class.as_deref() == Some(class.as_str()) {
                    crate::catalog::instance_settings::clear_pending(tx, *instance_id)?;
                }
                Ok(None)
            }),
            CatalogChange::TakeOver { old_id, new_id } => self.catalog.write(|tx| {
                let old = instances::get(tx, *old_id)?;
                instances::set_status(tx, *old_id, instances::status::REPLACED)?;
                instances::rename(tx, *new_id, &old.name)?;
                instances::set_replaces(tx, *new_id, *old_id)?;
                crate::catalog::backup_policies::carry_over(tx, *old_id, *new_id)?;
                crate::catalog::schedules::carry_over(tx, *old_id, *new_id)?;
                crate::catalog::instance_settings::carry_over(tx, *old_id, *new_id)?;
                crate::catalog::health::carry_over(tx, *old_id, *new_id)?;
                crate::catalog::labels::carry_over(tx, *old_id, *new_id)?;
                crate::catalog::lifetimes::carry_over(tx, *old_id, *new_id)?;
                snapshots::rename_instance(tx, *new_id, &old.name)?;
                instances::set_status(tx, *new_id, instances::status::AVAILABLE)?;
                events::add(
                    tx,
                    Some((*old_id, &old.name)),
                    Some(wf),
                    "replaced",
                    &format!(
                        "{} was replaced by a recovered copy (workflow {wf})",
                        old.name
                    ),
                )?;
                point_endpoint(tx, &old.name, *new_id)
            }),
        }
    }

    /// Records an endpoint's move and runs the configured hook: an argument vector with the
    /// name and both addresses appended (and in the environment), never a shell string. A
    /// failing hook is recorded, not fatal: the instance itself is in place.
    pub(super) fn run_endpoint_hook(&mut self, wf: i64, moved: &Moved) {
        let inst = Some((moved.instance.0, moved.instance.1.as_str()));
        let msg = format!(
            "endpoint {} moved from {} to {}",
            moved.endpoint, moved.old, moved.new
        );
        let _ = events::add(self.catalog.conn(), inst, Some(wf), "endpoint_moved", &msg);
        let Some((program, args)) = self.endpoint_hook.split_first() else {
            return;
        };
        let out = std::process::Command::new(program)
            .args(args)
            .args([&moved.endpoint, &moved.old, &moved.new])
            .env("DBCTL_ENDPOINT", &moved.endpoint)
            .env("DBCTL_OLD_ADDRESS", &moved.old)
            .env("DBCTL_NEW_ADDRESS", &moved.new)
            .stdin(std::process::Stdio::null())
            .output();
        let failure = match out {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(format!(
                "{} ({})",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Some(e.to_string()),
        };
        let (kind, text) = match failure {
            None => (
                "endpoint_hook_ran",
                format!("endpoint hook {program} ran for {}", moved.endpoint),
            ),
            Some(f) => (
                "endpoint_hook_failed",
                format!("endpoint hook {program} failed for {}: {f}", moved.endpoint),
            ),
        };
        let _ = events::add(self.catalog.conn(), inst, Some(wf), kind, &text);
    }
}
