//! Log shipping and point-in-time recovery: marker rows committed at recorded times and
//! positions, restored to moments between them.

use crate::common::TestEnv;
use std::time::Duration;

/// The marker ids a restored instance holds, e.g. "1,2".
pub(crate) fn markers(env: &TestEnv, instance: &str) -> String {
    env.psql(
        instance,
        "select coalesce(string_agg(id::text, ',' order by id), '') from markers",
    )
}

/// Commits marker `id` in a segment of its own; returns (a time just before its commit, the
/// position just after it).
pub(crate) fn commit_marker(env: &TestEnv, id: u32) -> (String, String) {
    let at = env.psql(
        "src",
        "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    );
    env.psql("src", &format!("insert into markers values ({id})"));
    let lsn = env.psql("src", "select pg_current_wal_lsn()");
    // Close the segment so the archive (and the window) reaches past this commit.
    env.psql("src", "select pg_switch_wal()");
    (at, lsn)
}

/// A local instance `src` with an empty `markers` table and one snapshot: the base snapshot
/// it was made with.
fn source_with_snapshot() -> TestEnv {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "src"]).ok();
    env.psql("src", "create table markers (id int primary key)");
    assert_eq!(env.snapshots("src").len(), 1);
    env
}

fn wait_for_window_past(env: &TestEnv, instance: &str, time: &str) -> serde_json::Value {
    for _ in 0..150 {
        let w = env
            .dbctl(&["restorable-window", instance, "-o", "json"])
            .ok()
            .json();
        if w["latest"].as_str().is_some_and(|l| l >= time) {
            return w;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the archive did not reach {time}");
}

/// A time halfway between two RFC 3339 times of the same minute format.
pub(crate) fn between(a: &str, b: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let a = time::OffsetDateTime::parse(a, &Rfc3339).unwrap();
    let b = time::OffsetDateTime::parse(b, &Rfc3339).unwrap();
    let half: time::Duration = (b - a) / 2;
    let mid: time::OffsetDateTime = a + half;
    mid.format(&Rfc3339).unwrap()
}

#[test]
fn restores_to_any_moment_in_the_window_and_names_a_missing_segment() {
    let env = source_with_snapshot();
    let mut marks = Vec::new();
    for id in 1..=4 {
        marks.push(commit_marker(&env, id));
        std::thread::sleep(Duration::from_millis(700));
    }
    let w = wait_for_window_past(&env, "src", &marks[3].0);
    assert!(w["earliest"].as_str().unwrap() < marks[0].0.as_str(), "{w}");
    assert_eq!(w["gap"], serde_json::Value::Null);

    // Time targets: exactly the markers committed before the moment.
    let t = between(&marks[1].0, &marks[2].0);
    let r = env
        .dbctl(&["restore", "src", "--at", &t, "--as", "at-two"])
        .ok();
    assert!(
        // Messages show times to the second, in UTC.
        r.stderr.contains(&format!("to {}Z (UTC)", &t[..19])),
        "the resolved time is echoed: {}",
        r.stderr
    );
    assert_eq!(markers(&env, "at-two"), "1,2");
    env.dbctl(&[
        "clone",
        "src",
        "--as",
        "at-one",
        "--at",
        &between(&marks[0].0, &marks[1].0),
    ])
    .ok();
    assert_eq!(markers(&env, "at-one"), "1");
    // A position target.
    env.dbctl(&["restore", "src", "--lsn", &marks[2].1, "--as", "at-three"])
        .ok();
    assert_eq!(markers(&env, "at-three"), "1,2,3");
    // Latest on a live source includes a commit made a moment ago, not yet archived.
    env.psql("src", "insert into markers values (5)");
    env.dbctl(&["clone", "src", "--as", "newest", "--latest"])
        .ok();
    assert_eq!(markers(&env, "newest"), "1,2,3,4,5");
    // The restored copies are independent instances on a new timeline.
    env.psql("at-two", "insert into markers values (99)");
    assert_eq!(markers(&env, "src"), "1,2,3,4,5");

    // Outside the window: refused with the window printed, nothing changed.
    let before = env.catalog_state();
    let r = env
        .dbctl(&[
            "restore",
            "src",
            "--at",
            "2000-01-01T00:00:00Z",
            "--as",
            "old",
        ])
        .one_line_error(2, "outside the restorable window");
    assert!(r.stderr.contains(" .. "), "{}", r.stderr);
    env.dbctl(&["restore", "src", "--at", "next tuesday", "--as", "x"])
        .one_line_error(2, "cannot read the time");
    env.dbctl(&["restore", "src", "--lsn", "12-34", "--as", "x"])
        .one_line_error(2, "not a log position");
    // A MariaDB GTID: refused, naming PostgreSQL's form.
    env.dbctl(&["restore", "src", "--position", "0-1-42", "--as", "x"])
        .one_line_error(2, "e.g. 0/3000060");
    env.dbctl(&["restore", "src", "--as", "x"])
        .one_line_error(2, "no target given");
    env.dbctl(&["restore", "src", "--latest", "--as", "newest"])
        .one_line_error(2, "already exists");
    env.dbctl(&["clone", "src", "--as", "x", "--latest", "--fresh"])
        .one_line_error(2, "chooses its own snapshot");
    assert_eq!(env.catalog_state(), before);

    // A segment lost from the archive: the window stops before it and a target past it is
    // refused, naming the segment.
    let archive = env.local_root().join("wal").join(src_uid(&env));
    let mut segs: Vec<String> = std::fs::read_dir(&archive)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 24)
        .collect();
    segs.sort();
    // Only the segment goes; its sidecar stays (a hole all the same).
    let lost = segs[segs.len() - 3].clone();
    std::fs::remove_file(archive.join(&lost)).unwrap();
    let w = env
        .dbctl(&["restorable-window", "src", "-o", "json"])
        .ok()
        .json();
    assert_eq!(w["gap"], lost.as_str());
    env.dbctl(&["restore", "src", "--at", &marks[3].0, "--as", "past-gap"])
        .one_line_error(2, &format!("missing segment {lost}"));
}

fn src_uid(env: &TestEnv) -> String {
    std::fs::read_dir(env.local_root().join("instances"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("src-"))
        .unwrap()
}

#[test]
fn every_segment_is_archived_with_its_checksum_and_a_damaged_one_is_refused() {
    let env = source_with_snapshot();
    let (at, _) = commit_marker(&env, 1);
    commit_marker(&env, 2);
    wait_for_window_past(&env, "src", &at);
    let archive = env.local_root().join("wal").join(src_uid(&env));
    // A third marker's segment makes the archive store the second's compressed: that one is
    // damaged, since the first lies in the snapshot's own segment (which the snapshot
    // carries), and a plain one may still be compressed in place from what it read before
    // the damage, which would put the good content back.
    commit_marker(&env, 3);
    let holds_a_commit = |n: &str| {
        std::fs::read_to_string(archive.join(format!("{n}.json")))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| !v["last_commit"].is_null())
    };
    let packed = |n: &str| {
        std::fs::read(archive.join(n)).is_ok_and(|b| b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]))
    };
    let second_newest = || {
        let mut with_commits: Vec<String> = std::fs::read_dir(&archive)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.len() == 24 && holds_a_commit(n))
            .collect();
        with_commits.sort();
        with_commits.pop()?;
        with_commits.pop().filter(|n| packed(n))
    };
    let mut seg = None;
    for _ in 0..150 {
        seg = second_newest();
        if seg.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let seg = seg.expect("the second marker's segment, stored compressed");
    let side: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(archive.join(format!("{seg}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(side["size"], 16 << 20);
    assert_eq!(side["sha256"].as_str().unwrap().len(), 64);
    // Damage that segment: recovery refuses to use it, so a restore past the damage cannot
    // reach its target and is undone.
    let before = env
        .dbctl(&["restorable-window", "src", "-o", "json"])
        .ok()
        .json()["latest"]
        .as_str()
        .unwrap()
        .to_string();
    let p = archive.join(&seg);
    crate::snapshots::flip_middle_byte(&p);
    let r = env
        .dbctl(&["restore", "src", "--latest", "--as", "bad"])
        .fails_with(1);
    assert!(r.stderr.contains("undone"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&seg) && r.stderr.contains("does not match its checksum"),
        "dbhost's own line, not the server's generic one: {}",
        r.stderr
    );
    assert_eq!(env.running_servers().len(), 1);
    // Found damaged, the segment is a hole from then on: the window no longer offers what
    // it held, so the newest point it lists restores.
    let w = env
        .dbctl(&["restorable-window", "src", "-o", "json"])
        .ok()
        .json();
    assert!(
        w["gap"] == seg.as_str() || w["latest"].as_str().is_some_and(|l| l < before.as_str()),
        "{seg}: {w}"
    );
    env.dbctl(&[
        "restore",
        "src",
        "--at",
        w["latest"].as_str().unwrap(),
        "--as",
        "good",
    ])
    .ok();
}

#[test]
fn deleting_a_snapshot_drops_only_the_logs_no_kept_snapshot_needs() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "src", "--archive-timeout", "5"]).ok();
    assert_eq!(env.psql("src", "show archive_timeout"), "5s");
    env.psql("src", "create table markers (id int primary key)");
    // The first snapshot: the base one it was made with.
    let first = env.snapshots("src")[0]["id"].to_string();
    commit_marker(&env, 1);
    commit_marker(&env, 2);
    let second = env
        .dbctl(&["snapshot", "create", "src", "-o", "json"])
        .ok()
        .json();
    let (at3, _) = commit_marker(&env, 3);
    commit_marker(&env, 4);
    wait_for_window_past(&env, "src", &at3);
    let archive = env.local_root().join("wal").join(src_uid(&env));
    let count = || {
        std::fs::read_dir(&archive)
            .map(|d| d.flatten().filter(|e| e.file_name().len() == 24).count())
            .unwrap_or(0)
    };
    let before = count();
    env.dbctl(&["snapshot", "delete", &first]).ok();
    assert!(count() < before, "nothing was pruned");
    let w = env
        .dbctl(&["restorable-window", "src", "-o", "json"])
        .ok()
        .json();
    assert_eq!(w["earliest"], second["consistent_at"]);
    assert_eq!(
        w["gap"],
        serde_json::Value::Null,
        "a segment the kept snapshot needs was removed"
    );
    // A point after the kept snapshot still restores.
    env.dbctl(&["restore", "src", "--at", &at3, "--as", "after"])
        .ok();
    assert_eq!(markers(&env, "after"), "1,2");
    // Without any snapshot, no log is of use: every one goes, but not the directory of an
    // instance that lives (its server goes on archiving into it: before, archiving failed
    // from then on).
    env.dbctl(&["snapshot", "delete", &second["id"].to_string(), "--yes"])
        .ok();
    assert_eq!(count(), 0);
    assert!(archive.is_dir());
    commit_marker(&env, 5);
    env.psql("src", "select pg_switch_wal()");
    let waited = std::time::Instant::now();
    while count() == 0 {
        assert!(waited.elapsed().as_secs() < 30, "archiving stopped");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn recover_rebuilds_a_destroyed_instance_and_moves_its_endpoint() {
    let mut env = TestEnv::new();
    env.init();
    let hook_out = env.endpoint_hook();

    env.dbctl(&["create", "src"]).ok();
    env.psql("src", "create table markers (id int primary key)");
    env.dbctl(&["snapshot", "create", "src"]).ok();
    commit_marker(&env, 1);
    let (at2, _) = commit_marker(&env, 2);
    commit_marker(&env, 3);
    wait_for_window_past(&env, "src", &at2);
    let before = env.dbctl(&["describe", "src", "-o", "json"]).ok().json();
    let endpoints = env.dbctl(&["endpoint", "list", "-o", "json"]).ok().json();
    assert_eq!(endpoints[0]["name"], "src");
    assert_eq!(endpoints[0]["port"], before["port"]);

    // The data directory is destroyed under a running server.
    let uid = src_uid(&env);
    let data = env.local_root().join("instances").join(&uid).join("data");
    crate::common::destroy_data(&data);

    let r = env.dbctl(&["recover", "src", "-o", "json"]).ok();
    let after = r.json();
    // What could not come back is said: the old server was down, its data gone.
    let recovery = &after["recovery"];
    assert_eq!(recovery["lost"], true, "{recovery}");
    assert!(
        recovery["not_brought_back"]
            .as_str()
            .is_some_and(|t| t.contains("was never archived and is lost")),
        "{recovery}"
    );
    assert!(recovery["reached"].is_string(), "{recovery}");
    assert_eq!(after["name"], "src");
    assert_eq!(after["status"], "available");
    // On the same host, the recovered server keeps the port: clients keep their address.
    assert_eq!(after["port"], before["port"]);
    // Its lineage is its own (it was created, not cloned), and says it was recovered.
    assert!(after["source_instance"].is_null(), "{after}");
    assert!(after["recovered"]["at"].is_string(), "{after}");
    // Every archived marker is back, and the old password still works (same roles).
    assert_eq!(markers(&env, "src"), "1,2,3");
    let endpoints = env.dbctl(&["endpoint", "list", "-o", "json"]).ok().json();
    assert_eq!(endpoints.as_array().unwrap().len(), 1);
    assert_eq!(endpoints[0]["port"], after["port"]);
    // Nothing moved, so the endpoint hook had nothing to say.
    assert!(std::fs::read_to_string(&hook_out)
        .unwrap_or_default()
        .is_empty());
    let kinds = env.event_kinds("src");
    for k in ["replaced", "recovered", "recovery_report"] {
        assert!(kinds.iter().any(|e| e == k), "no {k} event in {kinds:?}");
    }
    assert!(!kinds.iter().any(|e| e == "endpoint_moved"), "{kinds:?}");
    // The recovered instance has a snapshot of its own, and its window keeps the history
    // of the one it replaced.
    let w = env
        .dbctl(&["restorable-window", "src", "-o", "json"])
        .ok()
        .json();
    // Its base snapshot, the one taken by hand, the recovered server's.
    assert_eq!(w["snapshots"], 3);
    assert_eq!(env.instance_count(), 1);
    assert_eq!(env.running_servers().len(), 1);

    // Recover to a time: only what was committed before it.
    env.dbctl(&["recover", "src", "--at", "2000-01-01T00:00:00Z"])
        .one_line_error(2, "outside the restorable window");
    env.dbctl(&["recover", "nope"])
        .one_line_error(2, "no instance named `nope`");
}

#[test]
fn restore_in_place_keeps_name_port_and_endpoint_and_its_undo_puts_the_data_back() {
    let env = source_with_snapshot();
    let mut marks = Vec::new();
    for id in 1..=3 {
        marks.push(commit_marker(&env, id));
    }
    wait_for_window_past(&env, "src", &marks[2].0);
    let port = env.dbctl(&["describe", "src", "-o", "json"]).ok().json()["port"].clone();
    let t = between(&marks[1].0, &marks[2].0);

    env.dbctl(&["restore", "src", "--at", &t, "--in-place"])
        .one_line_error(2, "without confirmation");
    // A restore whose new server never comes up is undone: the old data is back and serving.
    env.dbctl_env(
        &["restore", "src", "--at", &t, "--in-place", "--yes"],
        &[("DBCTL_FAILPOINTS", "fail:start")],
    )
    .fails_with(1);
    assert_eq!(markers(&env, "src"), "1,2,3");
    assert_eq!(env.status_of("src"), "available");

    let r = env
        .dbctl(&[
            "restore",
            "src",
            "--at",
            &t,
            "--in-place",
            "--yes",
            "-o",
            "json",
        ])
        .ok();
    assert!(
        r.stderr.contains("name, port and endpoint stay"),
        "{}",
        r.stderr
    );
    let d = r.json();
    assert_eq!(d["port"], port);
    assert_eq!(markers(&env, "src"), "1,2");
    let endpoints = env.dbctl(&["endpoint", "list", "-o", "json"]).ok().json();
    assert_eq!(endpoints[0]["port"], port);
    assert_eq!(env.instance_count(), 1);
    assert_eq!(env.running_servers().len(), 1);
    let inst_dir = env.local_root().join("instances").join(src_uid(&env));
    assert!(
        !inst_dir.join("data.aside").exists(),
        "the old data was not dropped"
    );
    assert!(env
        .event_kinds("src")
        .iter()
        .any(|k| k == "restored_in_place"));
}

#[test]
fn the_window_stays_one_span_across_snapshots_and_recent_targets_restore() {
    let env = source_with_snapshot();
    let first = &env.snapshots("src")[0];
    let (m1, _) = commit_marker(&env, 1);
    std::thread::sleep(Duration::from_millis(300));
    let (m2, _) = commit_marker(&env, 2);
    wait_for_window_past(&env, "src", &m2);
    // Right after a new snapshot the window still starts at the oldest one, with no hole.
    env.dbctl(&["snapshot", "create", "src"]).ok();
    let w = env
        .dbctl(&["restorable-window", "src", "-o", "json"])
        .ok()
        .json();
    assert_eq!(w["earliest"], first["consistent_at"], "{w}");
    assert_eq!(w["holes"], serde_json::json!([]), "{w}");
    assert_eq!(w["snapshots"], 2);
    // A point before the newest snapshot restores from the older one.
    env.dbctl(&["clone", "src", "--as", "mid", "--at", &between(&m1, &m2)])
        .ok();
    assert_eq!(markers(&env, "mid"), "1");
    // "Undo what I did a moment ago": targets newer than anything archived (the archive
    // timeout is a minute) have the current segment archived first.
    env.psql("src", "insert into markers values (3)");
    env.dbctl(&["clone", "src", "--as", "now", "--at", "now"])
        .ok();
    assert_eq!(markers(&env, "now"), "1,2,3");
    env.psql("src", "insert into markers values (4)");
    std::thread::sleep(Duration::from_millis(1500));
    env.psql("src", "insert into markers values (5)");
    env.dbctl(&["clone", "src", "--as", "ago", "--at", "1 second ago"])
        .ok();
    assert_eq!(markers(&env, "ago"), "1,2,3,4");
}

#[test]
fn recover_of_a_serving_instance_asks_first_and_loses_no_commit() {
    let env = source_with_snapshot();
    // Committed but not yet archived (the archive timeout is a minute).
    env.psql("src", "insert into markers values (1), (2)");
    let before = env.catalog_state();
    env.dbctl(&["recover", "src"])
        .one_line_error(2, "answers queries");
    assert_eq!(
        env.catalog_state(),
        before,
        "a refused recover changed something"
    );
    assert_eq!(markers(&env, "src"), "1,2");
    env.psql("src", "insert into markers values (3)");
    let r = env.dbctl(&["recover", "src", "--yes"]).ok();
    assert!(
        r.stderr.contains("recovered to the last archived commit"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was lost"), "{}", r.stderr);
    assert_eq!(markers(&env, "src"), "1,2,3");
    assert_eq!(env.running_servers().len(), 1);
}

#[test]
fn history_stays_restorable_after_in_place_restores_and_recovery() {
    let (env, m1, m2, after_two) = source_restored_in_place_to_one();
    let first = env
        .snapshots("src")
        .into_iter()
        .find(|s| s["tag"] != "after-restore")
        .unwrap();
    // Before the in-place restore, the instance held 1 and 2: that point still restores.
    let w = env
        .dbctl(&["restorable-window", "src", "-o", "json"])
        .ok()
        .json();
    assert_eq!(w["earliest"], first["consistent_at"], "{w}");
    env.dbctl(&["clone", "src", "--as", "before-undo", "--at", &after_two])
        .ok();
    assert_eq!(markers(&env, "before-undo"), "1,2");

    // After recovery the first incarnation's snapshots and logs are still its history.
    env.dbctl(&["recover", "src", "--yes"]).ok();
    let w = env
        .dbctl(&["restorable-window", "src", "-o", "json"])
        .ok()
        .json();
    assert_eq!(w["earliest"], first["consistent_at"], "{w}");
    let id = first["id"].to_string();
    env.dbctl(&["clone", "src", "--snapshot", &id, "--as", "from-first"])
        .ok();
    // The base snapshot was taken as `src` was made, before its markers table.
    assert_eq!(
        env.psql(
            "from-first",
            "select count(*) from pg_tables where tablename = 'markers'"
        ),
        "0"
    );
    env.dbctl(&[
        "clone",
        "src",
        "--as",
        "old-point",
        "--at",
        &between(&m1, &m2),
    ])
    .ok();
    assert_eq!(markers(&env, "old-point"), "1");
}

#[test]
fn latest_never_replays_a_branch_an_in_place_restore_abandoned() {
    let (env, ..) = source_restored_in_place_to_one();
    // Without the snapshot taken after the restore, only the abandoned branch has one.
    let after = env
        .snapshots("src")
        .into_iter()
        .find(|s| s["tag"] == "after-restore")
        .unwrap();
    env.dbctl(&["snapshot", "delete", &after["id"].to_string()])
        .ok();
    env.dbctl(&["clone", "src", "--as", "x", "--latest"])
        .one_line_error(2, "timeline its log goes on with");
    // A new snapshot makes it restorable again, with the restored history.
    env.dbctl(&["snapshot", "create", "src"]).ok();
    env.dbctl(&["clone", "src", "--as", "y", "--latest"]).ok();
    assert_eq!(markers(&env, "y"), "1");
}

/// `src` with markers 1 and 2 committed, then restored in place to between them (it holds 1).
/// Returns the two markers' times and a time after the second, before the restore.
fn source_restored_in_place_to_one() -> (TestEnv, String, String, String) {
    let env = source_with_snapshot();
    let (m1, _) = commit_marker(&env, 1);
    std::thread::sleep(Duration::from_millis(300));
    let (m2, _) = commit_marker(&env, 2);
    std::thread::sleep(Duration::from_millis(300));
    let after_two = env.psql(
        "src",
        "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    );
    wait_for_window_past(&env, "src", &m2);
    env.dbctl(&[
        "restore",
        "src",
        "--at",
        &between(&m1, &m2),
        "--in-place",
        "--yes",
    ])
    .ok();
    assert_eq!(markers(&env, "src"), "1");
    (env, m1, m2, after_two)
}
