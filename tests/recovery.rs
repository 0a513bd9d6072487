//! Workflows that crash or fail: resumed to the same end state, or undone leaving nothing behind.

use crate::common::TestEnv;
use std::path::{Path, PathBuf};
use std::process::Command;

fn only_instance_dir(root: &Path) -> PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(root.join("instances"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// initdb stamps each cluster with a unique system identifier: a second initdb would change it.
fn system_identifier(data: &Path) -> String {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .flatten()
        .map(|e| e.path().join("bin/pg_controldata"))
        .find(|p| p.exists())
        .unwrap();
    let out = Command::new(bin)
        .arg("-D")
        .arg(data)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with("Database system identifier"))
        .unwrap_or_else(|| panic!("{text}"))
        .to_string()
}

#[test]
fn a_crash_after_initdb_resumes_without_a_second_initdb() {
    let mut env = TestEnv::new();
    env.init();
    // The worst moment: the host finished initdb, dbctl died before recording it.
    let crashed = env.dbctl_env(
        &["create", "crashy"],
        &[("DBCTL_FAILPOINTS", "crash-after:provision")],
    );
    assert_ne!(crashed.code, Some(0));
    let wf = &env.dbctl(&["workflow", "list", "-o", "json"]).ok().json()[0];
    // Its runner is gone: shown as interrupted, not running.
    assert_eq!(wf["status"], "interrupted");
    assert_eq!(wf["steps"][0]["status"], "interrupted");
    let id = wf["id"].as_i64().unwrap().to_string();
    let data = only_instance_dir(&env.local_root()).join("data");
    let ident = system_identifier(&data);

    let resumed = env
        .dbctl(&["workflow", "resume", &id, "-o", "json"])
        .ok()
        .json();
    assert_eq!(resumed["status"], "succeeded");
    assert_eq!(
        resumed["steps"][0]["attempts"], 2,
        "provision was sent again"
    );
    assert_eq!(
        system_identifier(&data),
        ident,
        "provision ran initdb a second time"
    );
    assert_eq!(only_instance_dir(&env.local_root()).join("data"), data);
    assert_eq!(env.status_of("crashy"), "available");
    assert_eq!(env.psql("crashy", "select 40 + 2"), "42");
    assert_eq!(env.running_servers().len(), 1, "nothing orphaned");
    env.dbctl(&["delete", "crashy", "--yes"]).ok();
}

#[test]
fn the_sweeper_finishes_a_workflow_whose_runner_died() {
    let mut env = TestEnv::new();
    env.init();
    let crashed = env.dbctl_env(
        &["create", "orphan"],
        &[("DBCTL_FAILPOINTS", "crash-after:start")],
    );
    assert_ne!(crashed.code, Some(0));
    assert_eq!(env.status_of("orphan"), "creating");
    // The lease still belongs to the unfinished workflow.
    env.dbctl(&["delete", "orphan", "--yes"])
        .one_line_error(2, "busy with workflow");
    let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json()["workflows"].clone();
    assert_eq!(swept[0]["outcome"], "succeeded", "{swept}");
    assert_eq!(env.status_of("orphan"), "available");
    assert_eq!(env.running_servers().len(), 1);
    env.dbctl(&["delete", "orphan", "--yes"]).ok();
}

#[test]
fn a_step_that_keeps_failing_is_retried_then_everything_is_undone() {
    let mut env = TestEnv::new();
    env.init();
    let failed = env
        .dbctl_env(&["create", "doomed"], &[("DBCTL_FAILPOINTS", "fail:start")])
        .fails_with(1);
    assert!(
        failed.stderr.contains("failed") && failed.stderr.contains("undone"),
        "{}",
        failed.stderr
    );
    let wf = &env.dbctl(&["workflow", "list", "-o", "json"]).ok().json()[0];
    assert_eq!(wf["status"], "failed");
    assert_eq!(wf["steps"][1]["attempts"], 3, "start is tried 1 + 2 times");
    assert_eq!(wf["steps"][1]["status"], "undone");
    assert!(
        wf["steps"][1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("failpoint fail:start")),
        "the failed step keeps its error after the undo: {wf}"
    );
    assert_eq!(wf["steps"][0]["status"], "undone");
    assert!(
        env.running_servers().is_empty(),
        "a server was left running"
    );
    assert_eq!(
        std::fs::read_dir(env.local_root().join("instances"))
            .unwrap()
            .count(),
        0,
        "data left behind"
    );
    assert_eq!(env.instance_count(), 0);
    let kinds = env.event_kinds("doomed");
    assert_eq!(kinds, ["requested", "step_failed", "failed"]);
    // The name is free and a clean attempt works.
    env.dbctl(&["create", "doomed"]).ok();
    env.dbctl(&["delete", "doomed", "--yes"]).ok();
}

#[test]
fn a_failed_delete_puts_the_instance_back() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "keep"]).ok();
    env.psql("keep", "create table k(x int); insert into k values (7)");
    // The host refuses to destroy: the stop is undone and the instance serves again.
    env.dbctl_env(
        &["delete", "keep", "--yes"],
        &[("DBCTL_FAILPOINTS", "fail-before:destroy")],
    )
    .fails_with(1);
    assert_eq!(env.status_of("keep"), "available");
    assert_eq!(
        env.psql("keep", "select x from k"),
        "7",
        "undo of stop restarted the server"
    );
    env.dbctl(&["delete", "keep", "--yes"]).ok();
}

#[test]
fn a_delete_that_fails_after_destroying_marks_the_instance_failed() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "half"]).ok();
    // destroy acted, then its verification failed: restarting is impossible, so the undo of
    // stop fails and the instance is marked failed rather than claimed available.
    let r = env
        .dbctl_env(
            &["delete", "half", "--yes"],
            &[("DBCTL_FAILPOINTS", "fail:destroy")],
        )
        .fails_with(1);
    assert!(r.stderr.contains("undo of `stop` failed"), "{}", r.stderr);
    assert_eq!(env.status_of("half"), "failed");
    assert!(env.running_servers().is_empty());
    // A plain delete clears it.
    env.dbctl(&["delete", "half", "--yes"]).ok();
    assert_eq!(env.instance_count(), 0);
}

#[test]
fn ctrl_c_stops_after_the_current_step_and_resume_finishes() {
    let mut env = TestEnv::new();
    env.init();
    // SIGINT through the real handler, right after provision was recorded.
    let r = env
        .dbctl_env(
            &["create", "paused"],
            &[("DBCTL_FAILPOINTS", "interrupt-after:provision")],
        )
        .fails_with(3);
    assert!(r.stderr.contains("dbctl workflow resume"), "{}", r.stderr);
    let wf = &env.dbctl(&["workflow", "list", "-o", "json"]).ok().json()[0];
    assert_eq!(wf["status"], "interrupted");
    assert_eq!(wf["steps"][0]["status"], "done");
    assert_eq!(wf["steps"][1]["status"], "pending");
    assert!(env.running_servers().is_empty(), "start ran after Ctrl-C");
    let id = wf["id"].as_i64().unwrap().to_string();
    env.dbctl(&["workflow", "resume", &id]).ok();
    assert_eq!(env.psql("paused", "select 1"), "1");
    env.dbctl(&["delete", "paused", "--yes"]).ok();
}

#[test]
fn cancel_undoes_a_paused_workflow_and_frees_the_name() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl_env(
        &["create", "gone"],
        &[("DBCTL_FAILPOINTS", "interrupt-after:provision")],
    )
    .fails_with(3);
    assert_eq!(
        std::fs::read_dir(env.local_root().join("instances"))
            .unwrap()
            .count(),
        1
    );
    let id = env.dbctl(&["workflow", "list", "-o", "json"]).ok().json()[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let shown = env
        .dbctl(&["workflow", "cancel", &id, "-o", "json"])
        .ok()
        .json();
    assert_eq!(shown["status"], "cancelled");
    assert_eq!(shown["steps"][0]["status"], "undone");
    assert!(shown["error"]
        .as_str()
        .unwrap()
        .contains("cancelled by the user"));
    assert_eq!(
        std::fs::read_dir(env.local_root().join("instances"))
            .unwrap()
            .count(),
        0
    );
    env.dbctl(&["workflow", "cancel", &id])
        .one_line_error(2, "already cancelled");
    // A queued workflow cancels too, and the name is free after either.
    let q = env
        .dbctl(&["create", "gone", "--detach"])
        .ok()
        .stdout
        .trim()
        .to_string();
    env.dbctl(&["workflow", "cancel", &q]).ok();
    assert_eq!(env.instance_count(), 0);
    env.dbctl(&["create", "gone", "--dry-run"]).ok();
}

// The entries of a directory under a dbhost root (none when it does not exist).
use crate::common::names_in as entries;

#[test]
fn nothing_is_left_behind_by_failures_deletes_and_recoveries() {
    let mut env = TestEnv::new();
    env.init();
    let root = env.local_root();
    // A create that fails leaves no log archive.
    env.dbctl_env(&["create", "doomed"], &[("DBCTL_FAILPOINTS", "fail:start")])
        .fails_with(1);
    assert_eq!(entries(&root.join("wal")), Vec::<String>::new());
    // A snapshot that fails is not listed.
    env.dbctl(&["create", "db"]).ok();
    env.dbctl_env(
        &["snapshot", "create", "db"],
        &[("DBCTL_FAILPOINTS", "fail:snapshot")],
    )
    .fails_with(1);
    assert!(
        env.snapshots("db").iter().all(|s| s["tag"] == "base"),
        "{:?}",
        env.snapshots("db")
    );
    // Recovery drops the replaced server's directory (its logs stay: they are history).
    let taken = env
        .dbctl(&["snapshot", "create", "db", "-o", "json"])
        .ok()
        .json();
    let before = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    env.dbctl(&["recover", "db", "--yes"]).ok();
    // Its lineage says it was recovered, from which snapshot and when; its creation and
    // (lack of) clone source are its own, not the recovery's.
    let after = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    assert_eq!(after["created_at"], before["created_at"], "{after}");
    assert!(after["source_instance"].is_null(), "{after}");
    assert_eq!(after["recovered"]["snapshot_id"], taken["id"], "{after}");
    assert!(after["recovered"]["at"].as_str().unwrap() > before["created_at"].as_str().unwrap());
    let shown = env.dbctl(&["describe", "db"]).ok().stdout;
    assert!(
        shown.contains(&format!("from snapshot {} at", taken["id"]))
            && !shown.contains("cloned from   db"),
        "{shown}"
    );
    // Each snapshot says why it exists.
    let kinds: std::collections::BTreeSet<String> = env
        .snapshots("db")
        .iter()
        .map(|s| {
            format!(
                "{}:{}",
                s["kind"].as_str().unwrap(),
                s["tag"].as_str().unwrap_or("-")
            )
        })
        .collect();
    for k in ["base:base", "manual:-", "recovery:after-recovery"] {
        assert!(kinds.contains(k), "no {k} in {kinds:?}");
    }
    assert_eq!(
        entries(&root.join("instances")).len(),
        1,
        "{:?}",
        entries(&root.join("instances"))
    );
    // Deleting without a final snapshot, once no snapshot of it is kept: its logs go too.
    env.dbctl(&["create", "tmp"]).ok();
    let archives = || {
        entries(&root.join("wal"))
            .into_iter()
            .filter(|n| !n.starts_with('.'))
            .count()
    };
    let logs_before = archives();
    env.dbctl(&["delete", "tmp", "--yes", "--skip-final-snapshot"])
        .ok();
    assert_eq!(archives(), logs_before - 1);
    // With its final snapshot kept, only the logs from it on stay; deleting it removes them.
    env.dbctl(&["delete", "db", "--yes"]).ok();
    let final_id = env
        .snapshots("db")
        .iter()
        .find(|s| s["kind"] == "final")
        .unwrap()["id"]
        .to_string();
    for s in env.snapshots("db") {
        let id = s["id"].to_string();
        if id != final_id {
            env.dbctl(&["snapshot", "delete", &id, "--yes"]).ok();
        }
    }
    env.dbctl(&["snapshot", "delete", &final_id, "--yes"]).ok();
    assert_eq!(
        entries(&root.join("wal"))
            .iter()
            .filter(|n| !n.starts_with('.'))
            .count(),
        0,
        "{:?}",
        entries(&root.join("wal"))
    );
    assert!(entries(&root.join("snapshots")).is_empty());
}
