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
pub(crate) fn ask(env: &TestEnv, name: &str, sql: &str) -> String {
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

    // Its binary log shipper runs beside it, as the same OS user.
    let shippers = crate::common::shipper_pids(&env.local_root());
    assert_eq!(shippers.len(), 1, "{shippers:?}");
    let shipper_status = std::fs::read_to_string(format!("/proc/{}/status", shippers[0])).unwrap();
    assert!(
        shipper_status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.contains(&format!("\t{uid}\t"))),
        "{shipper_status}"
    );

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
    assert!(
        crate::common::shipper_pids(&env.local_root()).is_empty(),
        "a binary log shipper outlived its instance"
    );
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
    let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json()["workflows"].clone();
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

/// A client on `name` running `sql` from its stdin until it ends.
fn client_running(env: &TestEnv, name: &str, sql: String) -> std::process::Child {
    use std::io::Write;
    let mut c = env
        .command(&["connect", name, "--", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = c.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(sql.as_bytes());
    });
    c
}

/// Orders and items (20,000 rows each, and a probe table) in `app` on `name`.
fn orders_and_items(env: &TestEnv, name: &str) {
    ask(
        env,
        name,
        "create database app; use app; \
         create table app.orders (id int auto_increment primary key, pad varchar(200)); \
         create table app.items (id int auto_increment primary key, pad varchar(200)); \
         create table app.probe (id int auto_increment primary key); \
         insert into app.orders (pad) select repeat('o', 200) from seq_1_to_20000; \
         insert into app.items (pad) select repeat('i', 200) from seq_1_to_20000",
    );
}

/// A snapshot of `name` taken while a writer keeps committing pairs of rows (one in each
/// table, one transaction): a copy must hold both rows of a pair or neither. Returns the
/// snapshot as `dbctl` shows it.
fn snapshot_under_pairs(env: &TestEnv, name: &str) -> serde_json::Value {
    let pairs: String = (0..100_000)
        .map(|_| {
            "begin; insert into app.orders (pad) values ('x'); \
             insert into app.items (pad) values ('y'); commit;\n"
        })
        .collect();
    let mut writer = client_running(env, name, pairs);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let snap = env
        .dbctl(&["snapshot", "create", name, "-o", "json"])
        .ok()
        .json();
    // Still writing when the snapshot is done; its open transaction dies with it.
    assert!(
        writer.try_wait().unwrap().is_none(),
        "the writer ended before the snapshot did"
    );
    writer.kill().unwrap();
    writer.wait().unwrap();
    snap
}

/// Whether copy `name` holds whole pairs only, and the server's own check passes.
fn pairs_whole_and_checked(env: &TestEnv, name: &str) -> u32 {
    let counts = ask(
        env,
        name,
        "select concat((select count(*) from app.orders), ' ', (select count(*) from app.items))",
    );
    let (orders, items) = counts.split_once(' ').unwrap();
    assert_eq!(orders, items, "a transaction was cut in half");
    let checked = ask(env, name, "check table app.orders, app.items");
    assert_eq!(checked.matches("\tOK").count(), 2, "{checked}");
    orders.parse().unwrap()
}

#[test]
fn mariadb_snapshots_under_load_clone_consistent_copies_and_damage_is_named() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "shop", "--engine", "mariadb"]).ok();
    orders_and_items(&env, "shop");
    let snap = snapshot_under_pairs(&env, "shop");
    let position = snap["position"].as_str().unwrap();
    assert!(position.starts_with("binlog.0"), "{snap}");
    let id = snap["id"].to_string();
    env.dbctl(&["snapshot", "verify", &id]).ok();
    ask(
        &env,
        "shop",
        "insert into app.orders (pad) values ('after')",
    );

    let source_gtid = ask(&env, "shop", "select @@gtid_binlog_pos");
    env.dbctl(&["clone", "shop", "--as", "copy", "--snapshot", &id])
        .ok();
    assert!(pairs_whole_and_checked(&env, "copy") > 20000);
    assert_eq!(
        ask(
            &env,
            "copy",
            "select count(*) from app.orders where pad = 'after'"
        ),
        "0"
    );
    // The server's own check finds every table sound.
    let checked = ask(
        &env,
        "copy",
        "check table app.orders, app.items, mysql.global_priv",
    );
    assert_eq!(checked.matches("\tOK").count(), 3, "{checked}");
    // The copy goes on from the source's GTID history, as a server of its own.
    let source_seq: u64 = source_gtid.rsplit('-').next().unwrap().parse().unwrap();
    let copy_gtid = ask(
        &env,
        "copy",
        "insert into app.orders (pad) values ('c'); select @@gtid_binlog_pos",
    );
    let copy_seq: u64 = copy_gtid.rsplit('-').next().unwrap().parse().unwrap();
    assert!(
        copy_seq > 5 && copy_seq <= source_seq,
        "{source_gtid} then {copy_gtid}"
    );
    assert_ne!(
        ask(&env, "copy", "select @@server_id"),
        ask(&env, "shop", "select @@server_id")
    );
    // Only its own OS user's socket account: the source's is gone.
    let sockets = ask(
        &env,
        "copy",
        "select count(*) from mysql.global_priv where user like 'dbi\\\\_%'",
    );
    assert_eq!(sockets, "1");

    // A damaged byte in the snapshot: verify and clone name the file, nothing is made.
    let data = env
        .local_root()
        .join("snapshots")
        .join(snap["uid"].as_str().unwrap())
        .join("data");
    let victim = crate::snapshots::largest_file(&data);
    crate::snapshots::flip_middle_byte(&victim);
    let rel = victim
        .strip_prefix(&data)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let r = env.dbctl(&["snapshot", "verify", &id]).fails_with(1);
    assert!(
        r.stdout.contains(&format!("{rel}: checksum mismatch")),
        "{}",
        r.stdout
    );
    let r = env
        .dbctl(&["clone", "shop", "--as", "bad", "--snapshot", &id])
        .fails_with(1);
    assert!(r.stderr.contains(&rel), "{}", r.stderr);
    assert_eq!(env.instance_count(), 2);
    assert_eq!(env.running_servers().len(), 2);

    // Delete keeps a final snapshot that brings the instance back.
    ask(&env, "copy", "insert into app.orders (pad) values ('last')");
    env.dbctl(&["delete", "copy", "--yes"]).ok();
    let last = env
        .dbctl(&["snapshot", "list", "copy", "-o", "json"])
        .ok()
        .json();
    let final_id = last[0]["id"].to_string();
    env.dbctl(&["clone", "copy", "--snapshot", &final_id, "--as", "back"])
        .ok();
    assert_eq!(
        ask(
            &env,
            "back",
            "select count(*) from app.orders where pad = 'last'"
        ),
        "1"
    );
    for name in ["shop", "back"] {
        env.dbctl(&["delete", name, "--yes", "--skip-final-snapshot"])
            .ok();
    }
    assert!(env.running_servers().is_empty());
}

/// The server's UTC time, binary log position and GTID right after `sql` committed.
fn commit_marker(env: &TestEnv, name: &str, sql: &str) -> (String, String, String) {
    let out = ask(
        env,
        name,
        &format!(
            "{sql}; select date_format(utc_timestamp(), '%Y-%m-%dT%H:%i:%sZ'); show master status; \
             select @@gtid_binlog_pos"
        ),
    );
    let mut lines = out.lines();
    let at = lines.next().unwrap().trim().to_string();
    let status: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let gtid = lines.next().unwrap().trim().to_string();
    (at, format!("{}:{}", status[0], status[1]), gtid)
}

/// The marker ids a copy holds, in order.
fn markers(env: &TestEnv, name: &str) -> String {
    ask(env, name, "select group_concat(id order by id) from app.m")
}

/// The entry of instance `shop` in `dir` (its instance directory, its log archive): named
/// by its uid, `shop-...`.
fn of_shop(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("shop-")
        })
        .unwrap()
}

/// MariaDB instance `shop` with an archive timeout of 2 s (on `host`, when given).
pub(crate) fn create_shop(env: &TestEnv, host: Option<&str>) {
    let mut args = vec![
        "create",
        "shop",
        "--engine",
        "mariadb",
        "--archive-timeout",
        "2",
    ];
    if let Some(h) = host {
        args.extend(["--host", h]);
    }
    env.dbctl(&args).ok();
}

/// Sends `shop`'s backups and logs to repository `offsite` and backs up snapshot `snap` there.
fn back_up_to_offsite(env: &TestEnv, snap: &str) {
    env.dbctl(&[
        "backup",
        "policy",
        "shop",
        "--backup-repository",
        "offsite",
        "--backup-window",
        "none",
    ])
    .ok();
    env.dbctl(&["backup", "create", "shop", "--snapshot", snap])
        .ok();
}

/// Instance `shop` (archive timeout 2 s; `--host` when given), a table `app.m`, a snapshot,
/// then three markers committed in seconds of their own (binary log times have whole
/// seconds): each marker's time, file:offset and GTID.
fn shop_with_markers(env: &TestEnv, host: Option<&str>) -> Vec<(String, String, String)> {
    create_shop(env, host);
    ask(
        env,
        "shop",
        "create database app; create table app.m (id int primary key)",
    );
    env.dbctl(&["snapshot", "create", "shop"]).ok();
    (1..=3)
        .map(|id| {
            let m = commit_marker(env, "shop", &format!("insert into app.m values ({id})"));
            std::thread::sleep(std::time::Duration::from_millis(1100));
            // Each in a file of its own: the host switches files once a write in the current
            // one is the archive timeout old.
            let (file, _) = m.1.split_once(':').unwrap();
            let waited = std::time::Instant::now();
            while ask(env, "shop", "show master status").starts_with(&format!("{file}\t")) {
                assert!(waited.elapsed().as_secs() < 20, "{file} was never switched");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            m
        })
        .collect()
}

#[test]
fn mariadb_clones_to_a_time_a_position_or_the_latest_commit_hold_exactly_the_commits_before() {
    let mut env = TestEnv::new();
    env.init();
    let at = shop_with_markers(&env, None);
    // Archived by the host alone, within the archive timeout: no dbctl ran meanwhile.
    let archive = env.local_root().join("wal");
    let archived_with_commits = || {
        std::fs::read_dir(&archive)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
            .filter(|f| f.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|f| std::fs::read_to_string(f.path()).ok())
            // Indexed with its last commit's position and GTID.
            .filter(|t| {
                t.contains(&at[2].1) && t.contains(&format!("\"last_transaction\":\"{}\"", at[2].2))
            })
            .count()
    };
    let waited = std::time::Instant::now();
    while archived_with_commits() == 0 && waited.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        archived_with_commits(),
        1,
        "the third marker's file is not archived 10 s after its commit"
    );

    // A time between markers 2 and 3: exactly 1 and 2.
    env.dbctl(&["clone", "shop", "--as", "by-time", "--at", &at[1].0])
        .ok();
    assert_eq!(markers(&env, "by-time"), "1,2");
    // The position right after marker 1's commit: exactly 1.
    env.dbctl(&[
        "clone",
        "shop",
        "--as",
        "by-position",
        "--position",
        &at[0].1,
    ])
    .ok();
    assert_eq!(markers(&env, "by-position"), "1");
    // Marker 2's GTID: exactly 1 and 2.
    env.dbctl(&["clone", "shop", "--as", "by-gtid", "--position", &at[1].2])
        .ok();
    assert_eq!(markers(&env, "by-gtid"), "1,2");
    // A GTID the archive does not hold: refused with the window, naming the forms.
    let r = env
        .dbctl(&["clone", "shop", "--as", "bad", "--position", "0-1-999999"])
        .one_line_error(2, "not in the log archive");
    assert!(
        r.stderr.contains("restorable window of `shop` is 20") && r.stderr.contains("0-1-42"),
        "{}",
        r.stderr
    );
    // PostgreSQL's spelling, even of a position MariaDB reads: refused, naming MariaDB's.
    env.dbctl(&["clone", "shop", "--as", "bad", "--lsn", &at[0].1])
        .one_line_error(2, "--position with a GTID");
    env.dbctl(&["recover", "shop", "--lsn", "0/3000060"])
        .one_line_error(2, "runs mariadb");
    // The latest commit, made a moment before: all of them, with a row larger than the
    // client's and server's default packet (16 MB), which replay carries.
    ask(
        &env,
        "shop",
        "create table app.big (v longtext); insert into app.big values (repeat('x', 20971520)); insert into app.m values (4)",
    );
    env.dbctl(&["clone", "shop", "--as", "latest", "--latest"])
        .ok();
    assert_eq!(markers(&env, "latest"), "1,2,3,4");
    assert_eq!(
        ask(&env, "latest", "select length(v) from app.big"),
        "20971520"
    );
    for copy in ["by-time", "by-position", "by-gtid", "latest"] {
        let checked = ask(&env, copy, "check table app.m");
        assert!(checked.ends_with("\tOK"), "{copy}: {checked}");
    }

    // Bad input: PostgreSQL's position form, and a position past what was written.
    env.dbctl(&["clone", "shop", "--as", "bad", "--position", "0/3000060"])
        .one_line_error(2, "binlog.000003:1234");
    let (file, _) = at[2].1.split_once(':').unwrap();
    let past = format!("{file}:99999999");
    let r = env
        .dbctl(&["clone", "shop", "--as", "bad", "--position", &past])
        .fails_with(1);
    assert!(r.stderr.contains("Did not reach"), "{}", r.stderr);
    assert_eq!(env.instance_count(), 5);

    // A dry run of a point-in-time clone says its plan and changes nothing.
    let r = env
        .dbctl(&[
            "clone",
            "shop",
            "--as",
            "dry",
            "--at",
            &at[1].0,
            "--dry-run",
        ])
        .ok();
    assert!(r.stdout.contains("restore"), "{}", r.stdout);
    assert_eq!(env.instance_count(), 5);

    // The loss window: a commit, no dbctl for longer than the archive timeout, the data
    // directory destroyed; recover brings the commit back, moves the endpoint and runs the
    // endpoint hook, as for PostgreSQL.
    let hook_out = env.endpoint_hook();
    let before = env.dbctl(&["describe", "shop", "-o", "json"]).ok().json();
    assert_eq!(before["engine"], "mariadb");
    ask(&env, "shop", "insert into app.m values (5)");
    std::thread::sleep(std::time::Duration::from_secs(4));
    let data = of_shop(&env.local_root().join("instances")).join("data");
    let server = env.running_servers();
    for pid in &server {
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.contains(&data.display().to_string()) {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid),
                nix::sys::signal::Signal::SIGKILL,
            )
            .unwrap();
        }
    }
    std::fs::remove_dir_all(&data).unwrap();
    let r = env.dbctl(&["recover", "shop", "--yes"]).ok();
    assert!(r.stderr.contains("was never archived"), "{}", r.stderr);
    assert_eq!(markers(&env, "shop"), "1,2,3,4,5");
    let after = env.dbctl(&["describe", "shop", "-o", "json"]).ok().json();
    // The same host: the same port, so nothing moved and no hook ran.
    assert_eq!(after["port"], before["port"]);
    // describe says the engine and its version, the endpoint and the restorable window.
    assert!(
        after["engine_version"].as_str().unwrap().starts_with("10."),
        "{after}"
    );
    assert_eq!(after["endpoint"], format!("127.0.0.1:{}", after["port"]));
    assert!(after["restorable_window"]["latest"].is_string(), "{after}");
    assert!(std::fs::read_to_string(&hook_out)
        .unwrap_or_default()
        .is_empty());
    let kinds = env.event_kinds("shop");
    for k in ["recovered", "recovery_report"] {
        assert!(kinds.iter().any(|e| e == k), "no {k} event in {kinds:?}");
    }

    // In place, back to between markers 2 and 3: same name and port, and the binary log goes
    // on in a branch of its own (binlog2.*) beside the one it left, so a later restore
    // replays the new commits, never the abandoned ones of the same numbers.
    let port = env.dbctl(&["describe", "shop", "-o", "json"]).ok().json()["port"].clone();
    env.dbctl(&["restore", "shop", "--in-place", "--yes", "--at", &at[1].0])
        .ok();
    assert_eq!(markers(&env, "shop"), "1,2");
    assert_eq!(
        env.dbctl(&["describe", "shop", "-o", "json"]).ok().json()["port"],
        port
    );
    let six = commit_marker(&env, "shop", "insert into app.m values (6)");
    assert!(six.1.starts_with("binlog2."), "{six:?}");
    env.dbctl(&["clone", "shop", "--as", "after", "--latest"])
        .ok();
    assert_eq!(markers(&env, "after"), "1,2,6");
    env.dbctl(&["clone", "shop", "--as", "after-gtid", "--position", &six.2])
        .ok();
    assert_eq!(markers(&env, "after-gtid"), "1,2,6");
    for copy in ["shop", "after", "after-gtid"] {
        let checked = ask(&env, copy, "check table app.m");
        assert!(checked.ends_with("\tOK"), "{copy}: {checked}");
    }
    for name in ["after", "after-gtid"] {
        env.dbctl(&["delete", name, "--yes", "--skip-final-snapshot"])
            .ok();
    }
    for name in ["shop", "by-time", "by-position", "by-gtid", "latest"] {
        env.dbctl(&["delete", name, "--yes", "--skip-final-snapshot"])
            .ok();
    }
    assert!(env.running_servers().is_empty());
}

#[test]
fn a_mariadb_point_in_time_clone_to_another_host_and_a_damaged_binary_log_named() {
    let mut env = TestEnv::new();
    env.init();
    let h1 = env.ssh_host("logs-here", 1, "ed25519", None);
    let h2 = env.ssh_host("copy-there", 2, "ed25519", None);
    env.add_host(&h1).ok();
    env.add_host(&h2).ok();
    let at = shop_with_markers(&env, Some("logs-here"));
    for _ in 0..100 {
        let w = env
            .dbctl(&["restorable-window", "shop", "-o", "json"])
            .ok()
            .json();
        if w["latest"].as_str().is_some_and(|l| l >= at[2].0.as_str()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let r = env
        .dbctl(&[
            "clone",
            "shop",
            "--as",
            "there",
            "--host",
            "copy-there",
            "--at",
            &at[1].0,
        ])
        .ok();
    assert!(r.stderr.contains("streamed"), "{}", r.stderr);
    assert_eq!(markers(&env, "there"), "1,2");
    let checked = ask(&env, "there", "check table app.m");
    assert!(checked.ends_with("\tOK"), "{checked}");

    // A byte changed in an archived binary log the copy needs: named, nothing made.
    let archive = of_shop(&h1.root.join("wal"));
    let (file, _) = at[1].1.split_once(':').unwrap();
    let victim = archive.join(file);
    crate::snapshots::flip_middle_byte(&victim);
    let r = env
        .dbctl(&[
            "clone",
            "shop",
            "--as",
            "broken",
            "--host",
            "copy-there",
            "--latest",
        ])
        .fails_with(1);
    assert!(r.stderr.contains(file), "{}", r.stderr);
    assert_eq!(env.instance_count(), 2);
    for name in ["shop", "there"] {
        env.dbctl(&["delete", name, "--yes", "--skip-final-snapshot"])
            .ok();
    }
}

/// Whether a commit on `name` gets through within `secs` (BACKUP STAGE BLOCK_COMMIT stops it).
fn commits_within(env: &TestEnv, name: &str, secs: u32) -> bool {
    env.dbctl(&[
        "connect",
        name,
        "--",
        "-e",
        &format!("set session lock_wait_timeout = {secs}; insert into app.probe values (null)"),
    ])
    .code
        == Some(0)
}

#[test]
fn mariadb_on_btrfs_suspends_commits_only_for_the_snapshot_and_never_past_the_bound() {
    let mut env = TestEnv::new();
    let Some(mount) = env.btrfs(4096) else { return };
    let root = mount.join("root");
    env.init_at(root.clone());
    let conf = root.join("dbhost.toml");
    let text = std::fs::read_to_string(&conf).unwrap_or_default() + "suspend_timeout_secs = 3\n";
    std::fs::write(&conf, text).unwrap();
    env.dbctl(&["create", "shop", "--engine", "mariadb", "--storage-gb", "1"])
        .ok();
    orders_and_items(&env, "shop");
    let snap = snapshot_under_pairs(&env, "shop");
    assert_eq!(snap["backend"], "btrfs");
    env.dbctl(&["clone", "shop", "--as", "copy", "--storage-gb", "1"])
        .ok();
    pairs_whole_and_checked(&env, "copy");
    assert!(
        commits_within(&env, "shop", 5),
        "the source is left suspended"
    );

    // dbctl killed while dbhost holds the locks and hangs: the server ends the session
    // after the bound, commits go on, and the half-made snapshot is never kept.
    let available = |env: &TestEnv| {
        env.snapshots("shop")
            .iter()
            .filter(|s| s["status"] == "available")
            .count()
    };
    let before = available(&env);
    let mut held = env
        .command(&["snapshot", "create", "shop"])
        .env("DBCTL_FAILPOINTS", "hold:suspend")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let waited = std::time::Instant::now();
    while commits_within(&env, "shop", 1) {
        assert!(
            waited.elapsed().as_secs() < 30,
            "the locks were never taken"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    held.kill().unwrap();
    held.wait().unwrap();
    // The hold lasts five times the bound: a release within twice the bound is the server's.
    assert!(
        commits_within(&env, "shop", 6),
        "commits still blocked after twice the suspend bound"
    );
    // The orphaned dbhost wakes, finds its session gone, keeps nothing and ends.
    let root_arg = root.display().to_string();
    let orphan = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c).replace('\0', " ");
                c.contains(" rpc") && c.contains(&root_arg) && c.contains("dbhost")
            })
        })
    };
    let waited = std::time::Instant::now();
    while orphan() && waited.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(!orphan(), "dbhost did not end");
    assert_eq!(available(&env), before, "the inconsistent copy was kept");
    let partials = std::fs::read_dir(root.join("snapshots"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .count();
    assert_eq!(partials, 0, "a half-made snapshot was left");
    // The sweeper finishes the interrupted workflow: the snapshot is taken after all.
    env.dbctl(&["sweep"]).ok();
    assert_eq!(available(&env), before + 1);

    // In place, from a subvolume snapshot that carries the source's binary logs: the server
    // goes on in branch 2 and none of branch 1's files stays in its data directory.
    env.dbctl(&["restore", "shop", "--in-place", "--yes", "--latest"])
        .ok();
    pairs_whole_and_checked(&env, "shop");
    let data = of_shop(&root.join("instances")).join("data");
    let logs: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("binlog"))
        .collect();
    assert!(logs.iter().any(|n| n.starts_with("binlog2.")), "{logs:?}");
    assert!(!logs.iter().any(|n| n.starts_with("binlog.")), "{logs:?}");
    for name in ["shop", "copy"] {
        env.dbctl(&["delete", name, "--yes", "--skip-final-snapshot"])
            .ok();
    }
}

#[test]
fn a_mariadb_clone_or_recover_killed_after_any_step_is_finished_by_the_sweeper() {
    let mut env = TestEnv::new();
    env.init();
    create_shop(&env, None);
    ask(
        &env,
        "shop",
        "create database app; create table app.m (id int primary key); \
         insert into app.m values (1)",
    );
    env.dbctl(&["snapshot", "create", "shop"]).ok();
    ask(&env, "shop", "insert into app.m values (2)");
    for (copy, step) in [("c1", "restore"), ("c2", "start"), ("c3", "set-password")] {
        let crashed = env.dbctl_env(
            &["clone", "shop", "--as", copy, "--latest"],
            &[("DBCTL_FAILPOINTS", &format!("crash-after:{step}"))],
        );
        assert_ne!(crashed.code, Some(0), "{step}");
        let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json()["workflows"].clone();
        assert_eq!(swept[0]["outcome"], "succeeded", "{step}: {swept}");
        assert_eq!(markers(&env, copy), "1,2", "{step}");
    }
    let mut expected = String::from("1,2");
    for (i, step) in [
        "stop-old",
        "restore",
        "start",
        "snapshot-recovered",
        "take-over",
        "set-old-server-aside",
    ]
    .iter()
    .enumerate()
    {
        let id = 10 + i;
        ask(&env, "shop", &format!("insert into app.m values ({id})"));
        expected += &format!(",{id}");
        let crashed = env.dbctl_env(
            &["recover", "shop", "--yes"],
            &[("DBCTL_FAILPOINTS", &format!("crash-after:{step}"))],
        );
        assert_ne!(crashed.code, Some(0), "{step}");
        let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json()["workflows"].clone();
        assert_eq!(swept[0]["outcome"], "succeeded", "{step}: {swept}");
        assert_eq!(env.status_of("shop"), "available", "{step}");
        assert_eq!(markers(&env, "shop"), expected, "{step}: a commit was lost");
    }
    // One server per instance: nothing of the replaced ones is left running.
    assert_eq!(env.running_servers().len(), 4);
    for name in ["shop", "c1", "c2", "c3"] {
        env.dbctl(&["delete", name, "--yes", "--skip-final-snapshot"])
            .ok();
    }
    assert!(env.running_servers().is_empty());
}

#[test]
fn a_mariadb_backup_and_its_shipped_binary_logs_restore_from_the_repository_to_a_moment() {
    let mut env = TestEnv::new();
    env.init();
    crate::repository::dir_offsite(&env);
    let at = shop_with_markers(&env, None);
    // The snapshot taken before the markers goes into the repository as it is.
    back_up_to_offsite(&env, &env.snapshots("shop")[0]["id"].to_string());
    // A commit later than marker 2's second is marker 3 (binary log times have whole
    // seconds, and the markers are seconds apart): its file has been shipped.
    crate::repository::ship_past(&env, "shop", &at[1].0);
    env.dbctl(&[
        "clone",
        "shop",
        "--as",
        "by-time",
        "--from-repository",
        "--at",
        &at[1].0,
    ])
    .ok();
    assert_eq!(markers(&env, "by-time"), "1,2");
    env.dbctl(&[
        "clone",
        "shop",
        "--as",
        "newest",
        "--from-repository",
        "--latest",
    ])
    .ok();
    assert_eq!(markers(&env, "newest"), "1,2,3");
    for copy in ["by-time", "newest"] {
        let checked = ask(&env, copy, "check table app.m");
        assert!(checked.ends_with("\tOK"), "{copy}: {checked}");
    }
}

#[test]
fn a_binary_log_damaged_after_archiving_is_a_hole_in_the_window_and_never_shipped() {
    let mut env = TestEnv::new();
    env.init();
    crate::repository::dir_offsite(&env);
    let at = shop_with_markers(&env, None);
    let window = || {
        env.dbctl(&["restorable-window", "shop", "-o", "json"])
            .ok()
            .json()
    };
    wait_for_window_past(&env, &at[2].0);
    // Marker 2's file, damaged after it was archived and before anything was shipped.
    let (file, _) = at[1].1.split_once(':').unwrap();
    assert_ne!(at[2].1.split_once(':').unwrap().0, file, "{at:?}");
    crate::snapshots::flip_middle_byte(&of_shop(&env.local_root().join("wal")).join(file));
    back_up_to_offsite(&env, &env.snapshots("shop")[0]["id"].to_string());
    // Shipping reads every file back against its record first: the damaged one stays home.
    let r = env.dbctl(&["sweep"]).ok();
    assert!(
        r.stdout.contains("damaged, not shipped") && r.stdout.contains(file),
        "{}",
        r.stdout
    );
    let events = env
        .dbctl(&["events", "shop", "--type", "log_damaged", "-o", "json"])
        .ok()
        .json();
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    // The window has a hole there: it ends before marker 2 and names the file.
    let w = window();
    assert_eq!(w["gap"], file, "{w}");
    let latest = w["latest"].as_str().unwrap().to_string();
    // (to the second: binary log times have whole seconds)
    assert!(
        latest[..19] >= at[0].0[..19] && latest[..19] < at[1].0[..19],
        "{w} {at:?}"
    );
    env.dbctl(&["clone", "shop", "--as", "past-hole", "--at", &at[2].0])
        .fails_with(2);
    // The latest commit is past the hole: refused by name rather than dropped in silence.
    let r = env
        .dbctl(&["clone", "shop", "--as", "newest", "--latest"])
        .fails_with(1);
    assert!(
        r.stderr.contains(file) && r.stderr.contains("does not match its checksum"),
        "{}",
        r.stderr
    );
    // Every tier restores to the newest point the window lists, and nothing past the hole.
    env.dbctl(&["clone", "shop", "--as", "newest", "--at", &latest])
        .ok();
    assert_eq!(markers(&env, "newest"), "1");
    env.dbctl(&[
        "clone",
        "shop",
        "--as",
        "newest-offsite",
        "--from-repository",
        "--at",
        &latest,
    ])
    .ok();
    assert_eq!(markers(&env, "newest-offsite"), "1");
    let verified = env
        .dbctl(&["repository", "verify", "offsite", "-o", "json"])
        .ok()
        .json();
    assert!(!verified.to_string().contains(file), "{verified}");
}

/// Waits until `shop`'s restorable window reaches `time` (to the second).
fn wait_for_window_past(env: &TestEnv, time: &str) {
    let waited = std::time::Instant::now();
    loop {
        let w = env
            .dbctl(&["restorable-window", "shop", "-o", "json"])
            .ok()
            .json();
        if w["latest"].as_str().is_some_and(|l| l[..19] >= time[..19]) {
            return;
        }
        assert!(waited.elapsed().as_secs() < 30, "{time}: {w}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn every_moment_the_window_lists_restores_after_in_place_restores_and_a_recovery() {
    let mut env = TestEnv::new();
    env.init();
    let at = shop_with_markers(&env, None);
    wait_for_window_past(&env, &at[2].0);
    // Back to marker 1 in place: the instance goes on from there on a branch of its own.
    env.dbctl(&["restore", "shop", "--at", &at[0].0, "--in-place", "--yes"])
        .ok();
    assert_eq!(markers(&env, "shop"), "1");
    // In a second after the one the new branch began in (commit times have whole seconds).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (fourth, ..) = commit_marker(&env, "shop", "insert into app.m values (4)");
    wait_for_window_past(&env, &fourth);
    let check = |env: &TestEnv, round: &str| {
        let w = env
            .dbctl(&["restorable-window", "shop", "-o", "json"])
            .ok()
            .json();
        assert!(
            w["earliest"].as_str().unwrap()[..19] <= at[0].0[..19],
            "{w}"
        );
        // The moments before the in-place restore, on the branch it left, and after it.
        for (moment, want) in [(&at[1].0, "1,2"), (&at[2].0, "1,2,3"), (&fourth, "1,4")] {
            let copy = format!("{round}-{want}").replace(',', "");
            env.dbctl(&["clone", "shop", "--as", &copy, "--at", moment])
                .ok();
            assert_eq!(markers(env, &copy), want, "{round} at {moment}: {w}");
            env.dbctl(&["delete", &copy, "--yes", "--skip-final-snapshot"])
                .ok();
        }
    };
    check(&env, "restored");
    // The repository's copy of the abandoned branch restores its moments too.
    crate::repository::dir_offsite(&env);
    let before_markers = env
        .snapshots("shop")
        .into_iter()
        .find(|s| s["consistent_at"].as_str().unwrap()[..19] < at[0].0[..19])
        .unwrap()["id"]
        .to_string();
    back_up_to_offsite(&env, &before_markers);
    crate::repository::ship_past(&env, "shop", &at[2].0);
    env.dbctl(&[
        "clone",
        "shop",
        "--as",
        "offsite-12",
        "--from-repository",
        "--at",
        &at[1].0,
    ])
    .ok();
    assert_eq!(markers(&env, "offsite-12"), "1,2");
    // A recovery (a new incarnation from the newest snapshot and logs) keeps all of it.
    env.dbctl(&["recover", "shop", "--yes"]).ok();
    assert_eq!(markers(&env, "shop"), "1,4");
    check(&env, "recovered");
}

#[test]
fn a_mariadb_instance_is_resized_in_place_and_restarted_by_the_monitor_when_killed() {
    let mut env = TestEnv::new();
    env.init();
    env.add_config("\n[classes.roomy]\ncpus = 1.0\nmemory_mb = 1024\nmax_connections = 150\nstorage_gb = 1\n[monitor]\nfailure_budget_secs = 0\n");
    env.dbctl(&["create", "shop", "--engine", "mariadb"]).ok();
    ask(
        &env,
        "shop",
        "create database app; create table app.t (v int primary key); insert into app.t values (1), (2)",
    );
    assert_eq!(ask(&env, "shop", "select @@max_connections"), "100");

    let m = env
        .dbctl(&[
            "modify",
            "shop",
            "--class",
            "roomy",
            "--archive-timeout",
            "20",
            "--apply-immediately",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(m["instance"]["class"], "roomy", "{m}");
    assert_eq!(m["instance"]["archive_timeout_secs"], 20);
    assert_eq!(ask(&env, "shop", "select @@max_connections"), "150");
    assert_eq!(ask(&env, "shop", "select count(*) from app.t"), "2");
    // The new settings are in the server's file, so they outlive another restart.
    env.dbctl(&["reboot", "shop"]).ok();
    assert_eq!(ask(&env, "shop", "select @@max_connections"), "150");

    // Killed: the monitor's first check says failing, its verdict starts it again.
    env.dbctl(&["daemon", "--once"]).ok();
    let pids = crate::common::server_pids(&env.local_root());
    assert_eq!(pids.len(), 1);
    crate::common::kill_pid(pids[0]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    env.dbctl(&["daemon", "--once"]).ok();
    env.dbctl(&["daemon", "--once"]).ok();
    let d = env.dbctl(&["describe", "shop", "-o", "json"]).ok().json();
    assert_eq!(d["health"]["state"], "healthy", "{d}");
    assert_ne!(crate::common::server_pids(&env.local_root()), pids);
    assert_eq!(ask(&env, "shop", "select count(*) from app.t"), "2");
    let kinds = env.event_kinds("shop");
    assert!(kinds.iter().any(|k| k == "health_failing"), "{kinds:?}");
}

#[test]
fn an_idle_mariadb_clone_is_deleted_and_its_log_shipper_is_not_a_client() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "shop", "--engine", "mariadb"]).ok();
    env.dbctl(&["snapshot", "create", "shop"]).ok();
    env.dbctl(&["clone", "shop", "--as", "idle", "--delete-when-idle", "4s"])
        .ok();
    env.dbctl(&["clone", "shop", "--as", "used", "--delete-when-idle", "4s"])
        .ok();
    // `used` has a client; `idle` has only its own binary log shipper.
    let _client = crate::common::Reaped(client_running(&env, "used", "SELECT SLEEP(120)".into()));
    std::thread::sleep(std::time::Duration::from_secs(5));
    env.dbctl(&["monitor"]).ok();
    env.dbctl(&["sweep"]).ok();
    let names = env.instance_names();
    assert!(!names.contains(&"idle".to_string()), "{names:?}");
    assert!(names.contains(&"used".to_string()), "{names:?}");
}

#[test]
fn check_runs_check_table_and_the_dbas_queries_on_mariadb() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "shop", "--engine", "mariadb"]).ok();
    ask(
        &env,
        "shop",
        "create database app; create table app.items (id int primary key, name varchar(20)); insert into app.items values (1, 'a'), (2, 'b')",
    );
    let q = env.dir.join("checks.sql");
    std::fs::write(
        &q,
        "select count(*) = 2 from items; select name from items where id = 3;",
    )
    .unwrap();
    let out = env
        .dbctl(&[
            "check",
            "shop",
            "--database",
            "app",
            "--sql",
            q.to_str().unwrap(),
            "-o",
            "json",
        ])
        .fails_with(1);
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["engine_ok"], true, "{r}");
    assert_eq!(r["queries"][0]["ok"], true, "{r}");
    assert_eq!(r["queries"][1]["ok"], false, "{r}");
    assert!(r["queries"][1]["detail"]
        .as_str()
        .unwrap()
        .contains("no rows"));
}

#[test]
fn a_mariadb_drill_restores_checks_tables_and_removes_its_scratch_copy() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "shop", "--engine", "mariadb"]).ok();
    ask(
        &env,
        "shop",
        "create database app; create table app.items (id int primary key); insert into app.items values (1), (2)",
    );
    env.dbctl(&["snapshot", "create", "shop"]).ok();
    ask(&env, "shop", "insert into app.items values (3)");
    let q = env.dir.join("checks.sql");
    std::fs::write(&q, "select count(*) = 3 from items").unwrap();
    let r = env
        .dbctl(&[
            "drill",
            "shop",
            "--database",
            "app",
            "--check-sql",
            q.to_str().unwrap(),
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(r["passed"], true, "{r}");
    assert!(r["checks"]["tool"]
        .as_str()
        .unwrap()
        .starts_with("mariadb-check"));
    let left = env.dbctl(&["list", "-o", "json"]).ok().json();
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
}

/// Two databases of several types, a foreign key, and what pgloader leaves behind.
const MIXED_SCHEMA: &str = "create database shop; create database crm;
create table shop.customers (id int unsigned auto_increment primary key, name varchar(100) not null,
  email varchar(200), active tinyint(1) not null default 1, born date, created datetime(3),
  updated timestamp null, note text, tier enum('bronze','silver','gold'), tags set('a','b','c'),
  score double, ratio float, balance decimal(12,2), avatar blob, y year, t time, small smallint,
  big bigint, med mediumint, code char(4), doc json, flags bit(8), uid binary(16));
create table shop.orders (id bigint auto_increment primary key, customer_id int unsigned not null,
  total decimal(10,2), placed datetime, foreign key (customer_id) references shop.customers(id));
create table crm.notes (id int primary key, body mediumtext, at datetime);
create table crm.empty (id int primary key);
insert into shop.customers (name,email,active,born,created,updated,note,tier,tags,score,ratio,balance,avatar,y,t,small,big,med,code,doc,flags,uid) values
  ('Zoë Ünicode','z@x.org',1,'1990-02-03','2024-05-06 07:08:09.123','2024-05-06 07:08:09','two\\nlines ''quoted'' \"dq\" \\\\ back','gold','a,c',3.14159265358979,1.1,12345.67,x'00ff10',1999,'12:34:56',-32768,9223372036854775807,-8388608,'ab','{\"b\": 1, \"a\": [1,2]}',b'10100101',x'0123456789abcdef0123456789abcdef'),
  ('Null Person',null,0,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null),
  ('Émile','e@x.org',1,'2000-01-01','1999-12-31 23:59:59.999','2038-01-19 03:14:07','tab\\there','bronze','',1e20,-0.5,-0.01,'',2155,'23:59:59',0,0,0,'    ','[]',b'0',x'00');
insert into shop.orders (customer_id,total,placed) values (1,10.50,'2024-01-01 00:00:00'),(1,99.99,'2024-02-29 12:00:00'),(3,0.00,null);
use crm; insert into crm.notes select seq, concat('note ', seq, ' ', repeat('é', seq mod 7)), '2025-03-04 05:06:07' + interval seq minute from seq_1_to_500;
create trigger shop.trg before insert on shop.orders for each row set new.total = coalesce(new.total, 0);
create view shop.big_orders as select * from shop.orders where total > 50;
create procedure shop.p() select 1;";

#[test]
fn a_mariadb_database_cloned_into_postgresql_has_every_row_and_says_what_it_left() {
    let mut env = TestEnv::new();
    env.init();
    let far = env.ssh_host("far", 1, "ed25519", None);
    env.add_host(&far).ok();
    create_shop(&env, None);
    ask(&env, "shop", MIXED_SCHEMA);
    env.dbctl(&["snapshot", "create", "shop"]).ok();
    // The moment is a whole second: one after the snapshot's.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let (at, _, _) = commit_marker(
        &env,
        "shop",
        "insert into crm.notes values (501, 'in', now())",
    );
    std::thread::sleep(std::time::Duration::from_millis(2200));
    ask(
        &env,
        "shop",
        "insert into crm.notes values (502, 'after', now())",
    );
    std::thread::sleep(std::time::Duration::from_millis(2500));

    // Bad input: one line, nothing made.
    env.dbctl(&["clone", "shop", "--as", "x", "--engine", "oracle"])
        .one_line_error(2, "unknown engine");
    env.dbctl(&[
        "clone", "shop", "--as", "x", "--engine", "postgres", "--detach",
    ])
    .one_line_error(2, "--detach");
    env.dbctl_env(
        &["clone", "shop", "--as", "x", "--engine", "postgres"],
        &[("PATH", "/nonexistent")],
    )
    .one_line_error(2, "pgloader is not installed");
    env.dbctl(&[
        "clone", "shop", "--as", "x", "--engine", "postgres", "--host", "nohost",
    ])
    .one_line_error(2, "nohost");
    assert_eq!(env.instance_names(), ["shop"]);

    // The copy goes to the other host, as of a moment: the row after it is not there.
    let tmp = env.dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let r = env
        .dbctl_env(
            &[
                "clone", "shop", "--as", "shop-pg", "--engine", "postgres", "--at", &at, "--host",
                "far", "-o", "json",
            ],
            &[("TMPDIR", tmp.to_str().unwrap())],
        )
        .ok()
        .json();
    assert_eq!(r["verified"], true, "{r}");
    let tables: Vec<(String, i64, i64)> = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["checksum_equal"], true, "{t}");
            assert!(t.get("uncompared").is_none(), "every column compared: {t}");
            (
                t["table"].as_str().unwrap().to_string(),
                t["source_rows"].as_i64().unwrap(),
                t["target_rows"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tables,
        [
            ("crm.empty".to_string(), 0, 0),
            ("crm.notes".to_string(), 501, 501),
            ("shop.customers".to_string(), 3, 3),
            ("shop.orders".to_string(), 3, 3),
        ]
    );
    let left = r["not_carried"].to_string();
    for what in [
        "trigger shop.trg",
        "procedure shop.p",
        "view shop.big_orders",
    ] {
        assert!(left.contains(what), "{what} not named: {left}");
    }
    assert!(
        r["notes"].to_string().contains("tinyint(1) became boolean"),
        "{r}"
    );
    // The scratch clone is gone, and so is pgloader's command file with the passwords.
    assert_eq!(env.instance_names(), ["shop", "shop-pg"]);
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    let described = env
        .dbctl(&["describe", "shop-pg", "-o", "json"])
        .ok()
        .json();
    assert_eq!(described["engine"], "postgres");
    assert_eq!(described["host"], "far");
    assert_eq!(described["source_instance"], "shop");
    let from = r["from"].as_str().unwrap();
    assert!(from.contains("through the log archive"), "{from}");
    // It expired like the scratch clone only until it was verified.
    assert!(described["lifetime"].is_null(), "{described}");
    // The other way round is not supported, and says so.
    env.dbctl(&["clone", "shop-pg", "--as", "back", "--engine", "mariadb"])
        .one_line_error(
            2,
            "cloning a postgres instance into mariadb is not supported",
        );

    // The values themselves, as PostgreSQL reads them.
    let pg = |db: &str, sql: &str| {
        env.dbctl(&["connect", "shop-pg", "--", db, "-At", "-F", "|", "-c", sql])
            .ok()
            .stdout
            .trim_end()
            .to_string()
    };
    assert_eq!(
        pg(
            "shop",
            "select name, email, active, born, to_char(created at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), \
             replace(note, E'\\n', '/'), tier, array_to_string(tags, ','), score, ratio, balance, encode(avatar, 'hex'), \
             y, t, small, big, med, code, doc, flags, encode(uid, 'hex') from customers where id = 1"
        ),
        "Zoë Ünicode|z@x.org|t|1990-02-03|2024-05-06 07:08:09.123|two/lines 'quoted' \"dq\" \\ back|gold|a,c|3.14159265358979|1.1|12345.67|00ff10|1999|12:34:56|-32768|9223372036854775807|-8388608|ab  |{\"b\": 1, \"a\": [1,2]}|10100101|0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        pg("shop", "select count(*) filter (where email is null and born is null and tier is null and doc is null), count(*) filter (where not active) from customers"),
        "1|1"
    );
    assert_eq!(
        pg(
            "shop",
            "select string_agg(customer_id || ':' || total, ',' order by id) from orders"
        ),
        "1:10.50,1:99.99,3:0.00"
    );
    assert_eq!(
        pg("crm", "select count(*), max(id), sum(length(body)) from notes"),
        ask(&env, "shop", "select concat_ws('|', count(*), max(id), sum(char_length(body))) from crm.notes where id <= 501")
    );
    // The foreign key came across and holds.
    let refused = env.dbctl(&[
        "connect",
        "shop-pg",
        "--",
        "shop",
        "-c",
        "insert into orders (customer_id, total) values (99, 1)",
    ]);
    assert!(refused.stderr.contains("foreign key"), "{}", refused.stderr);

    // A run killed part-way: what it made is labelled, and once its lease lapses the sweep
    // deletes it.
    let mut run = env
        .command(&["clone", "shop", "--as", "killed-pg", "--engine", "postgres"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !env.instance_names().contains(&"killed-pg".to_string())
        && started.elapsed().as_secs() < 60
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    run.kill().unwrap();
    run.wait().unwrap();
    let labelled = env
        .dbctl(&[
            "list",
            "--label",
            "dbctl/loading-into=killed-pg",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert!(!labelled.as_array().unwrap().is_empty(), "{labelled}");
    std::thread::sleep(std::time::Duration::from_secs(22));
    env.dbctl(&["sweep"]).ok();
    assert_eq!(env.instance_names(), ["shop", "shop-pg"]);
    assert!(env
        .event_kinds("killed-pg")
        .contains(&"cross_engine_clone_failed".to_string()));

    // A table whose rows pgloader refuses (a TIME beyond PostgreSQL's day): the copy does not
    // add up, so it is deleted and the table named; the scratch clone goes too.
    ask(
        &env,
        "shop",
        "create table crm.odd (id int primary key, t time); insert into crm.odd values (1, '-838:59:59')",
    );
    let failed = env
        .dbctl(&["clone", "shop", "--as", "bad-pg", "--engine", "postgres"])
        .fails_with(1);
    assert!(failed.stdout.contains("crm.odd"), "{}", failed.stdout);
    assert!(
        failed.stderr.contains("did not add up") && failed.stderr.contains("bad-pg was deleted"),
        "{}",
        failed.stderr
    );
    assert_eq!(env.instance_names(), ["shop", "shop-pg"]);
    assert!(env
        .event_kinds("shop")
        .contains(&"cross_engine_clone_failed".to_string()));
}
