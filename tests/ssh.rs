//! Remote hosts over real sshd: forced commands, key types, host-key pinning, refusals.

use crate::common::{self, whoami, SshHost, TestEnv};

/// Two SSH hosts, `src-host` and `dst-host`, and an instance `prod` on the first.
fn prod_on_src_host() -> (TestEnv, SshHost, SshHost) {
    let mut env = TestEnv::new();
    env.init();
    let h1 = env.ssh_host("src-host", 1, "ed25519", None);
    let h2 = env.ssh_host("dst-host", 2, "ed25519", None);
    env.add_host(&h1).ok();
    env.add_host(&h2).ok();
    env.dbctl(&["create", "prod", "--host", "src-host"]).ok();
    (env, h1, h2)
}

#[test]
fn remote_hosts_over_ssh_with_forced_commands() {
    let mut env = TestEnv::new();
    env.init();
    let h1 = env.ssh_host("h1", 1, "ed25519", None);
    let h2 = env.ssh_host("h2", 2, "rsa", None);
    // --dry-run connects and shows, storing nothing.
    let before = env.catalog_state();
    let dry = env
        .dbctl(&[
            "host",
            "add",
            "h1",
            "--address",
            &h1.address,
            "--port",
            &h1.port.to_string(),
            "--user",
            &whoami(),
            "--identity",
            h1.identity.to_str().unwrap(),
            "--dry-run",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(dry["host_key"], format!("ssh-ed25519 {}", h1.fingerprint()));
    assert_eq!(env.catalog_state(), before);
    for h in [&h1, &h2] {
        let shown = env.add_host(h).ok().json();
        assert_eq!(shown["transport"], "ssh");
        assert_eq!(shown["protocol"], dbctl::wire::PROTOCOL);
        assert!(
            shown["engines"][0]
                .as_str()
                .unwrap()
                .starts_with("postgres 15"),
            "{shown}"
        );
        assert_eq!(
            shown["host_key"],
            format!("ssh-ed25519 {}", h.fingerprint()),
            "pinned key"
        );
        assert_eq!(shown["root"], h.root.display().to_string());
    }
    let list = env.dbctl(&["host", "list", "-o", "json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 3);

    for (name, host) in [("r1", &h1), ("r2", &h2)] {
        let d = env
            .dbctl(&["create", name, "--host", &host.name, "-o", "json"])
            .ok()
            .json();
        assert_eq!(d["host"], host.name.as_str());
        assert_eq!(d["address"], host.address.as_str());
        env.psql(
            name,
            &format!("create table t(v text); insert into t values ('{name}')"),
        );
        assert_eq!(env.psql(name, "select v from t"), name);
        assert_eq!(env.psql(name, "show listen_addresses"), host.address);
        assert_eq!(
            crate::common::server_pids(&host.root).len(),
            1,
            "server under {}'s root",
            host.name
        );
    }
    env.dbctl(&["host", "remove", "h1"])
        .one_line_error(2, "still has 1 instance");
    env.dbctl(&["delete", "r1", "--yes"]).ok();
    assert!(crate::common::server_pids(&h1.root).is_empty());
    assert_eq!(
        std::fs::read_dir(h1.root.join("instances"))
            .unwrap()
            .count(),
        0
    );
    // Its final snapshot is kept on h1, so h1 cannot go yet.
    env.dbctl(&["host", "remove", "h1"])
        .one_line_error(2, "still keeps 1 snapshot");
    let final_snap = env.snapshots("r1")[0]["id"].to_string();
    env.dbctl(&["snapshot", "delete", &final_snap, "--yes"])
        .ok();
    env.dbctl(&["host", "remove", "h1", "--dry-run"]).ok();
    assert_eq!(
        env.dbctl(&["host", "list", "-o", "json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    env.dbctl(&["host", "remove", "h1"]).ok();
    assert_eq!(
        env.dbctl(&["host", "list", "-o", "json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    env.dbctl(&["delete", "r2", "--yes"]).ok();
}

#[test]
fn a_changed_host_key_is_refused_showing_both_fingerprints() {
    let mut env = TestEnv::new();
    env.init();
    let mut h = env.ssh_host("moving", 1, "ed25519", None);
    env.add_host(&h).ok();
    let old = h.fingerprint();
    env.rekey(&mut h);
    let new = h.fingerprint();
    assert_ne!(old, new);
    let before = env.catalog_state();
    let r = env
        .dbctl(&["host", "refresh", "moving"])
        .one_line_error(1, "changed");
    assert!(
        r.stderr.contains(&old) && r.stderr.contains(&new),
        "{}",
        r.stderr
    );
    // The hint names the command that works (removing a host with instances is refused).
    assert!(
        r.stderr.contains("host refresh moving --accept-new-key"),
        "{}",
        r.stderr
    );
    let r = env
        .dbctl(&["create", "x", "--host", "moving"])
        .fails_with(1);
    assert!(r.stderr.contains(&new), "{}", r.stderr);
    assert_eq!(env.catalog_state(), before);
    // The DBA checked the new key: pinning it shows both and the host serves again.
    let r = env
        .dbctl(&["host", "refresh", "moving", "--accept-new-key"])
        .ok();
    assert!(
        r.stderr.contains(&old) && r.stderr.contains(&new),
        "{}",
        r.stderr
    );
    env.dbctl(&["host", "refresh", "moving"]).ok();
    // The same machine and root under a second name would count its capacity twice.
    let dup = env.dbctl(&[
        "host",
        "add",
        "moving-again",
        "--address",
        &h.address,
        "--port",
        &h.port.to_string(),
        "--user",
        &crate::common::whoami(),
        "--identity",
        h.identity.to_str().unwrap(),
    ]);
    dup.one_line_error(2, "already is");
}

#[test]
fn a_dead_host_can_be_forgotten_and_what_lived_there_is_marked_lost() {
    let mut env = TestEnv::new();
    env.init();
    let h = env.ssh_host("doomed", 1, "ed25519", None);
    env.add_host(&h).ok();
    env.dbctl(&["create", "db", "--host", "doomed"]).ok();
    env.dbctl(&["snapshot", "create", "db"]).ok();
    env.stop_sshd(&h);
    env.dbctl(&["host", "remove", "doomed"])
        .one_line_error(2, "--force");
    let r = env.dbctl(&["host", "remove", "doomed", "--force"]).ok();
    assert!(r.stderr.contains("lost: instances [db]"), "{}", r.stderr);
    assert_eq!(env.instance_count(), 0);
    let snaps = env.dbctl(&["snapshot", "list", "-o", "json"]).ok().json();
    assert_eq!(snaps[0]["status"], "lost", "{snaps}");
    assert!(env.event_kinds("db").iter().any(|k| k == "lost"));
    // The name is free again.
    env.dbctl(&["create", "db"]).ok();
}

#[test]
fn hosts_that_cannot_serve_are_refused_at_add() {
    let mut env = TestEnv::new();
    env.init();
    let before = env.catalog_state();
    // Nothing listens there.
    let [port, _] = env.ports(3);
    let (address, port, user) = (env.ip(9), (port + 9).to_string(), whoami());
    let add_ghost = |identity: &str| {
        env.dbctl(&[
            "host",
            "add",
            "ghost",
            "--address",
            &address,
            "--port",
            &port,
            "--user",
            &user,
            "--identity",
            identity,
        ])
    };
    add_ghost("/dev/null").one_line_error(2, "identity file");
    let key = env.dir.join("k");
    std::fs::write(&key, "not a key").unwrap();
    add_ghost(key.to_str().unwrap()).one_line_error(1, "does not answer");

    // sshd answers, but dbhost is not installed there.
    let missing = env.ssh_host("nodbhost", 1, "ed25519", Some("/nonexistent/dbhost rpc"));
    env.add_host(&missing)
        .one_line_error(1, "dbhost is not installed");

    // A dbhost that speaks another protocol.
    let script = env.dir.join("future-dbhost");
    std::fs::write(
        &script,
        "#!/bin/sh\ncat >/dev/null\necho '{\"type\":\"result\",\"ok\":{},\"version\":\"9.0.0\",\"protocol\":99}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let future = env.ssh_host("future", 2, "ed25519", Some(script.to_str().unwrap()));
    env.add_host(&future).one_line_error(1, "protocol 99");

    // A key the host does not accept.
    let mut wrong = env.ssh_host("wrongkey", 3, "ed25519", None);
    wrong.identity = missing.identity.clone();
    env.add_host(&wrong).one_line_error(1, "authentication");

    env.dbctl(&[
        "host",
        "add",
        "Bad_Name",
        "--address",
        "127.0.0.1",
        "--identity",
        "/dev/null",
    ])
    .one_line_error(2, "invalid host name");
    env.dbctl(&[
        "host",
        "add",
        "local",
        "--address",
        "127.0.0.1",
        "--identity",
        "/dev/null",
    ])
    .one_line_error(2, "already exists");
    assert_eq!(
        env.catalog_state(),
        before,
        "a refused host changed the catalog"
    );
}

#[test]
fn a_lost_host_pauses_the_workflow_and_the_sweeper_finishes_it_later() {
    let mut env = TestEnv::new();
    env.init();
    let mut h = env.ssh_host("flaky", 1, "ed25519", None);
    env.add_host(&h).ok();
    let id = env
        .dbctl(&["create", "later", "--host", "flaky", "--detach"])
        .ok()
        .stdout
        .trim()
        .to_string();
    env.stop_sshd(&h);
    // Unreachable after its retries: nothing can be undone there either, so it pauses.
    let r = env.dbctl(&["sweep", "-o", "json"]).fails_with(3);
    assert_eq!(
        r.json()["workflows"][0]["outcome"],
        "interrupted",
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("paused") && r.stderr.contains("flaky"),
        "the cause is said: {}",
        r.stderr
    );
    let wf = env
        .dbctl(&["workflow", "show", &id, "-o", "json"])
        .ok()
        .json();
    assert_eq!(wf["status"], "interrupted");
    assert!(
        wf["error"].as_str().unwrap().contains("cannot connect"),
        "{wf}"
    );
    assert_eq!(wf["steps"][0]["attempts"], 3);
    assert_eq!(wf["steps"][0]["status"], "interrupted");
    assert!(
        wf["steps"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot connect")),
        "{wf}"
    );
    assert_eq!(env.status_of("later"), "creating");

    // The host stopped answering: a new create there is refused up front, changing nothing.
    let before = env.catalog_state();
    env.dbctl(&["create", "other", "--host", "flaky"])
        .one_line_error(1, "does not answer");
    assert_eq!(env.catalog_state(), before);

    env.start_sshd(&mut h);
    let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json()["workflows"].clone();
    assert_eq!(swept[0]["outcome"], "succeeded");
    assert_eq!(env.psql("later", "select 1"), "1");
    env.dbctl(&["delete", "later", "--yes"]).ok();
}

#[test]
fn a_host_without_the_engine_is_not_chosen_or_accepted() {
    let mut env = TestEnv::new();
    env.init();
    let h = env.ssh_host("bare", 1, "ed25519", None);
    let conf = h.root.join("dbhost.toml");
    let text = std::fs::read_to_string(&conf).unwrap()
        + "postgres_bin_dir = \"/nonexistent\"\n[bin_dirs]\nmariadb = \"/nonexistent\"\n";
    std::fs::write(&conf, text).unwrap();
    let shown = env.add_host(&h).ok().json();
    assert_eq!(shown["engines"].as_array().unwrap().len(), 0);
    let before = env.catalog_state();
    env.dbctl(&["create", "x", "--host", "bare"])
        .one_line_error(2, "postgres is not installed");
    assert_eq!(env.catalog_state(), before);
    // Placement passes it over for the local host.
    let d = env
        .dbctl(&["create", "x", "--dry-run", "-o", "json"])
        .ok()
        .json();
    assert_eq!(d["host"], "local");
}

#[test]
fn cross_host_clones_stream_through_dbctl_and_a_cut_stream_leaves_nothing() {
    let (env, _h1, h2) = prod_on_src_host();
    env.psql(
        "prod",
        "create table t as select g, md5(g::text) as h from generate_series(1, 20000) g",
    );
    let sum = env.psql("prod", "select md5(string_agg(h, ',' order by g)) from t");

    let c = env
        .dbctl(&[
            "clone", "prod", "--as", "copy", "--host", "dst-host", "--class", "medium", "--fresh",
            "-o", "json",
        ])
        .ok();
    assert!(c.stderr.contains("streamed between hosts"), "{}", c.stderr);
    let d = c.json();
    assert_eq!(d["host"], "dst-host");
    assert_eq!(d["address"], h2.address.as_str());
    assert_eq!(
        env.psql("copy", "select md5(string_agg(h, ',' order by g)) from t"),
        sum
    );
    assert_eq!(crate::common::server_pids(&h2.root).len(), 1);
    // The streamed copy of the snapshot is dropped once the clone runs from its own data;
    // the clone's own base snapshot is all the target keeps.
    let kept = crate::common::names_in(&h2.root.join("snapshots"));
    assert!(
        kept.len() == 1 && kept[0].starts_with("copy-snap-"),
        "{kept:?}"
    );
    let steps: Vec<String> = env.dbctl(&["workflow", "list", "-o", "json"]).ok().json()[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        steps,
        [
            "snapshot-source",
            "transfer",
            "restore",
            "start",
            "set-password",
            "drop-transfer-copy",
            "snapshot-base",
            "mark-available"
        ]
    );

    // The connection drops mid-stream: the import refuses the cut stream, undo removes all.
    let r = env
        .dbctl_env(
            &[
                "clone", "prod", "--as", "cut", "--host", "dst-host", "--fresh",
            ],
            &[("DBCTL_FAILPOINTS", "cut-stream:transfer")],
        )
        .fails_with(1);
    assert!(r.stderr.contains("stream"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_dir(h2.root.join("snapshots"))
            .unwrap()
            .count(),
        1,
        "partial snapshot left on the target (beside `copy`'s base)"
    );
    let dirs: Vec<_> = std::fs::read_dir(h2.root.join("instances"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(dirs.len(), 1, "half-made clone left: {dirs:?}");
    assert_eq!(crate::common::server_pids(&h2.root).len(), 1);
    assert!(env
        .dbctl(&["list", "-o", "json"])
        .ok()
        .stdout
        .find("\"cut\"")
        .is_none());
    assert_eq!(env.status_of("prod"), "available");
}

#[test]
fn point_in_time_clones_to_another_host_stream_the_snapshot_and_the_logs() {
    let mut env = TestEnv::new();
    env.init();
    let h1 = env.ssh_host("logs-here", 1, "ed25519", None);
    let h2 = env.ssh_host("copy-there", 2, "rsa", None);
    env.add_host(&h1).ok();
    env.add_host(&h2).ok();
    env.dbctl(&["create", "src", "--host", "logs-here"]).ok();
    env.psql("src", "create table markers (id int primary key)");
    env.dbctl(&["snapshot", "create", "src"]).ok();
    let mut before = Vec::new();
    for id in 1..=3 {
        before.push(env.psql("src", "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
        env.psql("src", &format!("insert into markers values ({id})"));
        env.psql("src", "select pg_switch_wal()");
    }
    // Wait until the archive on the source host reaches past marker 2.
    for _ in 0..150 {
        let w = env
            .dbctl(&["restorable-window", "src", "-o", "json"])
            .ok()
            .json();
        if w["latest"]
            .as_str()
            .is_some_and(|l| l >= before[2].as_str())
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let r = env
        .dbctl(&[
            "restore",
            "src",
            "--at",
            &before[2],
            "--as",
            "there",
            "--host",
            "copy-there",
            "-o",
            "json",
        ])
        .ok();
    assert!(r.stderr.contains("streamed between hosts"), "{}", r.stderr);
    assert_eq!(r.json()["host"], "copy-there");
    assert_eq!(
        env.psql(
            "there",
            "select string_agg(id::text, ',' order by id) from markers"
        ),
        "1,2"
    );
    let steps: Vec<String> = env.dbctl(&["workflow", "list", "-o", "json"]).ok().json()[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        steps,
        [
            "transfer",
            "transfer-logs",
            "restore",
            "start",
            "set-password",
            "drop-transfer-copy",
            "drop-transferred-logs",
            "snapshot-base",
            "mark-available"
        ]
    );
    // The streamed copies are gone from the target (the clone's own base snapshot is all
    // it keeps); its own instance archives its own logs.
    let kept = crate::common::names_in(&h2.root.join("snapshots"));
    assert!(
        kept.iter().all(|n| n.starts_with("there-snap-")) && kept.len() == 1,
        "{kept:?}"
    );
    let src_uid = std::fs::read_dir(h1.root.join("instances"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .file_name();
    let copied = h2.root.join("wal").join(&src_uid);
    let left = std::fs::read_dir(&copied)
        .map(|d| d.flatten().filter(|e| e.file_name().len() == 24).count())
        .unwrap_or(0);
    assert_eq!(left, 0, "transferred log segments left on the target");
}

#[test]
fn recover_onto_another_host_and_refuse_clearly_when_the_host_is_gone() {
    let mut env = TestEnv::new();
    env.init();
    let mut h1 = env.ssh_host("failing", 1, "ed25519", None);
    let h2 = env.ssh_host("spare", 2, "ed25519", None);
    env.add_host(&h1).ok();
    env.add_host(&h2).ok();
    env.dbctl(&["create", "db", "--host", "failing"]).ok();
    env.psql("db", "create table markers (id int primary key)");
    env.dbctl(&["snapshot", "create", "db"]).ok();
    let mut last = String::new();
    for id in 1..=2 {
        env.psql("db", &format!("insert into markers values ({id})"));
        last = env.psql("db", "select pg_walfile_name(pg_switch_wal())");
    }
    // Both are archived (the archiver runs on its own time) before the crash.
    let uid = std::fs::read_dir(h1.root.join("instances"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .file_name();
    let sidecar = h1.root.join("wal").join(&uid).join(format!("{last}.json"));
    let start = std::time::Instant::now();
    while !sidecar.exists() {
        assert!(start.elapsed().as_secs() < 30, "{last} was never archived");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The data directory goes; the host still answers.
    let data = h1.root.join("instances").join(&uid).join("data");
    crate::common::destroy_data(&data);

    let r = env
        .dbctl(&["recover", "db", "--host", "spare", "-o", "json"])
        .ok();
    assert!(r.stderr.contains("streamed from failing"), "{}", r.stderr);
    let d = r.json();
    assert_eq!(d["host"], "spare");
    assert_eq!(
        env.psql(
            "db",
            "select string_agg(id::text, ',' order by id) from markers"
        ),
        "1,2"
    );
    let ep = env.dbctl(&["endpoint", "list", "-o", "json"]).ok().json();
    assert_eq!(ep[0]["address"], h2.address.as_str());
    assert_eq!(
        std::fs::read_dir(h2.root.join("snapshots"))
            .unwrap()
            .count(),
        1,
        "only its own after-recovery snapshot"
    );

    // With the host that keeps the snapshots and logs gone, recovery says what it needs.
    env.dbctl(&["create", "other", "--host", "failing"]).ok();
    env.stop_sshd(&h1);
    let before = env.catalog_state();
    env.dbctl(&["recover", "other"])
        .one_line_error(1, "bring it back");
    assert_eq!(env.catalog_state(), before);
    env.start_sshd(&mut h1);
}

#[test]
fn a_cross_host_clone_from_a_corrupted_snapshot_ends_naming_the_file() {
    let (env, h1, h2) = prod_on_src_host();
    // Enough data that the exporter is still writing when the importer refuses a file.
    env.psql(
        "prod",
        "create table t as select g, md5(g::text) as h from generate_series(1, 300000) g",
    );
    env.dbctl(&["snapshot", "create", "prod"]).ok();
    let snap_dir = std::fs::read_dir(h1.root.join("snapshots"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .next()
        .unwrap();
    // Damage an early file: the stream sends files in name order, base/ first.
    let mut files: Vec<_> = std::fs::read_dir(snap_dir.join("data/base/1"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| std::fs::metadata(p).unwrap().len() > 0)
        .collect();
    files.sort();
    let bad = &files[0];
    let mut bytes = std::fs::read(bad).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(bad, bytes).unwrap();
    let rel = bad.strip_prefix(snap_dir.join("data")).unwrap();

    let start = std::time::Instant::now();
    let r = env
        .dbctl(&["clone", "prod", "--as", "copy", "--host", "dst-host"])
        .fails_with(1);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "the transfer took {:?}",
        start.elapsed()
    );
    assert!(
        r.stderr.contains(&rel.display().to_string()),
        "the bad file is named: {}",
        r.stderr
    );
    assert_eq!(crate::common::server_pids(&h2.root).len(), 0);
    assert!(
        std::fs::read_dir(h2.root.join("snapshots"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "the partial import was left on the target"
    );
}

#[test]
fn host_list_refresh_asks_every_host_at_once_and_shows_who_answered_and_how_fast() {
    let mut env = TestEnv::new();
    env.init();
    let spare = env.ssh_host("spare", 1, "ed25519", None);
    env.add_host(&spare).ok();
    let listed = |env: &TestEnv| -> std::collections::BTreeMap<String, serde_json::Value> {
        env.dbctl(&["host", "list", "--refresh", "-o", "json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["name"].as_str().unwrap().to_string(), h.clone()))
            .collect()
    };
    let first = listed(&env);
    for name in ["local", "spare"] {
        assert!(first[name]["rtt_ms"].is_u64(), "{}", first[name]);
        assert!(first[name]["last_contact_at"].is_string());
    }
    // A host that stops answering keeps its last contact; the others are asked regardless.
    env.stop_sshd(&spare);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = listed(&env);
    assert_eq!(
        second["spare"]["last_contact_at"],
        first["spare"]["last_contact_at"]
    );
    assert_ne!(
        second["local"]["last_contact_at"],
        first["local"]["last_contact_at"]
    );
    // This time it did not answer, and the listing says so (its round trip is its last one).
    assert_eq!(second["spare"]["answering"], false, "{}", second["spare"]);
    assert_eq!(second["local"]["answering"], true);
    let table = env.dbctl(&["host", "list", "--refresh"]).ok();
    assert!(
        table.stdout.contains("last contact") && table.stdout.contains(" ms"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("NOT ANSWERING"), "{}", table.stdout);
    assert!(
        table.stderr.contains("host spare did not answer"),
        "{}",
        table.stderr
    );

    // A frozen sshd (it takes the connection and says nothing): read-only commands wait at
    // most the check timeout for it and say it does not answer (before, `describe` hung for
    // a minute without a word).
    env.add_config("\n[monitor]\ncheck_timeout_secs = 3\n");
    let frozen = env.ssh_host("frozen", 2, "ed25519", None);
    env.add_host(&frozen).ok();
    env.dbctl(&["create", "far", "--host", "frozen", "--storage-gb", "1"])
        .ok();
    let pid = env.sshd_pid(&frozen);
    let stopped = nix::unistd::Pid::from_raw(pid);
    struct Cont(nix::unistd::Pid);
    impl Drop for Cont {
        fn drop(&mut self) {
            let _ = nix::sys::signal::kill(self.0, nix::sys::signal::Signal::SIGCONT);
        }
    }
    nix::sys::signal::kill(stopped, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let _cont = Cont(stopped);
    let t0 = std::time::Instant::now();
    let d = env.dbctl(&["describe", "far"]).ok();
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(20),
        "describe took {:?}",
        t0.elapsed()
    );
    assert!(d.stdout.contains("its host did not answer"), "{}", d.stdout);
    let third = listed(&env);
    assert_eq!(third["frozen"]["answering"], false, "{}", third["frozen"]);
}

#[test]
fn the_monitor_keeps_one_conversation_per_host_and_makes_a_new_one_when_it_breaks() {
    use std::io::BufRead;
    let mut env = TestEnv::new();
    env.init();
    let far = env.ssh_host("far", 1, "ed25519", None);
    env.add_host(&far).ok();
    env.dbctl(&["create", "m", "--host", "far", "--storage-gb", "1"])
        .ok();
    let mut child = env
        .command(&["monitor", "--passes", "3", "--interval", "3", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // Killed (by pid) should the test fail before it ends by itself.
    struct Reap(i32);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.0),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
    let reap = Reap(child.id() as i32);
    let mut pass = || -> serde_json::Value {
        let line = lines.next().expect("a pass line").unwrap();
        let p: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(p["silent_hosts"], serde_json::json!([]), "{p}");
        assert_eq!(p["instances"], 1, "{p}");
        assert_eq!(p["observations"][0]["state"], "healthy", "{p}");
        p
    };
    pass();
    // Between passes one dbhost waits on the conversation kept with the host.
    let kept = common::rpc_pids(&far.root);
    assert_eq!(kept.len(), 1, "{kept:?}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(common::rpc_pids(&far.root), kept);
    // The connection breaks (its sshd processes killed, by pid): the next pass makes another.
    for pid in common::descendants(env.sshd_pid(&far)) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    pass();
    let now = common::rpc_pids(&far.root);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now, kept);
    pass();
    assert!(child.wait().unwrap().success());
    std::mem::forget(reap);
    // What it kept open ends with it.
    let start = std::time::Instant::now();
    while !common::rpc_pids(&far.root).is_empty() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    env.dbctl(&["delete", "m", "--yes", "--skip-final-snapshot"])
        .ok();
}

#[test]
fn a_wiped_host_is_reconciled_on_refresh_its_snapshots_lost_and_the_window_shrinks() {
    let (env, h1, _h2) = prod_on_src_host();
    env.dbctl(&["snapshot", "create", "prod"]).ok();
    let window = |env: &TestEnv| {
        env.dbctl(&["restorable-window", "prod", "-o", "json"])
            .ok()
            .json()
    };
    assert_eq!(window(&env)["snapshots"], 2, "the base one and this one");
    // Its root emptied (a disk replaced, a host reinstalled), all but its configuration.
    env.dbctl(&["stop", "prod"]).ok();
    for e in std::fs::read_dir(&h1.root).unwrap().flatten() {
        if e.file_name() != "dbhost.toml" {
            let p = e.path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p).unwrap();
            } else {
                std::fs::remove_file(&p).unwrap();
            }
        }
    }
    let r = env
        .dbctl(&["host", "refresh", "src-host", "-o", "json"])
        .ok();
    assert!(
        r.stderr.contains("are no longer on it: marked lost"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["reconciled"]["lost"].as_array().unwrap().len(), 2);
    for s in env.snapshots("prod") {
        assert_eq!(s["status"], "lost", "{s}");
    }
    let events = env
        .dbctl(&["events", "prod", "--type", "snapshot_lost", "-o", "json"])
        .ok()
        .json();
    assert_eq!(events.as_array().unwrap().len(), 2, "{events}");
    // The window no longer counts on them; a second refresh finds nothing more to change.
    let w = env.dbctl(&["restorable-window", "prod", "-o", "json"]);
    if w.code == Some(0) {
        assert_eq!(w.json()["snapshots"], 0);
    } else {
        assert!(w.stderr.contains("snapshot"), "{}", w.stderr);
    }
    let again = env
        .dbctl(&["host", "list", "--refresh", "-o", "json"])
        .ok()
        .json();
    assert!(!again.to_string().contains("reconciled"), "{again}");
}
