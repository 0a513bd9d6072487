//! Restore drills: from each tier, passing and failing on purpose, and scheduled.

use crate::common::TestEnv;

/// The file of snapshot `uid`'s copy of relation path `rel` (e.g. base/5/16384).
fn snapshot_file(env: &TestEnv, rel: &str) -> std::path::PathBuf {
    fn walk(dir: &std::path::Path, rel: &str, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                walk(&p, rel, out);
            } else if p.to_string_lossy().ends_with(rel) {
                out.push(p);
            }
        }
    }
    let mut found = Vec::new();
    walk(&env.local_root().join("snapshots"), rel, &mut found);
    found.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    found
        .pop()
        .unwrap_or_else(|| panic!("no {rel} in any snapshot"))
}

#[test]
fn drills_restore_check_and_remove_a_scratch_copy_and_a_failed_one_is_told() {
    let mut env = TestEnv::new();
    env.init();
    let (hook, seen) = env.recording_script("hook", "$1 $2");
    env.add_config(&format!(
        "\n[monitor]\nhook = [\"{}\"]\n[drills]\nwarn_after_days = 7\n",
        hook.display()
    ));
    env.dbctl(&["create", "prod"]).ok();
    env.psql(
        "prod",
        "create table t (v int primary key); insert into t select generate_series(1, 500)",
    );
    // Bad input: one line each, nothing made or recorded.
    env.dbctl(&["drill", "nope"])
        .one_line_error(2, "no instance named");
    let listed = env.dbctl(&["list"]).ok();
    assert!(
        listed
            .stderr
            .contains("prod has never passed a restore drill"),
        "{}",
        listed.stderr
    );
    env.dbctl(&["snapshot", "create", "prod"]).ok();
    env.dbctl(&["drill", "prod", "--from", "repository"])
        .one_line_error(2, "prod has no repository to drill from");
    env.dbctl(&["drill", "prod", "--database", "nodb"])
        .one_line_error(2, "prod has no database `nodb`");
    assert_eq!(
        env.dbctl(&["drill", "list", "-o", "json"]).ok().json(),
        serde_json::json!([])
    );
    // After the snapshot: only the archived logs carry it.
    env.psql("prod", "insert into t values (501)");
    // The source idles before the drill: what it loses is still nothing.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let q = env.dir.join("checks.sql");
    let qs = q.to_str().unwrap();
    std::fs::write(
        &q,
        "select count(*) = 501 from t; select v from t where v = 501",
    )
    .unwrap();

    let r = env
        .dbctl(&["drill", "prod", "--check-sql", qs, "-o", "json"])
        .ok()
        .json();
    assert_eq!(r["passed"], true, "{r}");
    assert_eq!(r["tier"], "host");
    assert!(r["rto_secs"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(r["rpo_secs"].as_f64(), Some(0.0), "{r}");
    assert_eq!(r["checks"]["engine_ok"], true, "{r}");
    assert_eq!(
        env.instance_names(),
        ["prod"],
        "the scratch instance was removed"
    );
    let listed = env.dbctl(&["list"]).ok();
    assert!(
        !listed.stderr.contains("restore drill"),
        "{}",
        listed.stderr
    );
    let d = env.dbctl(&["describe", "prod", "-o", "json"]).ok().json();
    assert_eq!(d["last_drill"]["status"], "passed", "{d}");
    assert!(env.dbctl(&["describe", "prod"]).ok().stdout.contains("RTO"));

    // A check that returns false fails the drill: exit 1, the hook told, nothing left.
    std::fs::write(&q, "select count(*) = 999 from t").unwrap();
    let out = env
        .dbctl(&["drill", "prod", "--check-sql", qs, "-o", "json"])
        .fails_with(1);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["passed"], false, "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("checks failed"),
        "{r}"
    );
    assert_eq!(env.instance_names(), ["prod"]);
    let told = std::fs::read_to_string(&seen).unwrap_or_default();
    assert!(told.contains("prod drill_failed"), "{told}");

    // A damaged snapshot: the restore names the damage and the drill fails.
    let rel = env.psql("prod", "select pg_relation_filepath('t')");
    let file = snapshot_file(&env, &rel);
    let mut bytes = std::fs::read(&file).unwrap();
    for b in &mut bytes[100..300] {
        *b ^= 0x5a;
    }
    std::fs::write(&file, bytes).unwrap();
    let out = env.dbctl(&["drill", "prod", "-o", "json"]).fails_with(1);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["passed"], false, "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("restore failed"),
        "{r}"
    );
    assert_eq!(env.instance_names(), ["prod"]);

    let history = env
        .dbctl(&["drill", "list", "prod", "-o", "json"])
        .ok()
        .json();
    let statuses: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed", "passed"]);
    let kinds = env.event_kinds("prod");
    assert_eq!(kinds.iter().filter(|k| *k == "drill_failed").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "drill_passed").count(), 1);
}

#[test]
fn a_drill_from_the_repository_and_one_a_schedule_runs() {
    let mut env = TestEnv::new();
    env.init();
    crate::repository::dir_offsite(&env);
    env.dbctl(&[
        "create",
        "src",
        "--backup-repository",
        "offsite",
        "--backup-window",
        "none",
    ])
    .ok();
    env.psql(
        "src",
        "create table t (v int); insert into t values (1), (2)",
    );
    env.dbctl(&["backup", "create", "src"]).ok();
    let r = env
        .dbctl(&["drill", "src", "--from", "repository", "-o", "json"])
        .ok()
        .json();
    assert_eq!(r["passed"], true, "{r}");
    assert_eq!(r["tier"], "repository");
    assert!(r["rpo_secs"].as_f64().is_some(), "{r}");
    assert_eq!(env.instance_names(), ["src"]);

    // A schedule fires a drill from the repository in the sweep that finds it due.
    env.dbctl(&[
        "schedule",
        "add",
        "src",
        "stop",
        "--from",
        "repository",
        "--at",
        "now",
    ])
    .one_line_error(2, "--from is for a drill");
    env.dbctl(&[
        "schedule",
        "add",
        "src",
        "drill",
        "--from",
        "repository",
        "--at",
        "now",
    ])
    .ok();
    env.dbctl(&["sweep"]).ok();
    let history = env.dbctl(&["drill", "list", "-o", "json"]).ok().json();
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    assert_eq!(history[0]["tier"], "repository");
    assert_eq!(history[0]["status"], "passed", "{history}");
    assert_eq!(env.instance_names(), ["src"]);
}
