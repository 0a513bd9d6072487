//! The always-on half never makes things worse: busy or slow servers are not rebuilt, a full
//! disk is waited out, data a recovery replaces is set aside for people, a failed recovery
//! leaves production serving.

use crate::common::{Reaped, TestEnv};
use crate::lifecycle::{wait_for, Daemon};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Sends `sig` to `pid`.
fn signal(pid: i32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
}

/// Servers stopped with SIGSTOP, continued when dropped (a failed test must not leave a
/// stopped process behind for the clean-up to wait on).
struct Stalled(Vec<i32>);

impl Drop for Stalled {
    fn drop(&mut self) {
        for pid in &self.0 {
            signal(*pid, nix::sys::signal::Signal::SIGCONT);
        }
    }
}

fn health(env: &TestEnv, name: &str) -> serde_json::Value {
    env.dbctl(&["describe", name, "-o", "json"]).ok().json()["health"].clone()
}

/// Every event kind recorded for `name` that means the monitor rebuilt or restarted it.
fn interventions(env: &TestEnv, name: &str) -> Vec<String> {
    env.event_kinds(name)
        .into_iter()
        .filter(|k| ["health_recovering", "replaced", "recovered"].contains(&k.as_str()))
        .collect()
}

/// `sql` through `dbctl connect` on a MariaDB instance: a client session held until killed.
fn mariadb_session(env: &TestEnv, name: &str, sql: &str) -> Reaped {
    Reaped(
        env.command(&["connect", name, "--", "--batch", "-e", sql])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// A MariaDB client session on `name` fed statements through the pipe returned, answering
/// each result row on a line of its own as soon as it is there.
fn mariadb_pipe(
    env: &TestEnv,
    name: &str,
) -> (
    Reaped,
    std::process::ChildStdin,
    std::io::BufReader<std::process::ChildStdout>,
) {
    let mut client = env
        .command(&[
            "connect",
            name,
            "--",
            "--batch",
            "--skip-column-names",
            "--unbuffered",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let input = client.stdin.take().unwrap();
    let output = std::io::BufReader::new(client.stdout.take().unwrap());
    (Reaped(client), input, output)
}

fn psql_session(env: &TestEnv, name: &str, sql: &str) -> Reaped {
    let url = env.dbctl(&["url", name]).ok().stdout.trim().to_string();
    Reaped(
        Command::new("psql")
            .args(["-X", "-q", &url, "-c", sql])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn full_connection_tables_a_60_s_stall_and_a_long_checkpoint_are_never_rebuilt_on_either_engine() {
    let mut env = TestEnv::new();
    env.init();
    // A verdict after 3 s of failures, checks every second: before, either case rebuilt.
    let (hook, hook_out) = env.recording_script("monitor", "$1|$2|$3");
    env.add_config(&format!(
        "\n[classes.few]\ncpus = 0.5\nmemory_mb = 512\nmax_connections = 10\nstorage_gb = 1\n\
         [monitor]\ninterval_secs = 1\nfailure_budget_secs = 3\nhook = [\"{}\"]\n",
        hook.display()
    ));
    env.dbctl(&["create", "pg", "--class", "few"]).ok();
    env.dbctl(&["create", "maria", "--class", "few", "--engine", "mariadb"])
        .ok();
    env.psql("pg", "create table t (v int); insert into t values (1)");
    crate::mariadb::ask(
        &env,
        "maria",
        "create database app; create table app.t (v int); insert into app.t values (1)",
    );
    // A tenant's superuser reads and writes no host file through the server.
    assert_eq!(
        crate::mariadb::ask(&env, "maria", "select load_file('/etc/passwd') is null"),
        "1"
    );
    let outfile = env.dir.join("written-by-tenant");
    let r = env.dbctl(&[
        "connect",
        "maria",
        "--",
        "-e",
        &format!("select 1 into outfile '{}'", outfile.display()),
    ]);
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("secure-file-priv"), "{}", r.stderr);
    assert!(!outfile.exists());
    let before = crate::common::server_pids(&env.local_root());
    assert_eq!(before.len(), 2);
    let _daemon = daemon_logging(&env);
    wait_for(&env, 30, "a first check", || {
        health(&env, "pg")["state"] == "healthy" && health(&env, "maria")["state"] == "healthy"
    });

    // Every connection slot taken by clients (the superuser's reserved ones too).
    let mut clients = Vec::new();
    for _ in 0..12 {
        // A backend notices its client gone only when it looks: this one looks every second.
        clients.push(psql_session(
            &env,
            "pg",
            "set client_connection_check_interval = '1s'; select pg_sleep(300)",
        ));
        clients.push(mariadb_session(&env, "maria", "select sleep(300)"));
    }
    wait_for(&env, 60, "both tables to fill", || {
        let pg_full = env
            .psql_run("pg", "select 1")
            .stderr
            .windows(16)
            .any(|w| w == b"too many clients");
        let maria_full = env
            .dbctl(&["connect", "maria", "--", "-e", "select 1"])
            .stderr
            .contains("Too many connections");
        pg_full && maria_full
    });
    wait_for(&env, 60, "the monitor to call both busy", || {
        ["pg", "maria"].iter().all(|n| {
            let h = health(&env, n);
            h["state"] == "degraded"
                && h["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("connection table is full"))
        })
    });
    // Well past the failure budget: still busy, never rebuilt.
    std::thread::sleep(Duration::from_secs(8));
    for n in ["pg", "maria"] {
        assert_eq!(health(&env, n)["state"], "degraded", "{n}");
        assert!(
            interventions(&env, n).is_empty(),
            "{n}: {:?}",
            env.event_kinds(n)
        );
    }
    drop(clients);
    wait_for(&env, 60, "both healthy again", || {
        health(&env, "pg")["state"] == "healthy" && health(&env, "maria")["state"] == "healthy"
    });

    // Both servers stalled for 60 s (their processes stopped): slow is not gone.
    let stalled = Stalled(before.clone());
    for pid in &before {
        signal(*pid, nix::sys::signal::Signal::SIGSTOP);
    }
    let start = Instant::now();
    wait_for(&env, 60, "the monitor to see both not answering", || {
        ["pg", "maria"].iter().all(|n| {
            health(&env, n)["detail"]
                .as_str()
                .is_some_and(|d| d.contains("does not answer"))
        })
    });
    while start.elapsed() < Duration::from_secs(60) {
        for n in ["pg", "maria"] {
            assert!(
                interventions(&env, n).is_empty(),
                "{n}: {:?}",
                env.event_kinds(n)
            );
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    drop(stalled);
    wait_for(&env, 60, "both healthy after the stall", || {
        health(&env, "pg")["state"] == "healthy" && health(&env, "maria")["state"] == "healthy"
    });

    // A checkpoint that takes 20 s (its process held still while a client waits on it):
    // the server answers throughout, and nothing is done to it.
    let checkpointer: i32 = env
        .psql(
            "pg",
            "select pid from pg_stat_activity where backend_type = 'checkpointer'",
        )
        .parse()
        .unwrap();
    let held = Stalled(vec![checkpointer]);
    signal(checkpointer, nix::sys::signal::Signal::SIGSTOP);
    let waiting = psql_session(&env, "pg", "checkpoint");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        assert_eq!(health(&env, "pg")["state"], "healthy");
        assert!(
            interventions(&env, "pg").is_empty(),
            "{:?}",
            env.event_kinds("pg")
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    drop(held);
    drop(waiting);
    // The same servers, on the same data, never restarted, rebuilt or moved.
    assert_eq!(crate::common::server_pids(&env.local_root()), before);
    for n in ["pg", "maria"] {
        assert!(
            interventions(&env, n).is_empty(),
            "{n}: {:?}",
            env.event_kinds(n)
        );
    }
    assert_eq!(env.psql("pg", "select count(*) from t"), "1");
    assert_eq!(
        crate::mariadb::ask(&env, "maria", "select count(*) from app.t"),
        "1"
    );
    let hooked = std::fs::read_to_string(&hook_out).unwrap_or_default();
    assert!(!hooked.contains("|recovering|"), "{hooked}");
    assert!(hooked.contains("pg|degraded|"), "{hooked}");
}

/// Inserts rows one transaction at a time until the server refuses one; returns how many it
/// acknowledged.
fn insert_until_refused(env: &TestEnv, name: &str, limit: u32) -> u32 {
    let url = env.dbctl(&["url", name]).ok().stdout.trim().to_string();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut acked = 0;
    for i in 0..limit {
        // A row each, with a page of padding: the log grows quickly, the table slowly.
        match client.execute("insert into t select $1, repeat('x', 2000)", &[&(i as i32)]) {
            Ok(_) => acked += 1,
            Err(_) => break,
        }
    }
    acked
}

/// Fills the filesystem `fs` holding instance `name` to its last 24 MiB and has `write`
/// commit until the server will take no more (it returns how many were acknowledged). The
/// monitor's passes must call the instance degraded for its disk and never rebuild or
/// restart it; once there is room it must be healthy on its own data, with `rows` counting
/// every acknowledged commit.
fn full_disk_waited_out(
    env: &TestEnv,
    fs: &std::path::Path,
    name: &str,
    write: impl Fn(&TestEnv) -> u32,
    rows: impl Fn(&TestEnv) -> u32,
) {
    env.dbctl(&["daemon", "--once"]).ok();
    // The disk filled by something else on the host, to the last few MiB.
    let free = nix::sys::statvfs::statvfs(fs).unwrap();
    let avail = free.blocks_available() * free.fragment_size();
    let filler = fs.join("filler");
    let status = Command::new("fallocate")
        .args(["-l", &(avail - (24 << 20)).to_string()])
        .arg(&filler)
        .status()
        .unwrap();
    assert!(status.success());
    let acked = write(env);
    assert!(acked > 0);
    // Several passes: the monitor says the disk is full and never rebuilds it (before, it
    // rebuilt the instance to its snapshot and deleted the data holding these commits).
    let mut seen = None;
    for _ in 0..4 {
        env.dbctl(&["daemon", "--once"]).ok();
        let h = health(env, name);
        if h["detail"]
            .as_str()
            .is_some_and(|d| d.contains("disk is full"))
        {
            seen = Some(h);
        }
    }
    let h = seen.unwrap_or_else(|| panic!("never said the disk is full: {}", health(env, name)));
    assert_eq!(h["state"], "degraded", "{h}");
    assert!(
        interventions(env, name).is_empty(),
        "{:?}",
        env.event_kinds(name)
    );
    // Room again: running on its own data, every acknowledged commit there.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while health(env, name)["state"] != "healthy" {
        assert!(Instant::now() < deadline, "{}", health(env, name));
        env.dbctl(&["daemon", "--once"]).ok();
        std::thread::sleep(Duration::from_millis(500));
    }
    let rows = rows(env);
    assert!(rows >= acked, "{rows} rows, {acked} acknowledged");
    assert!(
        interventions(env, name).is_empty(),
        "{:?}",
        env.event_kinds(name)
    );
}

/// A test home on a small loop-mounted filesystem of its own (None: no loop devices here),
/// whose monitor acts at once and does not count the small disk as low in itself.
fn on_small_disk() -> Option<(TestEnv, std::path::PathBuf)> {
    let mut env = TestEnv::new();
    let fs = env.loop_fs(1400, "ext4")?;
    env.init_at(fs.join("root"));
    env.add_config("\n[monitor]\nfailure_budget_secs = 0\ndisk_warning_gb = 0\n");
    Some((env, fs))
}

#[test]
fn a_full_disk_is_degraded_and_the_server_comes_back_with_every_acknowledged_commit() {
    let Some((env, fs)) = on_small_disk() else {
        return;
    };
    env.dbctl(&["create", "db"]).ok();
    env.psql("db", "create table t (v int, pad text)");
    full_disk_waited_out(
        &env,
        &fs,
        "db",
        |env| insert_until_refused(env, "db", 200_000),
        |env| env.psql("db", "select count(*) from t").parse().unwrap(),
    );
}

#[test]
fn replaced_data_is_set_aside_until_pruned_and_a_failed_recovery_leaves_production_serving() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    env.psql(
        "db",
        "create table t (v int); insert into t select generate_series(1, 5)",
    );
    env.dbctl(&["snapshot", "create", "db"]).ok();
    env.psql("db", "insert into t values (6)");

    // A recovery that fails part-way: the old server serves again, as before.
    fail_a_recovery(&env, "db");
    assert_eq!(env.psql("db", "select count(*) from t"), "6");

    // A recovery that succeeds: the replaced server's directory is set aside, not deleted,
    // and on the same host the new server keeps the old one's port.
    let port = env.dbctl(&["describe", "db", "-o", "json"]).ok().json()["port"].clone();
    let r = env.dbctl(&["recover", "db", "--yes"]).ok();
    assert!(r.stderr.contains("nothing was lost"), "{}", r.stderr);
    assert_eq!(env.psql("db", "select count(*) from t"), "6");
    let d = env.dbctl(&["describe", "db", "-o", "json"]).ok().json();
    assert_eq!(d["port"], port, "{d}");
    assert!(!env.event_kinds("db").iter().any(|k| k == "endpoint_moved"));
    let show = env
        .dbctl(&["host", "show", "local", "-o", "json"])
        .ok()
        .json();
    let aside = show["disk"]["replaced"].as_array().unwrap().clone();
    assert_eq!(aside.len(), 1, "{show}");
    assert_eq!(aside[0]["instance"], "db");
    let name = aside[0]["name"].as_str().unwrap().to_string();
    let dir = env.local_root().join("replaced").join(&name);
    assert!(dir.join("instance/data/PG_VERSION").exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.local_root().join("replaced"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let table = env.dbctl(&["host", "show", "local"]).ok();
    assert!(table.stdout.contains(&name), "{}", table.stdout);

    // A recovery to a point says which commits it did not bring back, and that the archive
    // keeps them (before, it said that nothing was lost).
    let t = env.psql(
        "db",
        "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    );
    env.psql("db", "insert into t values (7)");
    env.psql("db", "insert into t values (8)");
    env.psql("db", "select pg_switch_wal()");
    std::thread::sleep(Duration::from_secs(2));
    recover_to_a_point_keeping_the_rest_archived(&env, "db", &t, 2);
    assert_eq!(env.psql("db", "select count(*) from t"), "6");

    // An in-place restore sets its old data aside too.
    env.dbctl(&["restore", "db", "--in-place", "--latest", "--yes"])
        .ok();
    let listed = || {
        env.dbctl(&["host", "show", "local", "-o", "json"])
            .ok()
            .json()["disk"]["replaced"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(listed(), 3);

    // Pruning: a dry run removes nothing, an unknown name is refused, no terminal needs --yes.
    let dry = env
        .dbctl(&["host", "prune", "local", "--dry-run", "-o", "json"])
        .ok()
        .json();
    assert_eq!(dry["removed"].as_array().unwrap().len(), 3);
    assert_eq!(listed(), 3);
    env.dbctl(&["host", "prune", "local", "nosuch", "--yes"])
        .one_line_error(2, "no set-aside data named `nosuch`");
    env.dbctl(&["host", "prune", "local", &name])
        .one_line_error(2, "--yes");
    env.dbctl(&["host", "prune", "local", &name, "--yes"]).ok();
    assert!(!dir.exists());
    assert_eq!(listed(), 2);
    assert!(env
        .event_kinds("db")
        .iter()
        .any(|k| k == "replaced_data_removed"));

    // The retention: kept for keep_days, then removed by the daemon's sweep.
    env.add_config("\n[replaced]\nkeep_days = 0\n");
    env.catalog_execute("DELETE FROM leases WHERE name = 'replaced-retention'");
    let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json();
    assert_eq!(
        swept["replaced_removed"].as_array().map(Vec::len),
        Some(2),
        "{swept}"
    );
    assert_eq!(listed(), 0);
    assert_eq!(env.psql("db", "select count(*) from t"), "6");
}

/// A `recover NAME` made to fail at its restore step: undone, and the instance available.
fn fail_a_recovery(env: &TestEnv, name: &str) {
    let r = env
        .dbctl_env(
            &["recover", name, "--yes"],
            &[("DBCTL_FAILPOINTS", "fail:restore")],
        )
        .fails_with(1);
    assert!(r.stderr.contains("undone"), "{}", r.stderr);
    assert_eq!(env.status_of(name), "available");
}

/// `recover NAME --at T`: its report must say that the commits after T were not brought
/// back and stay in the archive, and that nothing was lost.
fn recover_to_a_point_keeping_the_rest_archived(env: &TestEnv, name: &str, t: &str, after: u64) {
    let r = env
        .dbctl(&["recover", name, "--at", t, "--yes", "-o", "json"])
        .ok();
    let report = &r.json()["recovery"];
    assert!(
        report["not_brought_back"]
            .as_str()
            .is_some_and(|w| w.contains("stay in the archive")
                && w.contains(&format!("the {after} commits after"))),
        "{report}"
    );
    // Counted by the engine's own log reader: exactly the commits made after the point.
    assert_eq!(report["commits_not_brought_back"], after, "{report}");
    assert_eq!(report["lost"], false, "{report}");
}

/// Seconds since the epoch of an RFC 3339 time.
fn epoch(t: &str) -> f64 {
    let t = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{t:?}: {e}"));
    t.unix_timestamp_nanos() as f64 / 1e9
}

/// A test home whose monitor acts within seconds and runs a hook that records what each
/// notice says of a recovery (`STATE|RECOVERED_TO|LOST|NOT_BROUGHT_BACK`) in the file
/// returned.
fn with_recording_monitor_hook() -> (TestEnv, std::path::PathBuf) {
    let mut env = TestEnv::new();
    env.init();
    let (hook, hook_out) = env.recording_script(
        "monitor",
        "$2|$DBCTL_RECOVERED_TO|$DBCTL_LOST|$DBCTL_NOT_BROUGHT_BACK",
    );
    env.add_config(&format!(
        "\n[monitor]\ninterval_secs = 1\nfailure_budget_secs = 2\nhook = [\"{}\"]\n",
        hook.display()
    ));
    (env, hook_out)
}

/// A daemon passing every 2 s, its output in `daemon.log` and `daemon.err`.
fn daemon_logging(env: &TestEnv) -> Daemon {
    Daemon(
        env.command(&["daemon", "--interval", "2"])
            .stdout(std::fs::File::create(env.dir.join("daemon.log")).unwrap())
            .stderr(std::fs::File::create(env.dir.join("daemon.err")).unwrap())
            .spawn()
            .unwrap(),
    )
}

/// Waits for the monitor hook's report of a recovery that lost commits (the hook records
/// `STATE|RECOVERED_TO|LOST|NOT_BROUGHT_BACK` in `hook_out`), which must name the point it
/// reached, as must the instance's `recovery_report` event; returns the line and that point.
fn reported_loss(env: &TestEnv, name: &str, hook_out: &std::path::Path) -> (String, String) {
    wait_for(env, 180, "the monitor's recovery and its report", || {
        std::fs::read_to_string(hook_out)
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with("healthy|"))
    });
    let hooked = std::fs::read_to_string(hook_out).unwrap();
    let line = hooked.lines().find(|l| l.starts_with("healthy|")).unwrap();
    let fields: Vec<&str> = line.splitn(4, '|').collect();
    let (reached, lost, what) = (fields[1], fields[2], fields[3]);
    assert_eq!(lost, "yes", "{line}");
    assert!(what.contains(reached), "{line}");
    // The workflow's runner records its report as the workflow ends; the monitor may see the
    // instance healthy (and run its hook) a moment before.
    let report = || {
        env.dbctl(&["events", name, "--type", "recovery_report", "-o", "json"])
            .ok()
            .json()
    };
    wait_for(env, 30, "the recovery's report event", || {
        report().as_array().is_some_and(|e| !e.is_empty())
    });
    let events = report();
    assert!(
        events[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("never archived")),
        "{events}"
    );
    (line.to_string(), reached.to_string())
}

#[test]
fn an_automatic_recovery_reports_exactly_the_commits_it_did_not_bring_back() {
    let (env, hook_out) = with_recording_monitor_hook();
    env.dbctl(&["create", "db"]).ok();
    env.psql(
        "db",
        "create table acks (id int primary key, at float8 not null)",
    );
    env.dbctl(&["snapshot", "create", "db"]).ok();
    let url = env.dbctl(&["url", "db"]).ok().stdout.trim().to_string();
    // A client that commits one row at a time and logs every commit acknowledged to it,
    // with the server's clock when it ran (one session: commits come in that order).
    let client = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut acked: Vec<(i32, f64)> = Vec::new();
        for id in 0..100_000 {
            let r = c.query_one(
                "insert into acks values ($1, extract(epoch from clock_timestamp())) returning at",
                &[&id],
            );
            match r {
                Ok(row) => acked.push((id, row.get(0))),
                Err(_) => break,
            }
            if id == 300 {
                // Part of what it committed is archived (the rest waits for its segment).
                let _ = c.execute("select pg_switch_wal()", &[]);
            }
        }
        acked
    });
    std::thread::sleep(Duration::from_secs(4));
    let _daemon = daemon_logging(&env);
    // The data directory destroyed under the running server and its client.
    let data = crate::lifecycle::data_dir(&env, "db");
    crate::common::destroy_data(&data);
    let acked = client.join().unwrap();
    assert!(acked.len() > 300, "{}", acked.len());
    let (line, reached) = reported_loss(&env, "db", &hook_out);
    let reached = reached.as_str();
    let reached = epoch(reached);
    // Present: exactly the acknowledged commits at or before the point reported; missing:
    // exactly those after it.
    let present: std::collections::BTreeSet<i32> = env
        .psql(
            "db",
            "select coalesce(string_agg(id::text, ','), '') from acks",
        )
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let (before, after): (Vec<_>, Vec<_>) = acked.iter().partition(|(_, at)| *at <= reached + 1e-6);
    assert!(!before.is_empty() && !after.is_empty(), "{reached}: {line}");
    for (id, at) in &before {
        assert!(present.contains(id), "{id} at {at} <= {reached} is missing");
    }
    for (id, at) in &after {
        assert!(!present.contains(id), "{id} at {at} > {reached} is there");
    }
    assert_eq!(present.len(), before.len());
    // The daemon's log says it too.
    let log = std::fs::read_to_string(env.dir.join("daemon.log")).unwrap();
    assert!(log.contains("\"recovery\""), "{log}");
    window_has_a_hole_from(&env, "db", reached);
}

/// The restorable window of `name` has a hole from `reached` (a recovery's point, or the later
/// moment up to which the archive was known complete) to the new server's first moment: no
/// restore lands in what was lost, and `describe` shows it.
fn window_has_a_hole_from(env: &TestEnv, name: &str, reached: f64) {
    let w = env
        .dbctl(&["restorable-window", name, "-o", "json"])
        .ok()
        .json();
    let holes = w["holes"].as_array().cloned().unwrap_or_default();
    assert!(
        holes.iter().any(|h| {
            let from = epoch(h["from"].as_str().unwrap());
            let to = epoch(h["to"].as_str().unwrap());
            // From the point reached on (or later: up to when the archive was known to
            // hold every commit), to past it.
            from > reached - 1.5 && to > reached && to > from
        }),
        "{reached}: {w}"
    );
    let described = env.dbctl(&["describe", name]).ok().stdout;
    assert!(described.contains(" except "), "{described}");
}

#[test]
fn new_instances_and_clones_can_be_rebuilt_from_their_first_moment() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "src"]).ok();
    env.psql(
        "src",
        "create table t (v int); insert into t select generate_series(1, 10)",
    );
    // Every new instance ends its making with a base snapshot of its own.
    let base = |name: &str| {
        env.snapshots(name)
            .into_iter()
            .filter(|s| s["tag"] == "base" && s["status"] == "available")
            .count()
    };
    assert_eq!(base("src"), 1);
    // A dry run takes what the real run takes: `--at now` on a live source (before, it was
    // refused as outside the window the real run would reach by switching the log).
    env.dbctl(&["restore", "src", "--at", "now", "--as", "dry", "--dry-run"])
        .ok();
    env.dbctl(&["clone", "src", "--as", "young"]).ok();
    assert_eq!(base("young"), 1);
    let d = env.dbctl(&["describe", "young", "-o", "json"]).ok().json();
    assert_eq!(d["recoverable"], true, "{d}");
    // Seconds old, its data lost: rebuilt from its own base snapshot (before, it had none
    // and could not be recovered at all).
    crate::common::destroy_data(&crate::lifecycle::data_dir(&env, "young"));
    env.dbctl(&["recover", "young", "--yes"]).ok();
    assert_eq!(env.psql("young", "select count(*) from t"), "10");

    // One whose snapshots are all gone is said to be unrecoverable, loudly.
    for s in env.snapshots("src") {
        env.dbctl(&["snapshot", "delete", &s["id"].to_string(), "--yes"])
            .ok();
    }
    let d = env.dbctl(&["describe", "src", "-o", "json"]).ok().json();
    assert_eq!(d["recoverable"], false, "{d}");
    let table = env.dbctl(&["describe", "src"]).ok().stdout;
    assert!(table.contains("NO: no snapshot or backup"), "{table}");
    let list = env.dbctl(&["list"]).ok();
    assert!(
        list.stderr.contains("`src` has no snapshot or backup"),
        "{}",
        list.stderr
    );
}

#[test]
fn a_mariadb_recovery_keeps_its_port_sets_old_data_aside_and_says_what_it_left() {
    use crate::mariadb::ask;
    let mut env = TestEnv::new();
    env.init();
    crate::mariadb::create_shop(&env, None);
    // Recoverable from its first moment: a base snapshot of its own.
    assert!(
        env.snapshots("shop").iter().any(|s| s["tag"] == "base"),
        "{:?}",
        env.snapshots("shop")
    );
    ask(
        &env,
        "shop",
        "create database app; create table app.t (v int primary key); \
         insert into app.t values (1),(2),(3),(4),(5)",
    );
    let count = |env: &TestEnv| ask(env, "shop", "select count(*) from app.t");

    // A recovery that fails part-way: the old server serves again, as before.
    fail_a_recovery(&env, "shop");
    assert_eq!(count(&env), "5");

    // One that succeeds keeps the port on the same host and sets the old data aside.
    let port = env.dbctl(&["describe", "shop", "-o", "json"]).ok().json()["port"].clone();
    let r = env.dbctl(&["recover", "shop", "--yes"]).ok();
    assert!(r.stderr.contains("nothing was lost"), "{}", r.stderr);
    assert_eq!(count(&env), "5");
    let d = env.dbctl(&["describe", "shop", "-o", "json"]).ok().json();
    assert_eq!(d["port"], port, "{d}");
    let show = env
        .dbctl(&["host", "show", "local", "-o", "json"])
        .ok()
        .json();
    let aside = show["disk"]["replaced"].as_array().unwrap().clone();
    assert_eq!(aside.len(), 1, "{show}");
    let dir = env
        .local_root()
        .join("replaced")
        .join(aside[0]["name"].as_str().unwrap());
    assert!(
        dir.join("instance/data/mysql").is_dir(),
        "{}",
        dir.display()
    );

    // To a point: it says which commits it did not bring back and that the archive keeps
    // them (binary log times have whole seconds: the point is a second of its own).
    std::thread::sleep(Duration::from_millis(1100));
    let t = ask(
        &env,
        "shop",
        "select date_format(utc_timestamp(), '%Y-%m-%dT%H:%i:%sZ')",
    );
    std::thread::sleep(Duration::from_millis(1100));
    ask(&env, "shop", "insert into app.t values (6)");
    ask(&env, "shop", "insert into app.t values (7)");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let w = env
            .dbctl(&["restorable-window", "shop", "-o", "json"])
            .ok()
            .json();
        if w["latest"].as_str().is_some_and(|l| l[..19] > t[..19]) {
            break;
        }
        assert!(Instant::now() < deadline, "{w}");
        std::thread::sleep(Duration::from_millis(200));
    }
    recover_to_a_point_keeping_the_rest_archived(&env, "shop", &t, 2);
    assert_eq!(count(&env), "5");
    let d = env.dbctl(&["describe", "shop", "-o", "json"]).ok().json();
    assert_eq!(d["port"], port, "{d}");
}

#[test]
fn an_automatic_mariadb_recovery_reports_exactly_the_commits_it_did_not_bring_back() {
    use std::io::{BufRead, Write};
    let (env, hook_out) = with_recording_monitor_hook();
    crate::mariadb::create_shop(&env, None);
    crate::mariadb::ask(
        &env,
        "shop",
        "create database app; create table app.acks (id int primary key, at double not null)",
    );
    env.dbctl(&["snapshot", "create", "shop"]).ok();
    // A client that commits one row at a time and logs every commit acknowledged to it,
    // with the server's clock when it ran.
    let (_client, mut input, mut output) = mariadb_pipe(&env, "shop");
    let committing = std::thread::spawn(move || {
        let mut acked: Vec<(i32, f64)> = Vec::new();
        for id in 0..100_000 {
            let sent = writeln!(
                input,
                "insert into app.acks values ({id}, unix_timestamp(now(6))); \
                 select at from app.acks where id = {id};"
            );
            let mut line = String::new();
            match (sent, output.read_line(&mut line)) {
                (Ok(()), Ok(n)) if n > 0 => acked.push((id, line.trim().parse().unwrap())),
                _ => break,
            }
        }
        acked
    });
    std::thread::sleep(Duration::from_secs(4));
    let _daemon = daemon_logging(&env);
    std::thread::sleep(Duration::from_secs(2));
    // The server killed and its data directory destroyed under its client.
    let port = env.dbctl(&["describe", "shop", "-o", "json"]).ok().json()["port"].clone();
    // (in the run directory of the instance's own OS user)
    let pid_file = std::fs::read_dir(env.local_root().join("run"))
        .unwrap()
        .flatten()
        .map(|d| d.path().join(format!("mariadb.{port}.pid")))
        .find(|p| p.exists())
        .unwrap();
    let pid: i32 = std::fs::read_to_string(pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    signal(pid, nix::sys::signal::Signal::SIGKILL);
    std::fs::remove_dir_all(crate::lifecycle::data_dir(&env, "shop")).unwrap();
    let acked = committing.join().unwrap();
    assert!(acked.len() > 100, "{}", acked.len());
    let (line, reached) = reported_loss(&env, "shop", &hook_out);
    let reached = reached.as_str();
    // Binary log times have whole seconds: the point reached is a second, and it holds
    // every commit stamped in it that was archived.
    let second = epoch(reached).floor();
    let present: std::collections::BTreeSet<i32> = crate::mariadb::ask(
        &env,
        "shop",
        "select coalesce(group_concat(id order by id), '') from app.acks",
    )
    .split(',')
    .filter(|s| !s.is_empty())
    .map(|s| s.parse().unwrap())
    .collect();
    // Exactly a prefix of what was acknowledged: nothing out of order, nothing made up.
    let n = present.len();
    assert!(n > 0 && n < acked.len(), "{n} of {}: {line}", acked.len());
    assert!(present.iter().copied().eq(0..n as i32), "{line}");
    for (id, at) in &acked {
        if *at < second {
            assert!(
                present.contains(id),
                "{id} at {at} before {reached} is missing"
            );
        }
        if *at >= second + 1.0 {
            assert!(
                !present.contains(id),
                "{id} at {at} after {reached} is there"
            );
        }
    }
    window_has_a_hole_from(&env, "shop", second);
}

/// Writes a row of `pad` bytes at a time into `app.t` of MariaDB instance `name` through one
/// client session, until a write is refused or does not come back within 5 s (MariaDB waits
/// for room rather than failing a write to a full disk); returns how many it acknowledged.
fn mariadb_write_until_stuck(env: &TestEnv, name: &str, pad: u32) -> u32 {
    use std::io::{BufRead, Write};
    let (_client, mut input, output) = mariadb_pipe(env, name);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in output.lines() {
            if line.is_err() || tx.send(()).is_err() {
                break;
            }
        }
    });
    let mut acked = 0;
    for i in 0..1_000_000 {
        if writeln!(
            input,
            "insert into app.t values ({i}, repeat('x', {pad})); select {i};"
        )
        .is_err()
        {
            break;
        }
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(()) => acked += 1,
            Err(_) => break,
        }
    }
    acked
}

#[test]
fn a_full_disk_under_mariadb_is_degraded_and_waited_out_with_every_acknowledged_commit() {
    use crate::mariadb::ask;
    let Some((env, fs)) = on_small_disk() else {
        return;
    };
    env.dbctl(&["create", "shop", "--engine", "mariadb"]).ok();
    ask(
        &env,
        "shop",
        "create database app; create table app.t (v int primary key, pad longtext)",
    );
    full_disk_waited_out(
        &env,
        &fs,
        "shop",
        |env| mariadb_write_until_stuck(env, "shop", 60_000),
        |env| {
            ask(env, "shop", "select count(*) from app.t")
                .parse()
                .unwrap()
        },
    );
}
