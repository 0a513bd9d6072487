//! create: a new, empty instance.

use super::steps::{host_step, iref, mark_available, snapshot_step, start_step};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::{status, InstanceRow};
use crate::catalog::snapshots::SnapshotRow;
use crate::wire::{Op, ProvisionSpec, Size};
use crate::workflow::plan::{Expect, PlannedStep, Record};

/// What its end means for the catalog. Undo removed everything it made, so
/// the name is free again.
pub const MEANING: Meaning = Meaning {
    name: "create",
    after_failure: AfterFailure::Set(status::DELETED),
    success_event: "created",
};

/// create: provision (undo: destroy) -> start (undo: stop) -> [its base snapshot: from its
/// first moment, it can be rebuilt] -> mark available.
pub fn steps(
    i: &InstanceRow,
    host_id: i64,
    port: Option<u16>,
    base: Option<&SnapshotRow>,
) -> Vec<PlannedStep> {
    let mut provision = host_step(
        "provision",
        host_id,
        Op::Provision(ProvisionSpec {
            instance: i.uid.clone(),
            engine: i.engine.clone(),
            port,
            size: Size {
                cpus: i.cpus,
                memory_mb: i.memory_mb,
                max_connections: i.max_connections,
            },
            admin_user: i.admin_user.clone(),
            archive_timeout_secs: i.archive_timeout_secs,
            admin_password: String::new(),
        }),
        Some(Expect::Exists),
        Some(Op::Destroy(iref(i))),
        &i.uid,
    );
    provision.spec.record = Some(Record::InstanceRuntime { instance_id: i.id });
    let mut steps = vec![provision, start_step(i, host_id)];
    steps.extend(base.map(|b| snapshot_step(BASE, i, host_id, b)));
    steps.push(mark_available(i));
    steps
}

/// The step that takes a new instance's base snapshot (create, clone).
pub const BASE: &str = "snapshot-base";

#[cfg(test)]
mod tests {
    use super::super::tests::inst;
    use super::*;
    use crate::wire::InstanceRef;

    #[test]
    fn create_provisions_then_starts_with_undo_for_each() {
        let steps = steps(&inst(), 1, Some(6000), None);
        let names: Vec<_> = steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["provision", "start", "mark-available"]);
        assert_eq!(
            steps[0].spec.undo,
            Some(Op::Destroy(InstanceRef {
                instance: "prod-abc".into()
            }))
        );
        assert_eq!(
            steps[1].spec.verify.as_ref().unwrap().expect,
            Expect::Accepting
        );
        // The password is filled in at send time, never stored in the plan.
        let json = serde_json::to_string(&steps[0].spec).unwrap();
        assert!(!json.contains("admin_password"), "{json}");
    }
}
