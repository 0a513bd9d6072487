//! An instance's server stopped, started and rebooted in place.

use crate::common::TestEnv;

#[test]
fn a_stopped_instance_keeps_its_data_and_stays_stopped_until_started() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    env.psql("db", "create table t (v int); insert into t values (1)");
    env.dbctl(&["daemon", "--once"]).ok();
    let before = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    assert_eq!(before["health"]["state"], "healthy", "{before}");
    let stopped = env.dbctl(&["stop", "db", "-o", "json"]).ok().json();
    assert_eq!(stopped["status"], "stopped");
    // No verdict on a server that is not running (the last one said healthy).
    assert!(stopped["health"].is_null(), "{stopped}");
    let listed = env.dbctl(&["list", "-o", "json"]).ok().json();
    assert!(listed[0]["health"].is_null(), "{listed}");
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

    // The history by kind and time; and followed as it is written.
    let stops = env
        .dbctl(&["events", "db", "--type", "stopped", "-o", "json"])
        .ok()
        .json();
    assert_eq!(stops.as_array().unwrap().len(), 1, "{stops}");
    let recent = env
        .dbctl(&["events", "db", "--since", "1h", "-o", "json"])
        .ok()
        .json();
    assert!(recent.as_array().unwrap().len() >= 4, "{recent}");
    let future = env
        .dbctl(&["events", "--since", "2099-01-01T00:00:00Z", "-o", "json"])
        .ok()
        .json();
    assert!(future.as_array().unwrap().is_empty(), "{future}");
    env.dbctl(&["events", "--since", "yesterday"])
        .one_line_error(2, "cannot read");
    // From a moment before the reboot: what the follower finds already written, then what
    // comes.
    let since = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut follower = env
        .command(&["events", "db", "--follow", "--since", &since, "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    let pids = env.running_servers();
    env.dbctl(&["reboot", "db"]).ok();
    let after = env.running_servers();
    assert_eq!(after.len(), 1);
    assert_ne!(after, pids, "a new server process");
    assert_eq!(env.psql("db", "select v from t"), "1");
    // The follower printed the reboot's events as they came, one JSON object a line.
    let mut out = std::io::BufReader::new(follower.stdout.take().unwrap());
    let mut seen = Vec::new();
    while !seen.iter().any(|k: &String| k == "rebooted") {
        let mut line = String::new();
        assert!(
            std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0,
            "{seen:?}"
        );
        let e: serde_json::Value = serde_json::from_str(&line).unwrap();
        seen.push(e["kind"].as_str().unwrap().to_string());
    }
    crate::common::kill_pid(follower.id() as i32);
    let _ = follower.wait();
    assert!(seen.iter().any(|k| k == "requested"), "{seen:?}");
    let kinds = env.event_kinds("db");
    for k in ["stopped", "started", "rebooted"] {
        assert!(kinds.iter().any(|e| e == k), "no {k} event in {kinds:?}");
    }
}

#[test]
fn a_hibernated_instance_frees_its_host_and_resumes_on_another_with_every_commit() {
    let mut env = TestEnv::new();
    env.init();
    let hook_out = env.endpoint_hook();
    let spare = env.ssh_host("spare", 1, "ed25519", None);
    env.add_host(&spare).ok();
    env.dbctl(&["create", "db", "--host", "local"]).ok();
    env.psql("db", "create table t (id int primary key)");
    let endpoint = env.dbctl(&["describe", "db", "-o", "json"]).ok().json()["endpoint"].clone();
    // A health verdict while it serves...
    env.dbctl(&["daemon", "--once"]).ok();
    assert_eq!(
        env.dbctl(&["describe", "db", "-o", "json"]).ok().json()["health"]["state"],
        "healthy"
    );

    // Commits go on while it hibernates; every one acknowledged must come back.
    let writer = {
        let env = &env;
        std::thread::scope(|s| {
            let w = s.spawn(move || {
                let mut acked = 0;
                for id in 1..100_000 {
                    let out = env.psql_run("db", &format!("insert into t values ({id})"));
                    if !out.status.success() {
                        break;
                    }
                    acked = id;
                }
                acked
            });
            std::thread::sleep(std::time::Duration::from_millis(500));
            env.dbctl(&["hibernate", "db"]).ok();
            w.join().unwrap()
        })
    };
    assert!(writer > 0);
    assert_eq!(env.status_of("db"), "hibernated");
    assert!(env.running_servers().is_empty());
    let instances: Vec<_> = std::fs::read_dir(env.local_root().join("instances"))
        .unwrap()
        .flatten()
        .collect();
    assert!(instances.is_empty(), "its data directory is gone");
    env.dbctl(&["hibernate", "db"])
        .one_line_error(2, "is hibernated");
    // ...and none while it sleeps: no server to judge, and a monitor pass does nothing to
    // an instance whose data is meant to be gone.
    let judged = |env: &TestEnv| {
        env.event_kinds("db")
            .iter()
            .filter(|k| k.starts_with("health_"))
            .count()
    };
    let before = judged(&env);
    env.dbctl(&["daemon", "--once"]).ok();
    let d = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    assert!(d["health"].is_null(), "{d}");
    let listed = env.dbctl(&["list", "-o", "json"]).ok().json();
    assert!(listed[0]["health"].is_null(), "{listed}");
    let table = env.dbctl(&["describe", "db"]).ok().stdout;
    assert!(!table.contains("healthy"), "{table}");
    assert_eq!(judged(&env), before, "{:?}", env.event_kinds("db"));

    let resumed = env
        .dbctl(&["resume", "db", "--host", "spare", "-o", "json"])
        .ok()
        .json();
    assert_eq!(resumed["status"], "available");
    assert_eq!(resumed["host"], "spare");
    assert_eq!(
        env.psql("db", "select count(*) = max(id) and max(id) >= 0 from t"),
        "t"
    );
    let max: i64 = env.psql("db", "select max(id) from t").parse().unwrap();
    assert!(
        max >= writer,
        "acknowledged up to {writer}, back up to {max}"
    );
    // The endpoint moved, and the hook said so.
    let moved = std::fs::read_to_string(&hook_out).unwrap();
    assert!(
        moved.contains(endpoint.as_str().unwrap()) && moved.contains(&spare.address),
        "{moved}"
    );
    env.dbctl(&["resume", "db"])
        .one_line_error(2, "not hibernated");
    assert!(env.event_kinds("db").iter().any(|k| k == "resumed"));
}

#[test]
fn a_due_schedule_fires_once_even_under_two_sweeps_at_once() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    // Bad input: one line each, nothing added.
    env.dbctl(&["schedule", "add", "db", "nap", "--at", "now"])
        .one_line_error(2, "not an action");
    env.dbctl(&["schedule", "add", "db", "snapshot", "--cron", "* * *"])
        .one_line_error(2, "not a cron expression");
    env.dbctl(&["schedule", "add", "db", "snapshot", "--cron", "61 * * * *"])
        .one_line_error(2, "not a cron expression");
    env.dbctl(&["schedule", "add", "db", "snapshot"])
        .one_line_error(2, "--cron or --at");
    env.dbctl(&[
        "schedule",
        "add",
        "db",
        "snapshot",
        "--at",
        "2020-01-01T00:00:00Z",
    ])
    .one_line_error(2, "has passed");
    let listed = env.dbctl(&["schedule", "list", "-o", "json"]).ok().json();
    assert!(listed.as_array().unwrap().is_empty(), "{listed}");

    let nightly = env
        .dbctl(&[
            "schedule",
            "add",
            "db",
            "stop",
            "--cron",
            "0 3 * * *",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert!(
        nightly["next_run"]
            .as_str()
            .unwrap()
            .ends_with("T03:00:00Z"),
        "{nightly}"
    );
    env.dbctl(&["schedule", "add", "db", "snapshot", "--at", "now"])
        .ok();
    let scheduled_snapshots = |env: &TestEnv| {
        env.snapshots("db")
            .iter()
            .filter(|s| s["tag"] == "scheduled")
            .count()
    };
    // Two sweeps at once: the run is claimed by one of them.
    let other = env
        .command(&["sweep", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mine = env.dbctl(&["sweep", "-o", "json"]).ok().json();
    let theirs: serde_json::Value =
        serde_json::from_slice(&other.wait_with_output().unwrap().stdout).unwrap();
    let fired =
        mine["scheduled"].as_array().unwrap().len() + theirs["scheduled"].as_array().unwrap().len();
    assert_eq!(fired, 1, "{mine} / {theirs}");
    assert_eq!(scheduled_snapshots(&env), 1);
    // Fired once: a later sweep leaves it.
    let again = env.dbctl(&["sweep", "-o", "json"]).ok().json();
    assert!(again["scheduled"].as_array().unwrap().is_empty(), "{again}");
    assert_eq!(scheduled_snapshots(&env), 1);
    let id = nightly["id"].to_string();
    let paused = env
        .dbctl(&["schedule", "pause", &id, "-o", "json"])
        .ok()
        .json();
    assert_eq!(paused["paused"], true);
    env.dbctl(&["schedule", "remove", &id]).ok();
    env.dbctl(&["schedule", "remove", &id])
        .one_line_error(2, "no schedule");
    assert!(env.event_kinds("db").iter().any(|k| k == "scheduled"));
}

#[test]
fn two_daemons_fire_a_schedule_once_and_stop_on_sigterm() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    // --once is one pass, logged as a JSON line when it did something.
    env.dbctl(&["schedule", "add", "db", "snapshot", "--at", "now"])
        .ok();
    let once = env.dbctl(&["daemon", "--once"]).ok();
    let line: serde_json::Value = serde_json::from_str(once.stdout.trim()).unwrap();
    assert_eq!(line["scheduled"], 1, "{line}");
    assert_eq!(line["level"], "info");
    env.dbctl(&["daemon", "--interval", "0"])
        .one_line_error(2, "--interval");

    let start = || {
        env.command(&["daemon", "--interval", "1"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    env.dbctl(&["schedule", "add", "db", "snapshot", "--at", "now"])
        .ok();
    let taken = |env: &TestEnv| {
        env.snapshots("db")
            .iter()
            .filter(|s| s["tag"] == "scheduled" && s["status"] == "available")
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while taken(&env) < 2 {
        assert!(std::time::Instant::now() < deadline, "no daemon fired it");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Another few passes of both: still fired once.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(taken(&env), 2);
    for d in [a, b] {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(d.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let out = d.wait_with_output().unwrap();
        assert!(out.status.success(), "a daemon stops cleanly on SIGTERM");
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v["at"].is_string(), "{l}");
        }
    }
}

/// A weekly maintenance window open from a few minutes ago for an hour.
fn window_around_now() -> String {
    let at = |t: time::OffsetDateTime| {
        let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            [usize::from(t.weekday().number_days_from_monday())];
        format!("{day}:{:02}:{:02}", t.hour(), t.minute())
    };
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{}-{}",
        at(now - time::Duration::minutes(5)),
        at(now + time::Duration::minutes(60))
    )
}

#[test]
fn modify_applies_now_waits_for_its_window_and_moves_when_the_host_has_no_room() {
    let mut env = TestEnv::new();
    env.init();
    let hook_out = env.endpoint_hook();
    // `wide` takes 60% of a host's cpu room (4 class cpus per core), so two never fit on one.
    let cores = std::thread::available_parallelism().unwrap().get() as f64;
    env.add_config(&format!(
            "\n[classes.roomy]\ncpus = 1.0\nmemory_mb = 1024\nmax_connections = 150\nstorage_gb = 1\n[classes.wide]\ncpus = {}\nmemory_mb = 1024\nmax_connections = 120\nstorage_gb = 1\n[classes.giant]\ncpus = 1.0\nmemory_mb = 1000000000\nmax_connections = 100\nstorage_gb = 1\n",
            cores * 4.0 * 0.6
        ));
    let spare = env.ssh_host("spare", 1, "ed25519", None);
    env.add_host(&spare).ok();
    env.dbctl(&["create", "db", "--host", "local"]).ok();
    env.psql(
        "db",
        "create table t (v int); insert into t select generate_series(1, 500)",
    );
    let pid = env.running_servers();

    // Bad input: one line, nothing changed.
    env.dbctl(&["modify", "db", "--storage-gb", "0"])
        .one_line_error(2, "never shrink");
    env.dbctl(&["modify", "db", "--maintenance-window", "sun:03:00"])
        .one_line_error(2, "not a maintenance window");
    env.dbctl(&["modify", "db", "--class", "nope"])
        .one_line_error(2, "unknown class");
    env.dbctl(&["modify", "db", "--backup-window", "02:00-03:00"])
        .one_line_error(2, "no backup policy");
    env.dbctl(&["modify", "db", "--on-failure", "panic"])
        .one_line_error(2, "not a policy");
    env.dbctl(&["modify", "db"])
        .one_line_error(2, "nothing to change");
    env.dbctl(&["modify", "db", "--apply-immediately"])
        .one_line_error(2, "no pending change");
    env.dbctl(&["modify", "db", "--class", "giant", "--apply-immediately"])
        .one_line_error(2, "giant");

    // A class change waits for the window; the archive timeout and storage apply now,
    // without a restart.
    let m = env
        .dbctl(&[
            "modify",
            "db",
            "--class",
            "roomy",
            "--archive-timeout",
            "30",
            "--storage-gb",
            "2",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(m["pending_class"], "roomy", "{m}");
    assert_eq!(m["instance"]["class"], "small");
    assert_eq!(m["instance"]["storage_gb"], 2);
    assert_eq!(m["instance"]["archive_timeout_secs"], 30);
    assert_eq!(env.psql("db", "show archive_timeout"), "30s");
    assert_eq!(env.psql("db", "show max_connections"), "100");
    assert_eq!(env.running_servers(), pid, "no restart");
    env.dbctl(&["modify", "db", "--storage-gb", "1"])
        .one_line_error(2, "never shrink");
    // Sweep outside a window leaves it pending.
    env.dbctl(&["sweep"]).ok();
    assert_eq!(
        env.dbctl(&["describe", "db", "-o", "json"]).ok().json()["pending_class"],
        "roomy"
    );

    // Inside its maintenance window, sweep applies it: a restart with the new settings.
    env.dbctl(&["modify", "db", "--maintenance-window", &window_around_now()])
        .ok();
    let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json();
    assert_eq!(swept["maintenance"].as_array().unwrap().len(), 1, "{swept}");
    let d = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    assert_eq!(d["class"], "roomy");
    assert!(d["pending_class"].is_null(), "{d}");
    assert_eq!(env.psql("db", "show max_connections"), "150");
    assert_ne!(env.running_servers(), pid, "restarted");
    assert_eq!(env.psql("db", "select count(*) from t"), "500");

    // A class the host has no room for moves the instance, with every row, the endpoint and
    // the hook following it.
    env.dbctl(&["create", "filler", "--host", "local", "--class", "wide"])
        .ok();
    let endpoint = d["endpoint"].as_str().unwrap().to_string();
    env.psql("db", "insert into t values (501)");
    let moved = env
        .dbctl(&[
            "modify",
            "db",
            "--class",
            "wide",
            "--apply-immediately",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(moved["instance"]["host"], "spare", "{moved}");
    assert_eq!(moved["instance"]["class"], "wide");
    assert!(moved["instance"]["pending_class"].is_null());
    assert_eq!(moved["instance"]["storage_gb"], 2);
    assert_eq!(moved["instance"]["archive_timeout_secs"], 30);
    assert!(moved["downtime_secs"].as_f64().unwrap() > 0.0, "{moved}");
    assert_eq!(env.psql("db", "select count(*) from t"), "501");
    assert_eq!(env.psql("db", "show max_connections"), "120");
    let hook = std::fs::read_to_string(&hook_out).unwrap();
    assert!(
        hook.contains(&endpoint) && hook.contains(&spare.address),
        "{hook}"
    );
    // Only the filler still runs on the old host.
    assert_eq!(crate::common::server_pids(&env.local_root()).len(), 1);
    let kinds = env.event_kinds("db");
    assert!(
        kinds.iter().filter(|k| *k == "modified").count() >= 3,
        "{kinds:?}"
    );
}

/// A process killed (SIGTERM, then waited for) when the test ends, passed or not.
pub(crate) struct Daemon(pub std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.0.wait();
    }
}

/// Waits up to `secs` for `done`; on timeout, says what the daemon logged and the events.
pub(crate) fn wait_for(env: &TestEnv, secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !done() {
        if std::time::Instant::now() > deadline {
            let log = std::fs::read_to_string(env.dir.join("daemon.log")).unwrap_or_default();
            let events = env.dbctl(&["events", "-o", "json"]).stdout;
            panic!("timed out waiting for {what}\ndaemon: {log}\nevents: {events}");
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

#[test]
fn the_monitor_restarts_a_killed_server_and_rebuilds_a_destroyed_one_with_every_archived_row() {
    let mut env = TestEnv::new();
    env.init();
    // Checks every second, a verdict after 3 s of failures; the hook records each change.
    let (hook, hook_out) = env.recording_script("monitor", "$1|$2|$DBCTL_PREVIOUS_STATE|$3");
    env.add_config(&format!(
        "\n[monitor]\ninterval_secs = 1\nfailure_budget_secs = 3\nhook = [\"{}\"]\n",
        hook.display()
    ));
    env.dbctl(&["create", "db"]).ok();
    env.dbctl(&["create", "idle"]).ok();
    env.dbctl(&["stop", "idle"]).ok();
    env.psql(
        "db",
        "create table t (v int); insert into t select generate_series(1, 100)",
    );
    env.dbctl(&["snapshot", "create", "db"]).ok();
    env.dbctl(&["recover", "db", "--before-error"])
        .one_line_error(2, "recorded no error");

    let _daemon = Daemon(
        env.command(&["daemon", "--interval", "5"])
            .stdout(std::fs::File::create(env.dir.join("daemon.log")).unwrap())
            .stderr(std::fs::File::create(env.dir.join("daemon.err")).unwrap())
            .spawn()
            .unwrap(),
    );
    let health = |env: &TestEnv| {
        env.dbctl(&["describe", "db", "-o", "json"]).ok().json()["health"]["state"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    wait_for(&env, 30, "a first check", || health(&env) == "healthy");

    // A killed server on intact data: started again, nothing lost.
    let before = env.running_servers();
    let data = env.local_root().join("instances");
    let pid = crate::common::server_pids(&env.local_root())[0];
    crate::common::kill_pid(pid);
    wait_for(&env, 60, "the monitor to restart it", || {
        env.event_kinds("db").iter().any(|k| k == "health_healthy")
            && env.psql_run("db", "select 1").status.success()
    });
    assert_ne!(env.running_servers(), before);
    assert_eq!(env.psql("db", "select count(*) from t"), "100");

    // A destroyed data directory: rebuilt from the snapshot and every archived log.
    env.psql("db", "insert into t select generate_series(101, 150)");
    // The snapshot's log switch archives those rows.
    env.dbctl(&["snapshot", "create", "db"]).ok();
    let dir = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("db-"))
        .unwrap();
    crate::common::destroy_data(&dir.join("data"));
    wait_for(&env, 120, "the monitor to rebuild it", || {
        env.event_kinds("db").iter().any(|k| k == "replaced") && health(&env) == "healthy"
    });
    assert_eq!(env.psql("db", "select count(*) from t"), "150");
    let kinds = env.event_kinds("db");
    for k in ["health_failing", "health_recovering", "recovered"] {
        assert!(kinds.iter().any(|e| e == k), "no {k} in {kinds:?}");
    }
    // The stopped instance was left alone: never checked, still stopped.
    let idle = env.dbctl(&["describe", "idle", "-o", "json"]).ok().json();
    assert_eq!(idle["status"], "stopped");
    assert!(idle["health"].is_null(), "{idle}");
    let hooked = std::fs::read_to_string(&hook_out).unwrap();
    for s in [
        "db|failing|healthy|",
        "db|recovering|failing|",
        "|healthy|recovering|",
    ] {
        assert!(hooked.contains(s), "no `{s}` in {hooked}");
    }
}

/// Sets a catalog row's time, as if it had been written at `at`.
fn age(env: &TestEnv, table: &str, id: i64, at: time::OffsetDateTime) {
    let t = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let n = env.catalog_execute(&format!(
        "UPDATE {table} SET created_at = '{t}' WHERE id = {id}"
    ));
    assert_eq!(n, 1);
}

#[test]
fn automatic_snapshots_come_every_interval_and_retention_keeps_one_a_day() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    env.dbctl(&["create", "quiet", "--snapshot-interval", "0"])
        .ok();
    // The ones the interval made (not the base snapshot each instance is made with).
    let automatic = |env: &TestEnv, name: &str| -> Vec<i64> {
        env.snapshots(name)
            .iter()
            .filter(|s| s["kind"] == "automatic" && s["status"] == "available")
            .filter(|s| s["tag"] != "base")
            .map(|s| s["id"].as_i64().unwrap())
            .collect()
    };
    // Not yet an interval old: nothing.
    env.dbctl(&["sweep"]).ok();
    assert!(automatic(&env, "db").is_empty());
    let ids = |name: &str| env.dbctl(&["describe", name, "-o", "json"]).ok().json();
    let now = time::OffsetDateTime::now_utc();
    for name in ["db", "quiet"] {
        let id = instance_id(&env, name);
        age(&env, "instances", id, now - time::Duration::minutes(20));
        for s in env.snapshots(name) {
            age(
                &env,
                "snapshots",
                s["id"].as_i64().unwrap(),
                now - time::Duration::minutes(20),
            );
        }
    }
    env.dbctl(&["sweep"]).ok();
    let first = automatic(&env, "db");
    assert_eq!(first.len(), 1);
    assert!(automatic(&env, "quiet").is_empty(), "{}", ids("quiet"));
    assert_eq!(ids("db")["snapshot_interval_mins"], 15);

    // Two of one day three days ago: retention keeps that day's newest.
    let day = (now - time::Duration::days(3)).replace_time(time::Time::MIDNIGHT);
    age(&env, "snapshots", first[0], day + time::Duration::hours(10));
    env.dbctl(&["sweep"]).ok();
    let second = *automatic(&env, "db")
        .iter()
        .find(|i| **i != first[0])
        .unwrap();
    age(&env, "snapshots", second, day + time::Duration::hours(11));
    let manual = env
        .dbctl(&["snapshot", "create", "db", "-o", "json"])
        .ok()
        .json();
    let manual_id = manual["id"].as_i64().unwrap_or_else(|| {
        env.snapshots("db")
            .iter()
            .find(|s| s["kind"] == "manual")
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    });
    age(&env, "snapshots", manual_id, day + time::Duration::hours(9));
    // A new one (the newest is old now), then retention drops the older of that day.
    env.dbctl(&["sweep"]).ok();
    env.dbctl(&["sweep"]).ok();
    let kept = automatic(&env, "db");
    assert!(!kept.contains(&first[0]), "{kept:?}");
    assert!(kept.contains(&second), "{kept:?}");
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(
        env.snapshots("db")
            .iter()
            .any(|s| s["id"] == manual_id && s["status"] == "available"),
        "a person's snapshot is never expired"
    );
}

/// The catalog id of a live instance.
fn instance_id(env: &TestEnv, name: &str) -> i64 {
    env.catalog_i64(&format!(
        "SELECT id FROM instances WHERE name = '{name}' AND status NOT IN ('deleted', 'replaced', 'lost')"
    ))
}

#[test]
fn the_monitor_warns_of_failing_archiving_and_a_full_disk_without_rebuilding() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    env.psql("db", "create table t (v int); insert into t values (1)");
    env.dbctl(&["daemon", "--once"]).ok();
    let health =
        |env: &TestEnv| env.dbctl(&["describe", "db", "-o", "json"]).ok().json()["health"].clone();
    assert_eq!(health(&env)["state"], "healthy");

    // Its logs stop reaching the archive (as a broken archive would make them).
    env.psql("db", "alter system set archive_command = '/bin/false'");
    env.psql("db", "select pg_reload_conf()");
    env.psql("db", "insert into t values (2); select pg_switch_wal()");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        env.dbctl(&["daemon", "--once"]).ok();
        let h = health(&env);
        if h["state"] == "degraded" {
            assert!(
                h["detail"]
                    .as_str()
                    .unwrap()
                    .contains("not reaching the archive"),
                "{h}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{h}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    env.psql("db", "alter system reset archive_command");
    env.psql("db", "select pg_reload_conf()");
    env.psql("db", "insert into t values (3); select pg_switch_wal()");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while health(&env)["state"] != "healthy" {
        assert!(std::time::Instant::now() < deadline, "{}", health(&env));
        std::thread::sleep(std::time::Duration::from_millis(500));
        env.dbctl(&["daemon", "--once"]).ok();
    }

    // A host whose free disk is under the limit.
    env.add_config("\n[monitor]\ndisk_warning_gb = 1000000000\n");
    env.dbctl(&["daemon", "--once"]).ok();
    let h = health(&env);
    assert_eq!(h["state"], "degraded", "{h}");
    assert!(
        h["detail"].as_str().unwrap().contains("GiB of disk free"),
        "{h}"
    );
    // Nothing was rebuilt.
    assert!(!env.event_kinds("db").iter().any(|k| k == "replaced"));
    assert_eq!(env.psql("db", "select count(*) from t"), "3");
}

/// The data directory of the live instance `name` on the local host (either engine).
pub(crate) fn data_dir(env: &TestEnv, name: &str) -> std::path::PathBuf {
    let prefix = format!("{name}-");
    std::fs::read_dir(env.local_root().join("instances"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix)
        })
        // (PostgreSQL's or MariaDB's)
        .find(|p| p.join("data/PG_VERSION").exists() || p.join("data/mysql").is_dir())
        .unwrap()
        .join("data")
}

#[test]
fn a_server_that_refuses_its_data_is_rebuilt_to_before_the_first_error_or_left_to_people() {
    let mut env = TestEnv::new();
    env.init();
    env.add_config("\n[monitor]\nfailure_budget_secs = 0\n");
    env.dbctl(&["create", "db"]).ok();
    env.dbctl(&["create", "paged", "--on-failure", "notify"])
        .ok();
    for name in ["db", "paged"] {
        env.psql(
            name,
            "create table t (v int); insert into t select generate_series(1, 10)",
        );
        // The snapshot's log switch archives the rows.
        env.dbctl(&["snapshot", "create", name]).ok();
    }
    env.dbctl(&["daemon", "--once"]).ok();
    // The server killed, then its control file damaged: it will not start on that data.
    let datas: Vec<_> = ["db", "paged"].iter().map(|n| data_dir(&env, n)).collect();
    for data in &datas {
        let pid = crate::common::postmaster_pid(data);
        crate::common::kill_pid(pid);
    }
    // Its children go with it; none may write the control file after it is damaged.
    wait_for(&env, 30, "the servers' processes to end", || {
        crate::common::server_pids(&env.local_root()).is_empty()
            && std::process::Command::new("pgrep")
                .args(["-f", &datas[0].display().to_string()])
                .output()
                .unwrap()
                .stdout
                .is_empty()
    });
    for data in &datas {
        std::fs::write(data.join("global").join("pg_control"), vec![0u8; 8192]).unwrap();
    }
    // The first check: failing; the second: the verdict, a start that fails, a rebuild to
    // before the first error, run to its end by this pass.
    env.dbctl(&["daemon", "--once"]).ok();
    env.dbctl(&["daemon", "--once"]).ok();
    let events = env
        .dbctl(&["events", "db", "--type", "health_recovering", "-o", "json"])
        .ok()
        .json();
    assert!(
        events.as_array().is_some_and(|e| !e.is_empty()),
        "{}",
        env.dbctl(&["events", "db"]).stdout
    );
    assert!(
        events[0]["message"]
            .as_str()
            .unwrap()
            .contains("the latest point")
            || events[0]["message"]
                .as_str()
                .unwrap()
                .contains("just before the first error"),
        "{events}"
    );
    env.dbctl(&["daemon", "--once"]).ok();
    assert_eq!(env.psql("db", "select count(*) from t"), "10");
    let d = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    assert_eq!(d["health"]["state"], "healthy", "{d}");

    // Its policy says notify: it is left as it is, and a person recovers it to before the
    // first error.
    let p = env.dbctl(&["describe", "paged", "-o", "json"]).ok().json();
    assert_eq!(p["health"]["state"], "notified", "{p}");
    assert!(!env.event_kinds("paged").iter().any(|k| k == "replaced"));
    env.dbctl(&["recover", "paged", "--before-error", "--yes"])
        .ok();
    assert_eq!(env.psql("paged", "select count(*) from t"), "10");
}

#[test]
fn a_server_that_cannot_start_for_a_cause_outside_its_data_is_left_to_people_not_rebuilt() {
    let mut env = TestEnv::new();
    env.init();
    env.add_config("\n[monitor]\nfailure_budget_secs = 0\n");
    env.dbctl(&["create", "db"]).ok();
    env.psql(
        "db",
        "create table t (v int); insert into t select generate_series(1, 10)",
    );
    env.dbctl(&["snapshot", "create", "db"]).ok();
    // Rows only its data holds: a rebuild from the archive would lose them.
    env.psql(
        "db",
        "set synchronous_commit = on; insert into t select generate_series(11, 20)",
    );
    env.dbctl(&["daemon", "--once"]).ok();
    let url = env.dbctl(&["url", "db"]).ok().stdout.trim().to_string();
    let authority = url.split('@').nth(1).unwrap().split('/').next().unwrap();
    let data = data_dir(&env, "db");
    let pid = crate::common::postmaster_pid(&data);
    crate::common::kill_pid(pid);
    wait_for(&env, 30, "the server's processes to end", || {
        crate::common::server_pids(&env.local_root()).is_empty()
    });
    // Someone else holds its port: its start fails, for a reason that is not its data.
    let squatter = std::net::TcpListener::bind(authority).unwrap();
    env.dbctl(&["daemon", "--once"]).ok();
    env.dbctl(&["daemon", "--once"]).ok();
    let d = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    assert_eq!(d["health"]["state"], "notified", "{d}");
    // Its event says why nothing was done, in the server's words.
    let said = env.dbctl(&["events", "db", "-o", "json"]).ok().json();
    let why = said
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .find(|m| m.contains("not rebuilt"))
        .unwrap_or_else(|| panic!("{said}"))
        .to_string();
    assert!(why.contains("could not create any TCP/IP sockets"), "{why}");
    let kinds = env.event_kinds("db");
    assert!(
        !kinds
            .iter()
            .any(|k| k == "replaced" || k == "health_recovering"),
        "{kinds:?}"
    );
    assert!(data.join("PG_VERSION").exists());
    // Its port free again, a person starts it on its own data: nothing lost.
    drop(squatter);
    env.dbctl(&["start", "db"]).ok();
    assert_eq!(env.psql("db", "select count(*) from t"), "20");
}

#[test]
fn a_server_reading_damaged_pages_is_rebuilt_from_before_the_damage() {
    let mut env = TestEnv::new();
    env.init();
    env.add_config("\n[monitor]\nfailure_budget_secs = 0\n");
    env.dbctl(&["create", "db"]).ok();
    env.psql(
        "db",
        "create table t (v int); insert into t select generate_series(1, 10)",
    );
    env.dbctl(&["snapshot", "create", "db"]).ok();
    env.psql("db", "checkpoint");
    let file = data_dir(&env, "db").join(env.psql("db", "select pg_relation_filepath('t')"));
    env.dbctl(&["daemon", "--once"]).ok();
    // Killed, a page of t damaged on disk (nothing after the checkpoint rewrites it), then
    // started again by the monitor as a server that is down on its data.
    let pid = crate::common::server_pids(&env.local_root())[0];
    crate::common::kill_pid(pid);
    wait_for(&env, 30, "the server's processes to end", || {
        std::process::Command::new("pgrep")
            .args(["-f", &data_dir(&env, "db").display().to_string()])
            .output()
            .unwrap()
            .stdout
            .is_empty()
    });
    let mut page = std::fs::read(&file).unwrap();
    for b in &mut page[200..400] {
        *b ^= 0x5a;
    }
    std::fs::write(&file, page).unwrap();
    env.dbctl(&["daemon", "--once"]).ok();
    env.dbctl(&["daemon", "--once"]).ok();
    assert!(
        env.event_kinds("db").iter().any(|k| k == "health_healthy"),
        "restarted"
    );
    let err = env.psql_fails("db", "select count(*) from t");
    assert!(err.contains("checksum"), "{err}");
    // Now the server itself reports damaged data: rebuilt to before the first error.
    env.dbctl(&["daemon", "--once"]).ok();
    env.dbctl(&["daemon", "--once"]).ok();
    let started = env
        .dbctl(&["events", "db", "--type", "health_recovering", "-o", "json"])
        .ok()
        .json();
    assert!(
        started[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("checksums failed"),
        "{started}"
    );
    env.dbctl(&["daemon", "--once"]).ok();
    assert_eq!(env.psql("db", "select count(*) from t"), "10");
    let d = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    assert_eq!(d["health"]["state"], "healthy", "{d}");
}

/// The Grafana dashboard in `fixtures/` asks only for metric names and labels a daemon
/// serves (a renamed metric would leave a panel empty without a word), and shows each of
/// them.
fn dashboard_shows_what_is_served(scraped: &str) {
    use std::collections::BTreeSet;
    let served: BTreeSet<&str> = scraped
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut labels: BTreeSet<String> = BTreeSet::new();
    for sample in scraped.lines().filter(|l| !l.starts_with('#')) {
        if let Some((_, rest)) = sample.split_once('{') {
            for pair in rest.split(',') {
                if let Some((k, _)) = pair.split_once('=') {
                    labels.insert(k.trim().to_string());
                }
            }
        }
    }
    assert!(
        served.len() >= 10 && labels.contains("instance"),
        "{served:?} {labels:?}\n{scraped}"
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/dbctl-grafana.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Every query string anywhere: panels' targets and the instance variable.
    fn strings<'a>(v: &'a serde_json::Value, key: &str, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    match v.as_str() {
                        Some(s) if k == key => out.push(s),
                        _ => strings(v, key, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, key, out)),
            _ => {}
        }
    }
    let mut queries = Vec::new();
    strings(&dashboard, "expr", &mut queries);
    strings(&dashboard, "definition", &mut queries);
    assert!(queries.len() >= 10, "{queries:?}");
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut used = BTreeSet::new();
    for q in &queries {
        let names: Vec<&str> = q
            .split(|c: char| !ident(c))
            .filter(|t| t.starts_with("dbctl_"))
            .collect();
        assert!(!names.is_empty(), "`{q}` asks for no dbctl metric");
        for n in names {
            assert!(
                served.contains(n),
                "`{q}` asks for {n}, which is not served"
            );
            used.insert(n);
        }
        // Label matchers: `{instance=~"$instance"}`.
        for matcher in q.split('{').skip(1) {
            let inner = matcher.split('}').next().unwrap_or_default();
            for pair in inner.split(',').filter(|p| !p.trim().is_empty()) {
                let k = pair.split(['=', '!']).next().unwrap_or_default().trim();
                assert!(
                    labels.contains(k),
                    "`{q}` matches on {k}, not a served label"
                );
            }
        }
    }
    let unused: Vec<_> = served.iter().filter(|n| !used.contains(*n)).collect();
    assert!(unused.is_empty(), "the dashboard never shows {unused:?}");
    // Legends name served labels: `{{instance}}`.
    let mut legends = Vec::new();
    strings(&dashboard, "legendFormat", &mut legends);
    for l in legends {
        for part in l.split("{{").skip(1) {
            let k = part.split("}}").next().unwrap_or_default().trim();
            assert!(
                labels.contains(k),
                "legend `{l}` names {k}, not a served label"
            );
        }
    }
}

#[test]
fn the_daemon_serves_prometheus_metrics_on_loopback_only() {
    let mut env = TestEnv::new();
    env.init();
    let port = env.ports(2)[0];
    env.add_config("\n[metrics]\nlisten = \"0.0.0.0:1\"\n");
    env.dbctl(&["daemon", "--once"])
        .one_line_error(2, "not a loopback address");
    let config = env.home.join("config.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("0.0.0.0:1", &format!("127.0.0.1:{port}"));
    std::fs::write(&config, text).unwrap();
    env.dbctl(&["create", "db"]).ok();
    env.dbctl(&["snapshot", "create", "db"]).ok();
    let offsite = format!("file://{}", env.dir.join("offsite").display());
    env.dbctl(&["repository", "add", "offsite", "--url", &offsite])
        .ok();
    env.dbctl(&["backup", "create", "db"]).ok();
    env.dbctl(&["restorable-window", "db"]).ok();
    // A window reckoned long ago is reckoned again by the monitor: the loss window it
    // reports is now's, not the age of the last time someone asked.
    env.catalog_execute(
        "UPDATE wal_ranges SET refreshed_at = '2000-01-01T00:00:00Z', last_time = '2000-01-01T00:00:00Z'",
    );
    let _daemon = Daemon(
        env.command(&["daemon", "--interval", "2"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}/metrics");
    let mut scraped = String::new();
    wait_for(&env, 60, "a scrape with the instance's health", || {
        scraped = ureq::get(&url)
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .unwrap_or_default();
        scraped.contains("dbctl_instance_healthy{instance=\"db\"} 1")
            && scraped
                .lines()
                .find_map(|l| {
                    l.strip_prefix("dbctl_instance_restorable_age_seconds{instance=\"db\"} ")
                })
                .and_then(|v| v.trim().parse::<f64>().ok())
                .is_some_and(|age| age < 3600.0)
    });
    for line in [
        "dbctl_instance_last_snapshot_age_seconds{instance=\"db\"}",
        "dbctl_instance_restorable_age_seconds{instance=\"db\"}",
        "dbctl_host_up{host=\"local\"} 1",
        "dbctl_host_rtt_seconds{host=\"local\"}",
        "dbctl_workflows{state=\"succeeded\"}",
        "# TYPE dbctl_instance_healthy gauge",
    ] {
        assert!(scraped.contains(line), "no {line} in:\n{scraped}");
    }
    dashboard_shows_what_is_served(&scraped);
    // The loss window is what losing the data now would lose: 0 for an idle instance whose
    // commits are all archived, however old the last one (before, every idle instance aged
    // past any alert), and more than 0 once it holds a commit the archive lacks.
    let loss = |url: &str| -> Option<f64> {
        ureq::get(url)
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())?
            .lines()
            .find_map(|l| l.strip_prefix("dbctl_instance_restorable_age_seconds{instance=\"db\"} "))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    env.psql("db", "select pg_switch_wal()");
    wait_for(
        &env,
        60,
        "a loss window of 0 for an idle, archived instance",
        || loss(&url) == Some(0.0),
    );
    env.psql(
        "db",
        "create table fresh (v int); insert into fresh values (1)",
    );
    wait_for(
        &env,
        30,
        "a loss window over 0 for an unarchived commit",
        || loss(&url).is_some_and(|a| a > 0.0),
    );
    // Only GET and HEAD on /metrics.
    let post = ureq::post(&url).send("x");
    assert!(
        matches!(post, Err(ureq::Error::StatusCode(405))),
        "{post:?}"
    );
    let head = ureq::head(&url).call().unwrap();
    assert_eq!(head.status(), 200);
    // A flood of idle connections costs a few threads, not one each.
    let daemon_pid = _daemon.0.id();
    let threads = || {
        std::fs::read_dir(format!("/proc/{daemon_pid}/task"))
            .unwrap()
            .count()
    };
    let before = threads();
    let flood: Vec<_> = (0..300)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let during = threads();
    assert!(during <= before + 2, "{before} threads, then {during}");
    drop(flood);
    wait_for(&env, 30, "a scrape after the flood", || {
        ureq::get(&url).call().is_ok_and(|r| r.status() == 200)
    });
    // A second daemon on the same address runs without metrics, and says so.
    let second = Daemon(
        env.command(&["daemon", "--interval", "2"])
            .stdout(std::fs::File::create(env.dir.join("second.err")).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(
        &env,
        30,
        "the second daemon to say it has no metrics",
        || {
            std::fs::read_to_string(env.dir.join("second.err"))
                .unwrap_or_default()
                .contains("running without them")
        },
    );
    assert!(
        std::fs::read_to_string(format!("/proc/{}/status", second.0.id())).is_ok(),
        "the second daemon exited"
    );
    drop(second);
    // A recovery replaces the instance's record; its series go on under its name (before,
    // the snapshot- and backup-age series vanished until the next of each).
    env.dbctl(&["recover", "db", "--yes"]).ok();
    let series = [
        "dbctl_instance_last_snapshot_age_seconds{instance=\"db\"}",
        "dbctl_instance_last_backup_age_seconds{instance=\"db\"}",
        "dbctl_instance_restorable_age_seconds{instance=\"db\"}",
        "dbctl_instance_healthy{instance=\"db\"} 1",
    ];
    wait_for(&env, 60, "every series of db after its recovery", || {
        scraped = ureq::get(&url)
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .unwrap_or_default();
        series.iter().all(|l| scraped.contains(l))
    });
}

#[test]
fn clones_that_expire_or_sit_idle_are_deleted_by_the_daemon_unless_protected() {
    let mut env = TestEnv::new();
    env.init();
    env.add_config("\n[monitor]\ninterval_secs = 1\n");
    env.dbctl(&["create", "src"]).ok();
    env.dbctl(&["snapshot", "create", "src"]).ok();
    // Bad input: one line each, nothing made or changed.
    for (flag, value) in [
        ("--expires-in", "soon"),
        ("--expires-in", "0h"),
        ("--delete-when-idle", "2"),
    ] {
        env.dbctl(&["clone", "src", "--as", "bad", flag, value])
            .one_line_error(2, "as a duration");
    }
    env.dbctl(&["clone", "src", "--as", "bad", "--final-snapshot-on-expiry"])
        .one_line_error(2, "expires");
    env.dbctl(&["protect", "nope"])
        .one_line_error(2, "no instance named");
    env.dbctl(&["protect", "src", "--until", "2000-01-01T00:00:00Z"])
        .one_line_error(2, "not in the future");
    env.dbctl(&["protect", "src"])
        .one_line_error(2, "`src` never expires");
    assert_eq!(env.instance_names(), ["src"]);

    env.dbctl(&["clone", "src", "--as", "brief", "--expires-in", "3s"])
        .ok();
    env.dbctl(&["clone", "src", "--as", "kept", "--expires-in", "3s"])
        .ok();
    env.dbctl(&["protect", "kept"]).ok();
    env.dbctl(&["clone", "src", "--as", "idle", "--delete-when-idle", "15s"])
        .ok();
    env.dbctl(&["clone", "src", "--as", "busy", "--delete-when-idle", "15s"])
        .ok();
    // A client stays connected to `busy`.
    let _session = Daemon(
        env.command(&["connect", "busy", "--", "-XAtc", "select pg_sleep(300)"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let table = env.dbctl(&["list"]).ok().stdout;
    for needle in ["expires", "protected", "idle 15s"] {
        assert!(table.contains(needle), "no {needle} in:\n{table}");
    }
    let _daemon = Daemon(
        env.command(&["daemon", "--interval", "1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(&env, 120, "the expired and the idle clone deleted", || {
        env.instance_names() == ["busy", "kept", "src"]
    });
    // The protected one and the one in use stay past their limits.
    std::thread::sleep(std::time::Duration::from_secs(10));
    assert_eq!(env.instance_names(), ["busy", "kept", "src"]);
    let events = env
        .dbctl(&["events", "--type", "instance_expired", "-o", "json"])
        .ok()
        .json();
    let said: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(said
        .iter()
        .any(|m| m.starts_with("brief") && m.contains("expired at")));
    assert!(said
        .iter()
        .any(|m| m.starts_with("idle") && m.contains("no client has connected")));
    // Deleted without a final snapshot, as none was asked for.
    let snaps = env.dbctl(&["snapshot", "list", "-o", "json"]).ok().json();
    assert!(
        !snaps
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["instance_name"] == "brief" || s["instance_name"] == "idle"),
        "{snaps}"
    );
    env.dbctl(&["describe", "kept"]).ok();
}

#[test]
fn check_runs_the_engines_integrity_checks_and_the_dbas_queries() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    env.psql(
        "db",
        "create table t (v int primary key); insert into t select generate_series(1, 100)",
    );
    let q = env.dir.join("checks.sql");
    let qs = q.to_str().unwrap();
    std::fs::write(
        &q,
        "select count(*) = 100 from t; -- every row; still one query\nselect v from t where v = 7;",
    )
    .unwrap();
    let r = env
        .dbctl(&["check", "db", "--sql", qs, "-o", "json"])
        .ok()
        .json();
    assert_eq!(r["engine_ok"], true, "{r}");
    assert_eq!(r["queries"].as_array().unwrap().len(), 2, "{r}");
    assert!(r["queries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["ok"] == true));
    // Again, now that amcheck is installed (the server's notice about it is no finding).
    env.dbctl(&["check", "db"]).ok();
    env.dbctl(&["check", "db", "--sql", qs, "--database", "nodb"])
        .one_line_error(2, "has no database nodb");
    // False, no rows, an error: each failed and said why; exit 1.
    std::fs::write(
        &q,
        "select count(*) = 99 from t; select v from t where v < 0; select nope; select max(v) from t where v < 0",
    )
    .unwrap();
    let out = env
        .dbctl(&["check", "db", "--sql", qs, "-o", "json"])
        .fails_with(1);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let details: Vec<&str> = r["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["detail"].as_str().unwrap_or(""))
        .collect();
    assert!(details[0].contains("returned f"), "{details:?}");
    assert!(details[1].contains("no rows"), "{details:?}");
    assert!(details[2].contains("does not exist"), "{details:?}");
    assert_eq!(details[3], "it returned NULL");
    // Bad input: one line each.
    env.dbctl(&["check", "db", "--sql", "/nonexistent/checks.sql"])
        .one_line_error(2, "reading");
    std::fs::write(&q, "-- nothing here\n;").unwrap();
    env.dbctl(&["check", "db", "--sql", qs])
        .one_line_error(2, "holds no query");
    env.dbctl(&["check", "nope"])
        .one_line_error(2, "no instance named");
    env.dbctl(&["check", "db", "--database", "x;y"])
        .one_line_error(2, "letters, digits");
    // A page of t damaged on disk while stopped: the engine's check finds it.
    env.psql("db", "checkpoint");
    let file = data_dir(&env, "db").join(env.psql("db", "select pg_relation_filepath('t')"));
    env.dbctl(&["stop", "db"]).ok();
    let mut page = std::fs::read(&file).unwrap();
    for b in &mut page[200..400] {
        *b ^= 0x5a;
    }
    std::fs::write(&file, page).unwrap();
    env.dbctl(&["start", "db"]).ok();
    let out = env.dbctl(&["check", "db", "-o", "json"]).fails_with(1);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["engine_ok"], false, "{r}");
    assert!(
        r["engine_detail"].as_str().unwrap().contains("checksum"),
        "{r}"
    );
    env.dbctl(&["stop", "db"]).ok();
    env.dbctl(&["check", "db"]).one_line_error(2, "not running");
}
