//! MariaDB instances: made, reached and removed with the same verbs as PostgreSQL ones.

use crate::common::TestEnv;
use std::process::{Command, Stdio};

/// The instance's URL, split: (user, password, port).
fn credentials(env: &TestEnv, name: &str) -> (String, String, String) {
    let url = env.dbctl(&["url", name]).ok().stdout.trim().to_string();
    let rest = url
        .strip_prefix("mysql://")
        .unwrap_or_else(|| panic!("not a mysql:// URL: {url}"));
    let (login, addr) = rest.split_once('@').unwrap();
    let (user, password) = login.split_once(':').unwrap();
    let port = addr.trim_end_matches('/').rsplit_once(':').unwrap().1;
    (user.into(), password.into(), port.into())
}

/// One value from the server, through `dbctl connect`.
#[track_caller]
fn ask(env: &TestEnv, name: &str, sql: &str) -> String {
    env.dbctl(&[
        "connect",
        name,
        "--",
        "--batch",
        "--skip-column-names",
        "-e",
        sql,
    ])
    .ok()
    .stdout
    .trim()
    .to_string()
}

#[test]
fn a_mariadb_instance_is_made_reached_and_removed_like_a_postgres_one() {
    let mut env = TestEnv::new();
    env.init();
    let made = env
        .dbctl(&["create", "shop", "--engine", "mariadb", "-o", "json"])
        .ok()
        .json();
    assert_eq!(made["status"], "available");
    assert_eq!(made["engine"], "mariadb");
    assert!(
        made["engine_version"].as_str().unwrap().starts_with("10."),
        "{made}"
    );
    let (user, password, port) = credentials(&env, "shop");
    assert_eq!(user, "dbadmin");
    assert_eq!(port, made["port"].to_string());

    // The server keeps every commit in a synced, checksummed, row-based binary log with
    // GTIDs, and sizes itself from the class (small: 1 GiB, 100 connections).
    assert_eq!(
        ask(
            &env,
            "shop",
            "select concat_ws(' ', current_user(), @@log_bin, @@binlog_format, @@sync_binlog, \
             @@innodb_flush_log_at_trx_commit, @@binlog_checksum, @@gtid_strict_mode, \
             @@default_storage_engine, @@max_connections, @@innodb_buffer_pool_size div 1048576)"
        ),
        "dbadmin@% ON ROW 1 1 CRC32 ON InnoDB 100 640"
    );
    ask(
        &env,
        "shop",
        "create database app; create table app.t (id int primary key, v text); \
         insert into app.t values (1, 'a'), (2, 'b')",
    );
    assert_eq!(ask(&env, "shop", "select count(*) from app.t"), "2");

    // The password is on no process's command line while a client is logged in with it.
    let mut slow = env.command(&["connect", "shop", "--", "-e", "select sleep(2)"]);
    let mut slow = slow.stdout(Stdio::null()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let mut seen_client = false;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert!(
            !text.contains(&password),
            "password on a command line: {text}"
        );
        seen_client |= text.starts_with("mariadb --defaults-extra-file=/dev/fd/");
    }
    assert!(slow.wait().unwrap().success());
    assert!(seen_client, "the client was not seen running");
    // Without the password the server lets nobody in over the network.
    let anonymous = Command::new("mariadb")
        .args([
            "--no-defaults",
            "--protocol=tcp",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
        ])
        .args(["-u", "dbadmin", "-e", "select 1"])
        .output()
        .unwrap();
    assert!(!anonymous.status.success());

    // The server runs as the instance's own OS user, never root or the packaged mysql.
    let pids = env.running_servers();
    assert_eq!(pids.len(), 1, "{pids:?}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", pids[0])).unwrap();
    let uid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .unwrap();
    if nix::unistd::Uid::effective().is_root() {
        let owner = nix::unistd::User::from_uid(uid.into()).unwrap().unwrap();
        assert!(owner.name.starts_with("dbi_"), "runs as {}", owner.name);
    }

    // A second instance has a server id of its own (binary logs from two servers never
    // share one).
    env.dbctl(&["create", "shop2", "--engine", "mariadb"]).ok();
    assert_ne!(
        ask(&env, "shop", "select @@server_id"),
        ask(&env, "shop2", "select @@server_id")
    );

    // Bad input: an account MariaDB keeps for itself.
    env.dbctl(&[
        "create",
        "bad",
        "--engine",
        "mariadb",
        "--admin-user",
        "root",
    ])
    .one_line_error(2, "root");
    assert_eq!(env.instance_count(), 2);

    for name in ["shop", "shop2"] {
        env.dbctl(&["delete", name, "--yes", "--skip-final-snapshot"])
            .ok();
    }
    assert!(env.running_servers().is_empty());
    assert!(!std::path::Path::new(&format!("/proc/{}", pids[0])).exists());
}

#[test]
fn a_host_without_mariadb_is_refused_at_placement_with_the_engines_it_has() {
    let mut env = TestEnv::new();
    let root = env.local_root();
    std::fs::create_dir_all(&root).unwrap();
    let empty = env.dir.join("no-mariadb");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(
        root.join("dbhost.toml"),
        format!("[bin_dirs]\nmariadb = \"{}\"\n", empty.display()),
    )
    .unwrap();
    env.init();
    let refused = env
        .dbctl(&["create", "shop", "--engine", "mariadb"])
        .fails_with(2);
    assert!(
        refused
            .stderr
            .contains("mariadb is not installed; it has postgres 15"),
        "{}",
        refused.stderr
    );
    assert_eq!(env.instance_count(), 0);
}

#[test]
fn a_mariadb_create_killed_at_each_step_resumes_and_a_failed_one_leaves_nothing() {
    let mut env = TestEnv::new();
    env.init();
    // dbctl dies right after the host made the instance, then right after it started it.
    for (name, failpoint) in [
        ("one", "crash-after:provision"),
        ("two", "crash-after:start"),
    ] {
        let crashed = env.dbctl_env(
            &["create", name, "--engine", "mariadb"],
            &[("DBCTL_FAILPOINTS", failpoint)],
        );
        assert_ne!(crashed.code, Some(0), "{failpoint}");
        assert_eq!(env.status_of(name), "creating");
    }
    let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json();
    assert_eq!(swept.as_array().unwrap().len(), 2, "{swept}");
    for s in swept.as_array().unwrap() {
        assert_eq!(s["outcome"], "succeeded", "{swept}");
    }
    for name in ["one", "two"] {
        assert_eq!(env.status_of(name), "available");
        assert_eq!(ask(&env, name, "select 40 + 2"), "42");
    }
    assert_eq!(env.running_servers().len(), 2, "nothing orphaned");

    // A start that keeps failing: every step undone, no server, no files.
    env.dbctl_env(
        &["create", "doomed", "--engine", "mariadb"],
        &[("DBCTL_FAILPOINTS", "fail:start")],
    )
    .fails_with(1);
    assert_eq!(env.running_servers().len(), 2, "a server was left running");
    for name in ["one", "two"] {
        env.dbctl(&["delete", name, "--yes", "--skip-final-snapshot"])
            .ok();
    }
    assert!(env.running_servers().is_empty());
    assert_eq!(
        std::fs::read_dir(env.local_root().join("instances"))
            .unwrap()
            .count(),
        0,
        "files left behind"
    );
}
