//! An instance's server stopped, started and rebooted in place.

use crate::common::TestEnv;

#[test]
fn a_stopped_instance_keeps_its_data_and_stays_stopped_until_started() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    env.psql("db", "create table t (v int); insert into t values (1)");
    let before = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    let stopped = env.dbctl(&["stop", "db", "-o", "json"]).ok().json();
    assert_eq!(stopped["status"], "stopped");
    assert!(env.running_servers().is_empty());
    env.psql_fails("db", "select 1");
    // A stopped instance is not snapshotted, stopped again, rebooted; sweep leaves it be.
    env.dbctl(&["snapshot", "create", "db"])
        .one_line_error(2, "is stopped");
    env.dbctl(&["stop", "db"]).one_line_error(2, "is stopped");
    env.dbctl(&["reboot", "db"])
        .one_line_error(2, "dbctl start");
    env.dbctl(&["sweep"]).ok();
    assert!(env.running_servers().is_empty());
    assert_eq!(env.status_of("db"), "stopped");

    let started = env.dbctl(&["start", "db", "-o", "json"]).ok().json();
    assert_eq!(started["status"], "available");
    assert_eq!(started["port"], before["port"]);
    assert_eq!(started["endpoint"], before["endpoint"]);
    assert_eq!(env.psql("db", "select v from t"), "1");
    env.dbctl(&["start", "db"])
        .one_line_error(2, "is available");

    let pids = env.running_servers();
    env.dbctl(&["reboot", "db"]).ok();
    let after = env.running_servers();
    assert_eq!(after.len(), 1);
    assert_ne!(after, pids, "a new server process");
    assert_eq!(env.psql("db", "select v from t"), "1");
    let kinds = env.event_kinds("db");
    for k in ["stopped", "started", "rebooted"] {
        assert!(kinds.iter().any(|e| e == k), "no {k} event in {kinds:?}");
    }
}
