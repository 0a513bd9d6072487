//! Action templates: each action compiled, for its instance and host, into an ordered step list.
//!
//! Steps are engine-neutral requests; dbhost's engine module decides what each means.

use super::plan::{Action, CatalogChange, Check, Expect, PlannedStep, Record, StepSpec};
use crate::catalog::instances::{status, InstanceRow};
use crate::wire::{InstanceRef, Op, ProvisionSpec, Size};

const HOST_RETRIES: u32 = 2;
const BACKOFF_MS: u64 = 1000;

fn host_step(
    name: &str,
    host_id: i64,
    op: Op,
    verify: Option<Expect>,
    undo: Option<Op>,
    instance: &str,
) -> PlannedStep {
    PlannedStep {
        name: name.into(),
        spec: StepSpec {
            action: Action::Host { host_id, op },
            verify: verify.map(|expect| Check {
                host_id,
                instance: instance.into(),
                expect,
            }),
            undo,
            record: None,
            retries: HOST_RETRIES,
            backoff_ms: BACKOFF_MS,
        },
    }
}

fn catalog_step(name: &str, change: CatalogChange) -> PlannedStep {
    PlannedStep {
        name: name.into(),
        spec: StepSpec {
            action: Action::Catalog { change },
            verify: None,
            undo: None,
            record: None,
            retries: 0,
            backoff_ms: 0,
        },
    }
}

fn iref(i: &InstanceRow) -> InstanceRef {
    InstanceRef {
        instance: i.uid.clone(),
    }
}

/// create: provision (undo: destroy) -> start (undo: stop) -> mark available.
pub fn create(i: &InstanceRow, host_id: i64, port: Option<u16>) -> Vec<PlannedStep> {
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
            admin_password: String::new(),
        }),
        Some(Expect::Exists),
        Some(Op::Destroy(iref(i))),
        &i.uid,
    );
    provision.spec.record = Some(Record::InstanceRuntime { instance_id: i.id });
    vec![
        provision,
        host_step(
            "start",
            host_id,
            Op::Start(iref(i)),
            Some(Expect::Accepting),
            Some(Op::Stop(iref(i))),
            &i.uid,
        ),
        catalog_step(
            "mark-available",
            CatalogChange::SetStatus {
                instance_id: i.id,
                status: status::AVAILABLE.into(),
            },
        ),
    ]
}

/// delete: stop (undo: start) -> destroy -> forget.
pub fn delete(i: &InstanceRow, host_id: i64) -> Vec<PlannedStep> {
    vec![
        host_step(
            "stop",
            host_id,
            Op::Stop(iref(i)),
            Some(Expect::Stopped),
            Some(Op::Start(iref(i))),
            &i.uid,
        ),
        host_step(
            "destroy",
            host_id,
            Op::Destroy(iref(i)),
            Some(Expect::Absent),
            None,
            &i.uid,
        ),
        catalog_step("forget", CatalogChange::Forget { instance_id: i.id }),
    ]
}

/// The instance's status once a failed workflow has been undone.
pub fn status_after_failure(action: &str) -> &'static str {
    match action {
        // Undo removed everything the create made, so the name is free again.
        "create" => status::DELETED,
        // Undo restarted the server: it is as it was.
        "delete" => status::AVAILABLE,
        _ => status::FAILED,
    }
}

/// The event recorded when an action succeeds.
pub fn success_event(action: &str) -> &'static str {
    match action {
        "create" => "created",
        "delete" => "deleted",
        _ => "succeeded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst() -> InstanceRow {
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
        }
    }

    #[test]
    fn create_provisions_then_starts_with_undo_for_each() {
        let steps = create(&inst(), 1, Some(6000));
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

    #[test]
    fn specs_round_trip_through_json() {
        for s in delete(&inst(), 3) {
            let back: StepSpec =
                serde_json::from_str(&serde_json::to_string(&s.spec).unwrap()).unwrap();
            assert_eq!(back, s.spec);
        }
    }
}
