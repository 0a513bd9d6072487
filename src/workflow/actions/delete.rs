//! delete: an instance off its host, after a final snapshot unless skipped.

use super::steps::{catalog_step, host_step, iref, snapshot_step, stop_step};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::{status, InstanceRow};
use crate::catalog::snapshots::SnapshotRow;
use crate::wire::logs::PruneSpec;
use crate::wire::Op;
use crate::workflow::plan::{CatalogChange, Expect, PlannedStep, StepSpec};

/// What its end means for the catalog. Undo restarted the server: it is
/// as it was.
pub const MEANING: Meaning = Meaning {
    name: "delete",
    after_failure: AfterFailure::Set(status::AVAILABLE),
    success_event: "deleted",
};

/// delete: [final snapshot] -> stop (undo: start) -> destroy -> drop its automatic
/// snapshots (`dropped`) -> drop the logs no kept snapshot (`kept`, the final one included)
/// needs -> forget.
pub fn steps(
    i: &InstanceRow,
    host_id: i64,
    final_snapshot: Option<&SnapshotRow>,
    kept: &[String],
    dropped: &[SnapshotRow],
) -> Vec<PlannedStep> {
    let mut keep_snapshots = kept.to_vec();
    keep_snapshots.extend(final_snapshot.map(|s| s.uid.clone()));
    let mut steps: Vec<PlannedStep> = final_snapshot
        .map(|s| snapshot_step("final-snapshot", i, host_id, s))
        .into_iter()
        .collect();
    steps.extend([
        stop_step(i, host_id, false),
        host_step(
            "destroy",
            host_id,
            Op::Destroy(iref(i)),
            Some(Expect::Absent),
            None,
            &i.uid,
        ),
    ]);
    for s in dropped {
        let mut drop = host_step(
            &format!("drop-snapshot-{}", s.id),
            host_id,
            Op::SnapshotDelete(crate::wire::SnapshotRef {
                snapshot: s.uid.clone(),
            }),
            None,
            None,
            &i.uid,
        );
        drop.spec.best_effort = true;
        steps.push(drop);
        steps.push(catalog_step(
            &format!("forget-snapshot-{}", s.id),
            CatalogChange::SnapshotDeleted { snapshot_id: s.id },
        ));
    }
    steps.extend([
        PlannedStep {
            // Clean-up once the server is gone: logs left behind are safe, undoing is not.
            spec: StepSpec {
                best_effort: true,
                ..host_step(
                    "prune-logs",
                    host_id,
                    Op::LogPrune(PruneSpec {
                        instance: i.uid.clone(),
                        engine: i.engine.clone(),
                        keep: vec![],
                        keep_snapshots,
                        keep_all: false,
                        given: None,
                    }),
                    None,
                    None,
                    &i.uid,
                )
                .spec
            },
            name: "prune-logs".into(),
        },
        catalog_step("forget", CatalogChange::Forget { instance_id: i.id }),
    ]);
    steps
}

#[cfg(test)]
mod tests {
    use super::super::tests::inst;
    use super::*;

    #[test]
    fn specs_round_trip_through_json() {
        for s in steps(&inst(), 3, None, &[], &[]) {
            let back: StepSpec =
                serde_json::from_str(&serde_json::to_string(&s.spec).unwrap()).unwrap();
            assert_eq!(back, s.spec);
        }
    }
}
