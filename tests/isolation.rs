//! One instance can never reach another's files or the host's: links planted in a data
//! directory, tablespaces, crafted snapshot streams.

use crate::common::{TestEnv, DBHOST};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

/// The data directory of the only instance called `name*` under a dbhost root.
fn data_dir_of(root: &Path, name: &str) -> std::path::PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(root.join("instances"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{name}-"))
        })
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].join("data")
}

/// The OS user an instance's server runs as, from dbhost's record of it.
fn os_user_of(root: &Path, name: &str) -> String {
    let meta = data_dir_of(root, name)
        .parent()
        .unwrap()
        .join("instance.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(meta).unwrap()).unwrap();
    v["os_user"].as_str().unwrap().to_string()
}

#[test]
fn links_planted_in_a_data_directory_are_never_followed() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "victim"]).ok();
    env.psql("victim", "create table t(x int); insert into t values (1)");
    // A root-owned file elsewhere on the host, and links to it where a database superuser
    // could put them (COPY ... TO PROGRAM runs as the server's OS user).
    let secret = env.dir.join("secret");
    std::fs::write(&secret, "root only").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let data = data_dir_of(&env.local_root(), "victim");
    std::os::unix::fs::symlink(&secret, data.join("evil")).unwrap();
    std::os::unix::fs::symlink(&secret, data.join("base/evil")).unwrap();
    std::os::unix::fs::symlink(&secret, data.join("pg_wal/00000099.history")).unwrap();
    // In its log archive: a sidecar that is a link to an endless file.
    let uid = data.parent().unwrap().file_name().unwrap().to_owned();
    let archive = env.local_root().join("wal").join(&uid);
    std::os::unix::fs::symlink("/dev/zero", archive.join("000000010000000000000099.json")).unwrap();
    std::fs::write(archive.join("000000010000000000000099"), b"x").unwrap();

    env.dbctl(&["clone", "victim", "--as", "copy", "--fresh"])
        .ok();
    let meta = std::fs::metadata(&secret).unwrap();
    assert_eq!(
        (meta.uid(), meta.mode() & 0o777),
        (0, 0o600),
        "a restore changed the owner or mode of a file a link pointed to"
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "root only");
    let copy = data_dir_of(&env.local_root(), "copy");
    for l in ["evil", "base/evil"] {
        assert!(
            std::fs::symlink_metadata(copy.join(l)).is_err(),
            "the clone holds the planted link {l}"
        );
    }
    assert_eq!(env.psql("copy", "select x from t"), "1");
    assert!(
        std::fs::symlink_metadata(copy.join("pg_wal/00000099.history")).is_err(),
        "the planted pg_wal link was copied"
    );
    env.dbctl(&["restorable-window", "victim"]).ok();
    // A file in the data directory that is not the server's own is never copied out.
    std::fs::write(data.join("base/not-mine"), "root's").unwrap();
    env.dbctl(&["snapshot", "create", "victim"])
        .fails_with(1)
        .stderr
        .contains("not the instance's")
        .then_some(())
        .expect("the refusal names the file's owner");
    // The snapshot itself kept no link either, and verifies.
    let snaps = env.snapshots("victim");
    let id = snaps[0]["id"].to_string();
    env.dbctl(&["snapshot", "verify", &id]).ok();
}

#[test]
fn a_clone_gets_its_own_copy_of_each_tablespace() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "src"]).ok();
    // A tablespace outside the data directory, owned by the server's OS user as
    // CREATE TABLESPACE requires.
    let ts = env.dir.join("ts");
    std::fs::create_dir(&ts).unwrap();
    let pg = nix::unistd::User::from_name(&os_user_of(&env.local_root(), "src"))
        .unwrap()
        .unwrap();
    nix::unistd::chown(&ts, Some(pg.uid), Some(pg.gid)).unwrap();
    std::fs::set_permissions(&ts, std::fs::Permissions::from_mode(0o700)).unwrap();
    env.psql(
        "src",
        &format!("create tablespace ts location '{}'", ts.display()),
    );
    env.psql(
        "src",
        "create table t(x int) tablespace ts; insert into t select generate_series(1, 1000)",
    );
    env.dbctl(&["clone", "src", "--as", "copy", "--fresh"]).ok();
    env.psql("copy", "insert into t select generate_series(1001, 20000)");
    env.psql("copy", "checkpoint");
    assert_eq!(env.psql("copy", "select count(*) from t"), "20000");
    assert_eq!(env.psql("src", "select count(*) from t"), "1000");
    // The clone's tablespace is its own, inside its own directory.
    let copy = data_dir_of(&env.local_root(), "copy");
    let oid = env.psql("copy", "select oid from pg_tablespace where spcname = 'ts'");
    let link = copy.join("pg_tblspc").join(&oid);
    let resolved = link.canonicalize().unwrap();
    assert!(
        resolved.starts_with(copy.canonicalize().unwrap()),
        "the clone's tablespace is at {}",
        resolved.display()
    );
    // The source's tablespace directory has no files of the clone's.
    let relpath = env.psql("copy", "select pg_relation_filepath('t')");
    let src_rel = env.psql("src", "select pg_relation_filepath('t')");
    assert_eq!(relpath, src_rel, "same relation file names on both");
    let in_source = std::fs::metadata(
        env.local_root()
            .join("instances")
            .join(data_dir_of(&env.local_root(), "src").parent().unwrap())
            .join("data")
            .join(&src_rel),
    )
    .unwrap()
    .len();
    let in_copy = std::fs::metadata(copy.join(&relpath)).unwrap().len();
    assert!(in_copy > in_source, "{in_copy} vs {in_source}");
    // A clone of the clone works from its (now internal) tablespace too.
    env.dbctl(&["clone", "copy", "--as", "copy2", "--fresh"])
        .ok();
    assert_eq!(env.psql("copy2", "select count(*) from t"), "20000");
}

/// One record of dbhost's bulk stream.
fn record(out: &mut Vec<u8>, kind: u8, path: &str, mode: u32, body: Option<&[u8]>) {
    let h = serde_json::to_vec(&serde_json::json!({"path": path, "mode": mode})).unwrap();
    out.push(kind);
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    out.extend_from_slice(&h);
    if let Some(b) = body {
        out.extend_from_slice(&(b.len() as u64).to_be_bytes());
        out.extend_from_slice(b);
    }
}

fn import(root: &Path, name: &str, stream: &[u8]) -> (bool, String) {
    let mut child = Command::new(DBHOST)
        .arg("--root")
        .arg(root)
        .arg("rpc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let req = serde_json::json!({"protocol": dbctl::wire::PROTOCOL, "request_id": format!("t-{name}"), "op": "snapshot_import", "snapshot": name});
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{req}").unwrap();
    let _ = stdin.write_all(stream);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_crafted_snapshot_stream_is_refused_or_defused() {
    let env = TestEnv::new();
    let root = env.dir.join("host");
    std::fs::create_dir_all(&root).unwrap();
    let body = b"#!/bin/sh\nid\n";
    let sha = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(body);
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let manifest = serde_json::json!({"files": {"tool": {"size": body.len(), "sha256": sha}}});
    let info = serde_json::json!({"snapshot": "s", "instance": "x", "engine": "postgres",
        "engine_version": "15", "position": "0/0", "timeline": 1, "consistent_at": "", "taken_at": "",
        "backend": "plain", "files": 1, "size_bytes": body.len(), "shared_files": 0, "admin_user": "a"});
    let base = |extra: &dyn Fn(&mut Vec<u8>)| {
        let mut s = Vec::new();
        record(&mut s, 1, "data", 0o777, None);
        record(
            &mut s,
            2,
            "manifest.json",
            0o644,
            Some(manifest.to_string().as_bytes()),
        );
        record(
            &mut s,
            2,
            "snapshot.json",
            0o644,
            Some(info.to_string().as_bytes()),
        );
        extra(&mut s);
        s.push(0);
        s
    };
    // setuid and world-writable modes are dropped.
    let (ok, err) = import(
        &root,
        "modes",
        &base(&|s| record(s, 2, "data/tool", 0o6777, Some(body))),
    );
    assert!(ok, "{err}");
    let tool = root.join("snapshots/modes/data/tool");
    assert_eq!(
        std::fs::metadata(&tool).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(root.join("snapshots/modes/data"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o700
    );
    // A file outside data/ that no manifest names, a data file the manifest lacks, a path
    // out of the snapshot: each refused, and nothing of the import kept.
    for (name, extra) in [
        ("outside", "hook.sh"),
        ("unlisted", "data/extra"),
        ("escape", "../../escaped"),
    ] {
        let (ok, err) = import(
            &root,
            name,
            &base(&|s| {
                record(s, 2, "data/tool", 0o600, Some(body));
                record(s, 2, extra, 0o755, Some(b"x"));
            }),
        );
        assert!(!ok, "{name} was accepted");
        assert!(err.contains("import of snapshot"), "{err}");
        assert!(!root.join("snapshots").join(name).exists());
        assert!(!root.join(format!("snapshots/{name}.partial")).exists());
    }
    assert!(!env.dir.join("escaped").exists());
}

#[test]
fn an_instance_superuser_cannot_reach_another_instance_or_the_snapshots() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "prod"]).ok();
    env.dbctl(&["snapshot", "create", "prod"]).ok();
    env.dbctl(&["clone", "prod", "--as", "test"]).ok();
    let root = env.local_root().canonicalize().unwrap();
    let (prod_user, test_user) = (os_user_of(&root, "prod"), os_user_of(&root, "test"));
    assert_ne!(prod_user, test_user, "two instances share an OS user");
    // The servers run as those users, not root.
    for (name, user) in [("prod", &prod_user), ("test", &test_user)] {
        let pidfile = data_dir_of(&root, name).join("postmaster.pid");
        let pid = std::fs::read_to_string(pidfile).unwrap();
        let pid = pid.lines().next().unwrap();
        let uid = std::fs::metadata(format!("/proc/{pid}")).unwrap().uid();
        let want = nix::unistd::User::from_name(user).unwrap().unwrap().uid;
        assert_eq!(uid, want.as_raw(), "{name} runs as uid {uid}");
    }
    // The tester's superuser, with a shell through COPY ... TO PROGRAM, reaches nothing of
    // production's: data, log archive, server log, snapshots.
    let prod_data = data_dir_of(&root, "prod");
    let prod_uid = prod_data
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let journal = std::fs::read_dir(root.join("requests"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    for path in [
        prod_data.join("global/pg_control"),
        prod_data.parent().unwrap().join("server.log"),
        // dbhost's own records: the other instance's and the request journal.
        prod_data.parent().unwrap().join("instance.json"),
        prod_data.parent().unwrap().join("port"),
        journal.with_extension("lock"),
        journal,
    ] {
        let e = env.psql_fails(
            "test",
            &format!("select pg_read_binary_file('{}')", path.display()),
        );
        assert!(e.contains("ermission denied"), "{path:?}: {e}");
    }
    env.psql("test", "create table out(line text)");
    for dir in [
        root.join("wal").join(&prod_uid),
        root.join("snapshots"),
        root.join("requests"),
        prod_data.clone(),
    ] {
        let e = env.psql_fails(
            "test",
            &format!("copy out from program 'ls {}'", dir.display()),
        );
        assert!(e.contains("program"), "{dir:?}: {e}");
    }
    // Deleting an instance removes its OS user.
    env.dbctl(&["delete", "test", "--yes", "--skip-final-snapshot"])
        .ok();
    assert!(nix::unistd::User::from_name(&test_user).unwrap().is_none());
}

#[test]
fn connect_keeps_the_password_off_every_command_line() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    let r = env
        .dbctl(&[
            "connect",
            "db",
            "--",
            "-X",
            "-A",
            "-t",
            "-c",
            "select current_user",
        ])
        .ok();
    assert_eq!(r.stdout.trim(), "dbadmin");
    // What the client's own command line holds, read from inside it.
    let r = env
        .dbctl(&[
            "connect",
            "db",
            "--",
            "-X",
            "-c",
            "\\! tr '\\0' ' ' < /proc/$PPID/cmdline",
        ])
        .ok();
    let url = env.dbctl(&["url", "db"]).ok().stdout;
    let password = url.split(':').nth(2).unwrap().split('@').next().unwrap();
    assert!(r.stdout.contains("psql"), "{}", r.stdout);
    assert!(!r.stdout.contains(password), "{}", r.stdout);
    env.dbctl(&["connect", "nope"])
        .one_line_error(2, "no instance named `nope`");
}

#[test]
fn dbhost_reads_a_bounded_request_line_and_refuses_fields_it_does_not_know() {
    let env = TestEnv::new();
    let root = env.dir.join("host");
    std::fs::create_dir_all(&root).unwrap();
    let rpc = || {
        Command::new(DBHOST)
            .arg("--root")
            .arg(&root)
            .arg("rpc")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // 64 MiB with no newline: dbhost stops reading past its bound and answers (before, it
    // grew by the whole line, and a 1.5 GB one made it 1.5 GB).
    let mut child = rpc();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1 << 20];
        let mut sent = 0usize;
        for _ in 0..64 {
            match stdin.write_all(&chunk) {
                Ok(()) => sent += chunk.len(),
                Err(_) => break,
            }
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    let sent = writer.join().unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("over 4 MiB: refused unread"), "{said}");
    assert!(sent <= 6 << 20, "it took {sent} bytes");
    // A field no request has, at the top or in a spec: refused, naming it.
    for req in [
        serde_json::json!({"protocol": dbctl::wire::PROTOCOL, "request_id": "a", "op": "facts", "evil": 1}),
        serde_json::json!({"protocol": dbctl::wire::PROTOCOL, "request_id": "b", "op": "status", "instance": "x", "evil": 1}),
    ] {
        let mut child = rpc();
        writeln!(child.stdin.take().unwrap(), "{req}").unwrap();
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{req}: {said}");
        assert!(said.contains("evil"), "{req}: {said}");
    }
}
