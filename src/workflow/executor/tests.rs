//! The executor against a fake host over an in-memory catalog: retries, undo in reverse,
//! undos that fail, a crash after every step and the resume after it, a paused host, and
//! runs that another process holds.

use super::*;
use crate::catalog::hosts::HostRow;
use crate::catalog::instances::{self as irows, status as istatus, InstanceRow};
use crate::transport::{self, CallError, Connector, Transport};
use crate::wire::{ErrorCode, WireError};
use crate::workflow::actions;
use crate::workflow::plan::PlannedStep;
use crate::workflow::progress::Silent;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// What the fake host does with requests for one op.
#[derive(Clone, Copy)]
enum Trouble {
    /// The next `n` requests fail with an error worth retrying.
    Transient(u32),
    /// Every request fails for good.
    Refuse,
    /// The next `n` requests find the host unreachable.
    Unreachable(u32),
    /// The next request acts, then the process dies before the answer is recorded.
    CrashAfterActing,
    /// Every request answers success without doing anything.
    Lie,
}

/// A dbhost in memory: one instance's state, a journal that replays answers by request id,
/// and the ops that took effect, in order.
#[derive(Default)]
struct FakeHost {
    exists: bool,
    running: bool,
    acted: Vec<&'static str>,
    acts_by_request: HashMap<String, u32>,
    journal: HashMap<String, Value>,
    trouble: HashMap<&'static str, Trouble>,
}

impl FakeHost {
    fn answer(&self, instance: &str) -> Value {
        serde_json::to_value(InstanceStatus {
            instance: instance.into(),
            exists: self.exists,
            running: self.running,
            accepting: self.running,
            ..Default::default()
        })
        .unwrap()
    }

    fn call(&mut self, request: &Request) -> Result<Value, CallError> {
        let info = request.op.info();
        if info.mutating {
            if let Some(v) = self.journal.get(&request.request_id) {
                return Ok(v.clone());
            }
        }
        let remote = |code, message: &str| {
            CallError::Remote(WireError {
                code,
                message: message.into(),
                hint: None,
            })
        };
        let mut crash = false;
        match self.trouble.get(info.name).copied() {
            Some(Trouble::Transient(n)) if n > 0 => {
                self.trouble.insert(info.name, Trouble::Transient(n - 1));
                return Err(remote(ErrorCode::EngineFailed, "the engine hiccuped"));
            }
            Some(Trouble::Refuse) => return Err(remote(ErrorCode::BadRequest, "refused")),
            Some(Trouble::Unreachable(n)) if n > 0 => {
                self.trouble.insert(info.name, Trouble::Unreachable(n - 1));
                return Err(CallError::Unreachable("connection refused".into()));
            }
            Some(Trouble::CrashAfterActing) => {
                self.trouble.remove(info.name);
                crash = true;
            }
            Some(Trouble::Lie) => return Ok(self.answer("x")),
            _ => {}
        }
        let instance = match &request.op {
            Op::Provision(s) => {
                assert!(
                    !s.admin_password.is_empty(),
                    "the secret joins at send time"
                );
                self.exists = true;
                s.instance.clone()
            }
            Op::Start(r) => {
                self.running = self.exists;
                r.instance.clone()
            }
            Op::Stop(r) => {
                self.running = false;
                r.instance.clone()
            }
            Op::Destroy(r) => {
                (self.exists, self.running) = (false, false);
                r.instance.clone()
            }
            Op::Status(r) => r.instance.clone(),
            _ => String::new(),
        };
        let answer = self.answer(&instance);
        if info.mutating {
            self.acted.push(info.name);
            *self
                .acts_by_request
                .entry(request.request_id.clone())
                .or_default() += 1;
            self.journal
                .insert(request.request_id.clone(), answer.clone());
        }
        if crash {
            panic!("the control process died after {} acted", info.name);
        }
        Ok(answer)
    }
}

struct Link(Rc<RefCell<FakeHost>>);

impl Transport for Link {
    fn call(&self, request: &Request, _: &mut dyn FnMut(&str)) -> Result<Value, CallError> {
        self.0.borrow_mut().call(request)
    }

    fn open_bulk(&self, _: &Request) -> Result<Box<dyn transport::Bulk>, CallError> {
        Err(CallError::Refused("no streams here".into()))
    }
}

impl Connector for Rc<RefCell<FakeHost>> {
    fn connect(&self, _: &HostRow) -> Result<Box<dyn Transport>, CallError> {
        Ok(Box::new(Link(self.clone())))
    }
}

/// A catalog with one host and one instance, a fake host behind it, and its secrets.
struct World {
    catalog: Catalog,
    host: Rc<RefCell<FakeHost>>,
    secrets: Secrets,
    _home: tempfile::TempDir,
    inst: InstanceRow,
}

impl World {
    fn new() -> Self {
        let mut catalog = Catalog::open_in_memory().unwrap();
        let home = tempfile::tempdir().unwrap();
        let secrets = Secrets::new(home.path());
        let host_id = hosts::insert(
            catalog.conn(),
            &hosts::testing::host("h1", 4096, &["postgres"]),
        )
        .unwrap();
        let mut inst = actions::tests::inst();
        inst.host_id = Some(host_id);
        inst.id = catalog.write(|tx| irows::insert(tx, &inst)).unwrap();
        secrets.put(&inst.uid, "secret").unwrap();
        World {
            catalog,
            host: Default::default(),
            secrets,
            _home: home,
            inst,
        }
    }

    /// Writes a workflow of `kind` with `steps` (without waits between retries).
    fn workflow(&mut self, kind: ActionKind, mut steps: Vec<PlannedStep>) -> i64 {
        for s in &mut steps {
            s.spec.backoff_ms = 0;
        }
        let inst = self.inst.id;
        self.catalog
            .write(|tx| {
                let wf = workflows::insert(tx, kind.name(), Some(inst), status::QUEUED)?;
                for (i, s) in steps.iter().enumerate() {
                    let spec = serde_json::to_string(&s.spec)?;
                    workflows::insert_step(tx, wf, i as u32, &s.name, &spec)?;
                }
                irows::set_lease(tx, inst, Some(wf))?;
                Ok(wf)
            })
            .unwrap()
    }

    fn create(&mut self) -> i64 {
        let steps = actions::create::steps(&self.inst, self.inst.host_id.unwrap(), None, None);
        self.workflow(ActionKind::Create, steps)
    }

    fn trouble(&self, op: &'static str, t: Trouble) {
        self.host.borrow_mut().trouble.insert(op, t);
    }

    fn run(&mut self, wf: i64) -> Result<Outcome> {
        let host = self.host.clone();
        Executor {
            catalog: &mut self.catalog,
            catalog_at: None,
            secrets: &self.secrets,
            progress: &Silent,
            endpoint_hook: &[],
            connector: &host,
        }
        .run(wf)
    }

    fn acted(&self) -> Vec<&'static str> {
        self.host.borrow().acted.clone()
    }

    fn workflow_status(&self, wf: i64) -> String {
        workflows::get(self.catalog.conn(), wf).unwrap().status
    }

    fn instance_status(&self) -> String {
        irows::get(self.catalog.conn(), self.inst.id)
            .unwrap()
            .status
    }

    fn steps(&self, wf: i64) -> Vec<StepRow> {
        workflows::steps(self.catalog.conn(), wf).unwrap()
    }

    fn events(&self) -> Vec<String> {
        events::list(self.catalog.conn(), &events::Filter::default(), 100)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

#[test]
fn every_step_runs_in_order_and_success_is_recorded() {
    let mut w = World::new();
    let wf = w.create();
    assert_eq!(w.run(wf).unwrap(), Outcome::Succeeded);
    assert_eq!(w.acted(), ["provision", "start"]);
    assert!(w.steps(wf).iter().all(|s| s.status == step_status::DONE));
    assert_eq!(w.workflow_status(wf), status::SUCCEEDED);
    assert_eq!(w.instance_status(), istatus::AVAILABLE);
    assert!(w.events().contains(&"created".to_string()));
    assert_eq!(
        irows::get(w.catalog.conn(), w.inst.id)
            .unwrap()
            .lease_workflow_id,
        None
    );
}

#[test]
fn a_transient_failure_is_retried_then_succeeds() {
    let mut w = World::new();
    let wf = w.create();
    w.trouble("start", Trouble::Transient(2));
    assert_eq!(w.run(wf).unwrap(), Outcome::Succeeded);
    assert_eq!(w.steps(wf)[1].attempts, 3);
    assert_eq!(w.acted(), ["provision", "start"]);
}

#[test]
fn exhausted_retries_undo_the_steps_that_acted_newest_first() {
    let mut w = World::new();
    let wf = w.create();
    w.trouble("start", Trouble::Transient(9));
    let Outcome::Failed { reason, undone } = w.run(wf).unwrap() else {
        panic!("the workflow did not fail");
    };
    assert!(undone, "{reason}");
    assert!(reason.contains("the engine hiccuped"), "{reason}");
    // The failed step may have acted too: its undo runs first.
    assert_eq!(w.acted(), ["provision", "stop", "destroy"]);
    assert_eq!(w.steps(wf)[1].attempts, 3);
    assert_eq!(w.workflow_status(wf), status::FAILED);
    // A create that was undone frees its name.
    assert_eq!(w.instance_status(), istatus::DELETED);
}

#[test]
fn a_failure_for_good_is_not_retried() {
    let mut w = World::new();
    let wf = w.create();
    w.trouble("start", Trouble::Refuse);
    assert!(matches!(
        w.run(wf).unwrap(),
        Outcome::Failed { undone: true, .. }
    ));
    assert_eq!(w.steps(wf)[1].attempts, 1);
}

#[test]
fn an_undo_that_fails_leaves_the_instance_failed_for_a_person() {
    let mut w = World::new();
    let wf = w.create();
    w.trouble("start", Trouble::Refuse);
    w.trouble("destroy", Trouble::Refuse);
    let Outcome::Failed { reason, undone } = w.run(wf).unwrap() else {
        panic!("the workflow did not fail");
    };
    assert!(!undone);
    assert!(reason.contains("undo of `provision` failed"), "{reason}");
    assert_eq!(w.steps(wf)[0].status, step_status::UNDO_FAILED);
    assert_eq!(w.instance_status(), istatus::FAILED);
}

#[test]
fn a_crash_after_any_step_resumes_there_and_nothing_acts_twice() {
    for op in ["provision", "start"] {
        let mut w = World::new();
        let wf = w.create();
        w.trouble(op, Trouble::CrashAfterActing);
        let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.run(wf)));
        assert!(crashed.is_err(), "{op}: no crash");
        // The step that was in flight is still `running`; resuming sends it again.
        assert!(w.steps(wf).iter().any(|s| s.status == step_status::RUNNING));
        assert_eq!(w.run(wf).unwrap(), Outcome::Succeeded, "after {op}");
        assert_eq!(w.acted(), ["provision", "start"], "after {op}");
        let host = w.host.borrow();
        assert!(host.acts_by_request.values().all(|n| *n == 1), "after {op}");
        drop(host);
        assert_eq!(w.instance_status(), istatus::AVAILABLE);
    }
}

#[test]
fn an_unreachable_host_pauses_without_undoing_and_resume_finishes() {
    let mut w = World::new();
    let wf = w.create();
    w.trouble("start", Trouble::Unreachable(3));
    let Outcome::Interrupted(Some(reason)) = w.run(wf).unwrap() else {
        panic!("the workflow did not pause");
    };
    assert!(reason.contains("connection refused"), "{reason}");
    assert_eq!(w.acted(), ["provision"]);
    assert_eq!(w.workflow_status(wf), status::INTERRUPTED);
    assert_eq!(w.steps(wf)[1].status, step_status::INTERRUPTED);
    assert!(w.events().contains(&"paused".to_string()));
    // The host is back.
    assert_eq!(w.run(wf).unwrap(), Outcome::Succeeded);
    assert_eq!(w.acted(), ["provision", "start"]);
}

#[test]
fn a_workflow_another_live_process_runs_is_left_to_it() {
    let mut w = World::new();
    let wf = w.create();
    let host = lease::me().rsplit_once(':').unwrap().0.to_string();
    // pid 1 always exists, and its heartbeat is fresh.
    workflows::claim(w.catalog.conn(), wf, &format!("{host}:1"), status::RUNNING).unwrap();
    let e = w.run(wf).unwrap_err();
    assert!(e.downcast_ref::<NotClaimed>().is_some(), "{e:#}");
    assert!(w.acted().is_empty());
    // A runner that died is taken over.
    workflows::claim(
        w.catalog.conn(),
        wf,
        &format!("{host}:999999999"),
        status::RUNNING,
    )
    .unwrap();
    assert_eq!(w.run(wf).unwrap(), Outcome::Succeeded);
    // A finished workflow is not run again.
    assert!(w
        .run(wf)
        .unwrap_err()
        .downcast_ref::<NotClaimed>()
        .is_some());
}

#[test]
fn a_best_effort_clean_up_that_fails_is_recorded_and_passed_over() {
    let mut w = World::new();
    let create = w.create();
    w.run(create).unwrap();
    let steps = actions::delete::steps(&w.inst, w.inst.host_id.unwrap(), None, &[], &[]);
    let wf = w.workflow(ActionKind::Delete, steps);
    w.trouble("log_prune", Trouble::Refuse);
    assert_eq!(w.run(wf).unwrap(), Outcome::Succeeded);
    assert!(w.events().contains(&"cleanup_failed".to_string()));
    assert_eq!(w.instance_status(), istatus::DELETED);
    // Forgetting the instance dropped its secret.
    assert!(w.secrets.get(&w.inst.uid).is_err());
}

#[test]
fn a_cancelled_workflow_is_undone_and_ends_cancelled() {
    let mut w = World::new();
    let wf = w.create();
    w.trouble("start", Trouble::Unreachable(3));
    assert!(matches!(w.run(wf).unwrap(), Outcome::Interrupted(_)));
    workflows::set_status(
        w.catalog.conn(),
        wf,
        status::UNDOING,
        Some(CANCELLED_BY_USER),
    )
    .unwrap();
    assert!(matches!(
        w.run(wf).unwrap(),
        Outcome::Failed { undone: true, .. }
    ));
    assert_eq!(w.workflow_status(wf), status::CANCELLED);
    // The interrupted start may have acted: it is undone too, then the provision.
    assert_eq!(w.acted(), ["provision", "stop", "destroy"]);
}

#[test]
fn a_step_whose_verification_never_passes_fails() {
    let mut w = World::new();
    let wf = w.create();
    // The host says it started the server, but it never runs.
    w.trouble("start", Trouble::Lie);
    let Outcome::Failed { reason, .. } = w.run(wf).unwrap() else {
        panic!("the workflow did not fail");
    };
    assert!(reason.contains("verification failed"), "{reason}");
    assert_eq!(w.steps(wf)[1].attempts, 3);
}
