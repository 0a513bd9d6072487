//! Snapshots and clones: online under load, consistent, verified, on plain and btrfs.

use crate::common::TestEnv;
use std::process::Command;

/// A checksum of a table's rows in a stable order.
fn table_sum(env: &TestEnv, instance: &str, table: &str, order: &str) -> String {
    env.psql(
        instance,
        &format!(
            "select md5(coalesce(string_agg(t::text, ',' order by {order}), '')) from {table} t"
        ),
    )
}

/// pgbench's own invariant: balances equal the sum of the history, in every table. Only a
/// transactionally consistent copy keeps it.
fn pgbench_consistent(env: &TestEnv, instance: &str) -> bool {
    env.psql(
        instance,
        "select (select sum(abalance) from pgbench_accounts) = (select coalesce(sum(delta), 0) from pgbench_history)
            and (select sum(bbalance) from pgbench_branches) = (select coalesce(sum(delta), 0) from pgbench_history)
            and (select sum(tbalance) from pgbench_tellers) = (select coalesce(sum(delta), 0) from pgbench_history)",
    ) == "t"
}

#[test]
fn snapshots_and_clones_under_pgbench_load_are_consistent_and_lose_no_transaction() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "src"]).ok();
    let init = env
        .pgbench("src", &["-i", "-s", "4", "-q"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    env.psql(
        "src",
        "create table marker as select g, md5(g::text) as h from generate_series(1, 5000) g",
    );
    let marker = table_sum(&env, "src", "marker", "g");
    // Let the files settle so that a later snapshot may share them (see the plain backend).
    std::thread::sleep(std::time::Duration::from_millis(2500));

    let load = env
        .pgbench("src", &["-c", "4", "-j", "2", "-T", "12", "-n"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let snap = env
        .dbctl(&[
            "snapshot",
            "create",
            "src",
            "--tag",
            "under-load",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(snap["status"], "available");
    assert_eq!(snap["tag"], "under-load");
    assert!(
        snap["position"].as_str().unwrap().contains('/'),
        "an LSN: {snap}"
    );
    let snap_id = snap["id"].to_string();
    let c1 = env
        .dbctl(&[
            "clone",
            "src",
            "--as",
            "c1",
            "--snapshot",
            &snap_id,
            "--class",
            "medium",
            "--storage-gb",
            "2",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(c1["status"], "available");
    assert_eq!(c1["class"], "medium");
    assert_eq!(c1["source_instance"], "src");
    assert_eq!(c1["source_snapshot_id"], snap["id"]);
    assert_ne!(
        c1["port"],
        env.dbctl(&["describe", "src", "-o", "json"]).ok().json()["port"]
    );
    env.dbctl(&["clone", "src", "--as", "c2", "--fresh", "--storage-gb", "2"])
        .ok();
    assert_eq!(env.status_of("src"), "available");
    let load = load.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&load.stdout);
    assert!(
        load.status.success(),
        "pgbench failed: {report}{}",
        String::from_utf8_lossy(&load.stderr)
    );
    assert!(
        report.contains("number of failed transactions: 0 "),
        "{report}"
    );
    let processed: u64 = report
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
        .and_then(|n| n.split('/').next()?.trim().parse().ok())
        .unwrap();
    assert!(processed > 100, "{report}");

    for clone in ["c1", "c2"] {
        assert_eq!(table_sum(&env, clone, "marker", "g"), marker, "{clone}");
        assert!(
            pgbench_consistent(&env, clone),
            "{clone} is not transactionally consistent"
        );
        assert_eq!(
            env.psql(clone, "show shared_buffers"),
            if clone == "c1" { "1GB" } else { "256MB" }
        );
    }
    // Writes to a clone stay there.
    env.psql("c1", "insert into marker values (-1, 'clone only')");
    assert_eq!(
        env.psql("src", "select count(*) from marker where g = -1"),
        "0"
    );
    // With the load stopped, a fresh clone equals the source table for table.
    env.dbctl(&["clone", "src", "--as", "c3", "--fresh", "--storage-gb", "2"])
        .ok();
    for (table, order) in [
        ("pgbench_accounts", "aid"),
        ("pgbench_history", "mtime, aid, tid, delta"),
        ("pgbench_branches", "bid"),
    ] {
        assert_eq!(
            table_sum(&env, "c3", table, order),
            table_sum(&env, "src", table, order),
            "{table}"
        );
    }
    // Unchanged files are shared with the previous snapshot rather than copied again.
    let second = env
        .dbctl(&["snapshot", "create", "src", "-o", "json"])
        .ok()
        .json();
    assert!(second["shared_files"].as_u64().unwrap() > 0, "{second}");
    env.dbctl(&["snapshot", "verify", &second["id"].to_string()])
        .ok();
    assert_eq!(env.running_servers().len(), 4);
}

#[test]
fn verify_and_clone_catch_a_corrupted_snapshot() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "src"]).ok();
    env.psql("src", "create table big as select g, repeat(md5(g::text), 10) as pad from generate_series(1, 20000) g");
    let snap = env
        .dbctl(&["snapshot", "create", "src", "-o", "json"])
        .ok()
        .json();
    let id = snap["id"].to_string();
    env.dbctl(&["snapshot", "verify", &id]).ok();
    // Flip bytes in the middle of the largest data file, keeping its size.
    let data = env
        .local_root()
        .join("snapshots")
        .join(snap_uid(&env))
        .join("data");
    let victim = largest_file(&data.join("base"));
    flip_middle_byte(&victim);
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
    let before = env.instance_count();
    let r = env
        .dbctl(&["clone", "src", "--as", "bad", "--snapshot", &id])
        .fails_with(1);
    assert!(
        r.stderr.contains("failed verification") && r.stderr.contains(&rel),
        "{}",
        r.stderr
    );
    assert_eq!(env.instance_count(), before, "the refused clone is listed");
    assert_eq!(env.running_servers().len(), 1);
    let dirs: Vec<_> = std::fs::read_dir(env.local_root().join("instances"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(dirs.len(), 1, "half-made clone left: {dirs:?}");
}

/// The host's name for the newest snapshot (the one a test just took).
pub(crate) fn snap_uid(env: &TestEnv) -> String {
    let all = env.dbctl(&["snapshot", "list", "-o", "json"]).ok().json();
    let newest = all
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|s| s["id"].as_i64().unwrap())
        .unwrap()["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        env.local_root().join("snapshots").join(&newest).is_dir(),
        "{newest}"
    );
    newest
}

pub(crate) fn largest_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut best = (0, std::path::PathBuf::new());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else if m.len() > best.0 {
                best = (m.len(), e.path());
            }
        }
    }
    best.1
}

/// Flips the bits of the byte in the middle of `path`, keeping its size.
pub(crate) fn flip_middle_byte(path: &std::path::Path) {
    make_writable(path);
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

fn make_writable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn delete_keeps_a_final_snapshot_that_brings_the_data_back() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "gone"]).ok();
    env.psql("gone", "create table keep as select 42 as answer");
    let r = env.dbctl(&["delete", "gone", "--yes"]).ok();
    let snaps = env.snapshots("gone");
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0]["kind"], "final");
    assert_eq!(snaps[0]["status"], "available");
    let id = snaps[0]["id"].to_string();
    assert!(
        r.stderr.contains(&format!("kept final snapshot {id}")),
        "{}",
        r.stderr
    );
    // What it holds, where, and what it added on disk.
    assert!(
        snaps[0]["new_bytes"].as_u64().unwrap() > 1 << 20,
        "{}",
        snaps[0]
    );
    let table = env.dbctl(&["snapshot", "list", "gone"]).ok().stdout;
    assert!(table.contains("host") && table.contains("local"), "{table}");
    env.dbctl(&["clone", "gone", "--as", "back", "--snapshot", &id])
        .ok();
    assert_eq!(env.psql("back", "select answer from keep"), "42");
    // Without a snapshot to name, a deleted source is refused with a pointer to them.
    env.dbctl(&["clone", "gone", "--as", "again"])
        .one_line_error(2, "--snapshot ID");
    env.dbctl(&["delete", "back", "--yes", "--skip-final-snapshot"])
        .ok();
    assert!(env.snapshots("back").is_empty());
    env.dbctl(&["snapshot", "delete", &id])
        .one_line_error(2, "last one of `gone`");
    env.dbctl(&["snapshot", "delete", &id, "--yes"]).ok();
    assert!(env.snapshots("gone").is_empty());
    assert_eq!(
        std::fs::read_dir(env.local_root().join("snapshots"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn bad_snapshot_and_clone_input_changes_nothing() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "one"]).ok();
    env.dbctl(&["create", "two"]).ok();
    let snap = env
        .dbctl(&["snapshot", "create", "two", "-o", "json"])
        .ok()
        .json()["id"]
        .to_string();
    let before = env.catalog_state();
    let cases: &[(&[&str], &str)] = &[
        (&["clone", "nope", "--as", "x"], "no instance named `nope`"),
        (&["clone", "one", "--as", "two"], "already exists"),
        (
            &["clone", "one", "--as", "Bad_Name"],
            "invalid instance name",
        ),
        (
            &["clone", "one", "--as", "x", "--snapshot", &snap],
            "is of `two`",
        ),
        (
            &["clone", "one", "--as", "x", "--snapshot", "999"],
            "no snapshot 999",
        ),
        (
            &["clone", "one", "--as", "x", "--class", "nope"],
            "unknown class",
        ),
        (
            &["clone", "one", "--as", "x", "--host", "nope"],
            "unknown host",
        ),
        (&["snapshot", "create", "nope"], "no instance named"),
        (&["snapshot", "show", "999"], "no snapshot 999"),
        (&["snapshot", "delete", "999"], "no snapshot 999"),
        (&["snapshot", "verify", "999"], "no snapshot 999"),
    ];
    for (args, needle) in cases {
        env.dbctl(args).one_line_error(2, needle);
    }
    assert_eq!(env.catalog_state(), before);
    let plan = env
        .dbctl(&["clone", "one", "--as", "x", "--dry-run", "-o", "json"])
        .ok()
        .json();
    let steps: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    // As the source is now: its base snapshot and every log after it, then the clone's own
    // base snapshot.
    assert_eq!(
        steps,
        [
            "restore",
            "start",
            "set-password",
            "snapshot-base",
            "mark-available"
        ]
    );
    assert_eq!(env.catalog_state(), before);
}

#[test]
fn btrfs_snapshots_are_read_only_subvolumes_and_clones_are_writable_snapshots() {
    let mut env = TestEnv::new();
    let Some(mount) = env.btrfs(4096) else { return };
    env.init_at(mount.join("root"));
    let host = env
        .dbctl(&["host", "show", "local", "-o", "json"])
        .ok()
        .json();
    assert_eq!(host["storage_backend"], "btrfs");
    env.dbctl(&["create", "src", "--storage-gb", "1"]).ok();
    env.psql(
        "src",
        "create table t as select g from generate_series(1, 50000) g",
    );
    let snap = env
        .dbctl(&["snapshot", "create", "src", "-o", "json"])
        .ok()
        .json();
    assert_eq!(snap["backend"], "btrfs");
    let snap_data = mount
        .join("root/snapshots")
        .join(snap_uid_at(&mount.join("root")))
        .join("data");
    let ro = Command::new("btrfs")
        .args(["property", "get", "-ts"])
        .arg(&snap_data)
        .arg("ro")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ro.stdout).trim(), "ro=true");
    env.dbctl(&[
        "clone",
        "src",
        "--as",
        "cl",
        "--snapshot",
        &snap["id"].to_string(),
        "--storage-gb",
        "1",
    ])
    .ok();
    assert_eq!(env.psql("cl", "select count(*) from t"), "50000");
    env.psql("cl", "insert into t values (-1)");
    assert_eq!(env.psql("src", "select count(*) from t"), "50000");
    // Every data directory is a subvolume (inode 256 is a subvolume's root).
    use std::os::unix::fs::MetadataExt;
    for inst in std::fs::read_dir(mount.join("root/instances"))
        .unwrap()
        .flatten()
    {
        assert_eq!(
            std::fs::metadata(inst.path().join("data")).unwrap().ino(),
            256,
            "{:?}",
            inst.path()
        );
    }
    env.dbctl(&["delete", "cl", "--yes", "--skip-final-snapshot"])
        .ok();
    env.dbctl(&["delete", "src", "--yes", "--skip-final-snapshot"])
        .ok();
    env.dbctl(&["snapshot", "delete", &snap["id"].to_string(), "--yes"])
        .ok();
    assert_eq!(
        std::fs::read_dir(mount.join("root/snapshots"))
            .unwrap()
            .count(),
        0
    );
}

fn snap_uid_at(root: &std::path::Path) -> String {
    std::fs::read_dir(root.join("snapshots"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .file_name()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn btrfs_asked_for_where_the_root_is_not_btrfs_is_refused() {
    let mut env = TestEnv::new();
    env.init();
    let h = env.ssh_host("notbtrfs", 1, "ed25519", None);
    let conf = h.root.join("dbhost.toml");
    let text = std::fs::read_to_string(&conf).unwrap() + "storage = \"btrfs\"\n";
    std::fs::write(&conf, text).unwrap();
    let before = env.catalog_state();
    env.add_host(&h).one_line_error(2, "not on that filesystem");
    assert_eq!(env.catalog_state(), before);
}

/// The WAL segment holding the last byte before `lsn` ("X/Y").
fn last_segment_suffix(lsn: &str) -> String {
    let (hi, lo) = lsn.split_once('/').unwrap();
    let v = (u64::from_str_radix(hi, 16).unwrap() << 32) | u64::from_str_radix(lo, 16).unwrap();
    let seg = (v - 1) / (16 << 20);
    format!("{:08X}{:08X}", seg / 256, seg % 256)
}

#[test]
fn a_snapshot_holds_no_log_segment_past_its_stop() {
    use std::os::unix::fs::MetadataExt;
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "src"]).ok();
    env.psql(
        "src",
        "create table t as select g from generate_series(1, 1000) g",
    );
    // A segment under a future name, as PostgreSQL keeps recycled ones, owned by the server.
    let data = std::fs::read_dir(env.local_root().join("instances"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("data"))
        .find(|d| d.exists())
        .unwrap();
    let future = data.join("pg_wal/0000000100000000000000F0");
    std::fs::write(&future, vec![0u8; 16 << 20]).unwrap();
    let owner = std::fs::metadata(&data).unwrap();
    std::os::unix::fs::chown(&future, Some(owner.uid()), Some(owner.gid())).unwrap();

    let snap = env
        .dbctl(&["snapshot", "create", "src", "-o", "json"])
        .ok()
        .json();
    let stop = last_segment_suffix(snap["position"].as_str().unwrap());
    let wal = env
        .local_root()
        .join("snapshots")
        .join(snap_uid(&env))
        .join("data/pg_wal");
    let segments: Vec<String> = std::fs::read_dir(&wal)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 24)
        .collect();
    assert!(!segments.is_empty(), "no segment reaches the stop position");
    for s in &segments {
        assert!(
            s[8..] <= *stop,
            "{s} is past the stop position's segment {stop}"
        );
    }
    // What the snapshot keeps still restores.
    env.dbctl(&["clone", "src", "--as", "copy"]).ok();
    assert_eq!(env.psql("copy", "select count(*) from t"), "1000");
}

/// Bytes of the files in `dir` that no other snapshot shares (one link each).
fn unshared_bytes(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = std::fs::symlink_metadata(e.path()).unwrap();
        if meta.is_dir() {
            total += unshared_bytes(&e.path());
        } else if meta.is_file() && meta.nlink() == 1 {
            total += meta.len();
        }
    }
    total
}

#[test]
fn a_changed_file_costs_its_compressed_size_and_every_copy_reads_back_its_content() {
    use std::os::unix::fs::MetadataExt;
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "src"]).ok();
    env.psql(
        "src",
        "create table t as select g, repeat('row ' || (g % 7), 40) as pad from generate_series(1, 60000) g",
    );
    // Files written this long before a snapshot count as settled: the next one shares them.
    env.psql("src", "checkpoint");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let first = env
        .dbctl(&["snapshot", "create", "src", "-o", "json"])
        .ok()
        .json();
    // Every page of the table changes.
    env.psql("src", "update t set g = g + 1");
    let second = env
        .dbctl(&["snapshot", "create", "src", "-o", "json"])
        .ok()
        .json();
    let rel = env.psql("src", "select pg_relation_filepath('t')");
    let raw: u64 = env
        .psql("src", "select pg_relation_size('t')")
        .parse()
        .unwrap();
    let snaps = env.local_root().join("snapshots");
    let (a, b) = (
        snaps.join(first["uid"].as_str().unwrap()).join("data"),
        snaps.join(second["uid"].as_str().unwrap()).join("data"),
    );
    let (old, new) = (
        std::fs::metadata(a.join(&rel)).unwrap(),
        std::fs::metadata(b.join(&rel)).unwrap(),
    );
    assert_ne!(old.ino(), new.ino(), "the changed file is stored anew");
    assert!(
        new.len() * 4 < raw,
        "the changed file takes {} bytes on disk for {raw} of content",
        new.len()
    );
    // What the snapshot says it added is what it holds alone on disk, and far less than
    // the changed file's own size.
    let added = second["new_bytes"].as_u64().unwrap();
    assert_eq!(added, unshared_bytes(&b));
    assert!(added < raw, "{added} new bytes for a {raw}-byte table");
    assert!(second["shared_files"].as_u64().unwrap() > 0);

    // The content comes back whole: checked and cloned here (the stream to another host
    // decodes too: the cross-host clones in ssh.rs check every file on arrival).
    let id = second["id"].to_string();
    env.dbctl(&["snapshot", "verify", &id]).ok();
    let want = table_sum(&env, "src", "t", "g");
    env.dbctl(&["clone", "src", "--as", "copy", "--snapshot", &id])
        .ok();
    assert_eq!(table_sum(&env, "copy", "t", "g"), want);
}

#[test]
fn a_damaged_file_in_one_snapshot_is_never_carried_into_the_next() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "src"]).ok();
    env.psql(
        "src",
        "create table big as select g, repeat(md5(g::text), 10) as pad from generate_series(1, 20000) g",
    );
    // Hint bits set and flushed: the table's file does not change again.
    env.psql("src", "vacuum freeze big");
    env.psql("src", "checkpoint");
    let rel = env.psql("src", "select pg_relation_filepath('big')");
    // Settled before the capture: the next snapshot may share the file with this one.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let a = env
        .dbctl(&["snapshot", "create", "src", "-o", "json"])
        .ok()
        .json()["id"]
        .to_string();
    let stored = env
        .local_root()
        .join("snapshots")
        .join(snap_uid(&env))
        .join("data")
        .join(&rel);
    flip_middle_byte(&stored);
    let b = env
        .dbctl(&["snapshot", "create", "src", "-o", "json"])
        .ok()
        .json()["id"]
        .to_string();
    // The new snapshot holds a good copy (before, it linked the damaged one and every later
    // snapshot failed verification until the table changed).
    env.dbctl(&["snapshot", "verify", &b]).ok();
    let r = env.dbctl(&["snapshot", "verify", &a]).fails_with(1);
    assert!(
        r.stdout.contains(&format!("{rel}: checksum mismatch")),
        "{}",
        r.stdout
    );
    env.dbctl(&["clone", "src", "--as", "copy", "--snapshot", &b])
        .ok();
    assert_eq!(env.psql("copy", "select count(*) from big"), "20000");
}
