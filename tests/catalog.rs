//! A catalog on PostgreSQL shared by several control machines (these tests run in
//! scripts/test's second pass, which gives every test a PostgreSQL catalog).

use crate::common::TestEnv;

#[test]
fn two_homes_share_one_postgres_catalog_and_open_its_secrets_with_the_team_key() {
    let mut a = TestEnv::new();
    let Some(url) = a.catalog.clone() else {
        return; // SQLite catalogs: nothing is shared.
    };
    a.init();
    // Another control machine's init never takes this one's `local` for its own in silence.
    let mut other = TestEnv::new();
    other.catalog = Some(url.clone());
    other
        .dbctl(&["init"])
        .one_line_error(2, "registered by another control machine");
    a.dbctl(&["create", "db"]).ok();
    a.psql("db", "create table t (v int); insert into t values (1)");
    let password_url = a.dbctl(&["url", "db"]).ok().stdout;
    let password = password_url
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    // The password is sealed in the catalog, not in the home and not in clear.
    let files: Vec<_> = std::fs::read_dir(a.home.join("secrets"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, vec!["catalog.key".to_string()], "{files:?}");
    assert_eq!(
        a.catalog_i64(&format!(
            "SELECT count(*) FROM secrets WHERE sealed LIKE '%{password}%'"
        )),
        0
    );
    assert_eq!(a.catalog_i64("SELECT count(*) FROM secrets"), 1);

    // A second control machine: its own home on the same catalog and the same local host.
    let mut b = TestEnv::new();
    b.catalog = Some(url);
    let root = a.local_root();
    let [lo, hi] = a.ports(0);
    let joined = b
        .dbctl(&[
            "init",
            "--local-root",
            root.to_str().unwrap(),
            "--local-ports",
            &format!("{lo}-{hi}"),
        ])
        .ok();
    assert!(
        joined.stderr.contains("catalog key import"),
        "{}",
        joined.stderr
    );
    let listed = b.dbctl(&["list", "-o", "json"]).ok().json();
    assert_eq!(listed[0]["name"], "db", "the same fleet");
    b.dbctl(&["url", "db"])
        .one_line_error(2, "dbctl catalog key import FILE");
    // A key that is not this catalog's is refused; the one exported from A opens it.
    let stranger = b.dir.join("stranger.key");
    std::fs::write(
        &stranger,
        "dbctl-team-key-v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    )
    .unwrap();
    b.dbctl(&["catalog", "key", "import", stranger.to_str().unwrap()])
        .one_line_error(2, "not this catalog's");
    let exported = a.dir.join("team.key");
    a.dbctl(&["catalog", "key", "export", exported.to_str().unwrap()])
        .ok();
    a.dbctl(&["catalog", "key", "export", exported.to_str().unwrap()])
        .one_line_error(2, "does not exist yet");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&exported).unwrap().permissions().mode() & 0o777,
        0o600
    );
    b.dbctl(&["catalog", "key", "import", exported.to_str().unwrap()])
        .ok();
    assert_eq!(b.dbctl(&["url", "db"]).ok().stdout, password_url);
    assert_eq!(b.psql("db", "select v from t"), "1");

    // Two operators on one instance: while A's workflow holds it, B is told who has it.
    let wf = a
        .dbctl(&["snapshot", "create", "db", "--detach"])
        .ok()
        .stdout
        .trim()
        .to_string();
    b.dbctl(&["snapshot", "create", "db"])
        .one_line_error(2, &format!("workflow {wf}"));
    b.dbctl(&["sweep"]).ok();
    assert_eq!(
        a.dbctl(&["workflow", "show", &wf, "-o", "json"])
            .ok()
            .json()["status"],
        "succeeded"
    );
}

#[test]
fn an_sqlite_catalog_migrated_to_postgres_is_used_with_its_secrets() {
    let Ok(base) = std::env::var("DBCTL_TEST_CATALOG") else {
        return; // No PostgreSQL server for catalogs in this pass.
    };
    let mut env = TestEnv::new();
    env.catalog = None; // Starts as a DBA's own SQLite file.
    env.init();
    env.dbctl(&["create", "db"]).ok();
    env.psql("db", "create table t (v int); insert into t values (7)");
    env.dbctl(&["snapshot", "create", "db"]).ok();
    let url = env.dbctl(&["url", "db"]).ok().stdout;

    // An empty database for it, on the test catalog server.
    let name = format!("dbctl_m{:08x}", rand::random::<u32>());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let target = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let with_password = target.replacen("postgres@", "postgres:pw@", 1);
    env.dbctl(&["catalog", "migrate", "--to", &with_password])
        .one_line_error(2, "PGPASSWORD");
    let copied = env
        .dbctl(&["catalog", "migrate", "--to", &target, "-o", "json"])
        .ok()
        .json();
    assert!(copied["rows"].as_u64().unwrap() > 5, "{copied}");
    assert_eq!(copied["secrets"], 1);
    // Never into a catalog that holds anything.
    env.dbctl(&["catalog", "migrate", "--to", &target])
        .one_line_error(2, "not empty");

    // The home now uses it: the same fleet, the same password, new ids after the old.
    env.catalog = Some(target);
    assert_eq!(env.dbctl(&["url", "db"]).ok().stdout, url);
    assert_eq!(env.psql("db", "select v from t"), "7");
    env.dbctl(&["create", "more"]).ok();
    env.dbctl(&["snapshot", "create", "db"]).ok();
    // Its base snapshot, the one copied with the catalog, this one.
    assert_eq!(env.snapshots("db").len(), 3);
    assert_eq!(env.instance_count(), 2);
}

/// A `dbctl daemon` of `env`'s, stopped (SIGTERM, then waited for) when dropped.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        crate::common::kill_pid(self.0.id() as i32);
        let _ = self.0.wait();
    }
}

/// A second home on `a`'s shared catalog and local host, holding its team key.
fn second_home(a: &TestEnv, url: &str) -> TestEnv {
    let mut b = TestEnv::new();
    b.catalog = Some(url.to_string());
    let [lo, hi] = a.ports(0);
    b.dbctl(&[
        "init",
        "--local-root",
        a.local_root().to_str().unwrap(),
        "--local-ports",
        &format!("{lo}-{hi}"),
    ])
    .ok();
    let key = a
        .dir
        .join(format!("team-{:08x}.key", rand::random::<u32>()));
    a.dbctl(&["catalog", "key", "export", key.to_str().unwrap()])
        .ok();
    b.dbctl(&["catalog", "key", "import", key.to_str().unwrap()])
        .ok();
    b
}

#[test]
fn a_daemon_killed_mid_clone_is_taken_over_by_another_machines_daemon_at_its_step() {
    let mut a = TestEnv::new();
    let Some(url) = a.catalog.clone() else {
        return; // SQLite catalogs: one machine.
    };
    a.init();
    a.dbctl(&["create", "src"]).ok();
    a.psql(
        "src",
        "create table t (v int); insert into t values (1), (2)",
    );
    a.dbctl(&["snapshot", "create", "src"]).ok();
    let b = second_home(&a, &url);

    // A's daemon dies (SIGKILL) right after the clone's restore step acted.
    let mut dying = a
        .command(&["daemon", "--interval", "1", "--no-monitor"])
        .env("DBCTL_FAILPOINTS", "crash-after:restore")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wf = a
        .dbctl(&["clone", "src", "--as", "copy", "--detach"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let died = loop {
        if let Some(st) = dying.try_wait().unwrap() {
            break st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "A's daemon never reached the step"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(!died.success());

    // B's daemon takes the workflow over and finishes it from the step it reached.
    let _b_daemon = Daemon(
        b.command(&["daemon", "--interval", "1", "--no-monitor"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let shown = loop {
        let w = b
            .dbctl(&["workflow", "show", &wf, "-o", "json"])
            .ok()
            .json();
        if w["status"] == "succeeded" {
            break w;
        }
        assert!(std::time::Instant::now() < deadline, "{w}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    let steps = shown["steps"].as_array().unwrap();
    let restore = steps.iter().position(|s| s["name"] == "restore").unwrap();
    for s in &steps[..restore] {
        assert_eq!(
            s["attempts"], 1,
            "a step before the crash ran again: {shown}"
        );
    }
    assert_eq!(b.psql("copy", "select count(*) from t"), "2");
    assert_eq!(a.psql("copy", "select count(*) from t"), "2");
}

/// A catalog made afresh numbers its workflows from 1 again. On a host an earlier catalog
/// used, the host's journal must not answer the new catalog's workflow 1 with the old one's
/// recorded answers (which would leave the instance unmade while reporting it made).
#[test]
fn a_new_catalog_on_a_used_host_gets_its_own_answers() {
    let mut a = TestEnv::new();
    a.init();
    a.dbctl(&["create", "first", "--storage-gb", "1"]).ok();
    let mut b = TestEnv::new();
    b.catalog = None;
    let [lo, hi] = a.ports(0);
    b.dbctl(&[
        "init",
        "--local-root",
        a.local_root().to_str().unwrap(),
        "--local-ports",
        &format!("{lo}-{hi}"),
    ])
    .ok();
    b.dbctl(&["create", "second", "--storage-gb", "1"]).ok();
    let got = b
        .dbctl(&["connect", "second", "--", "-XAtc", "select 41 + 1"])
        .ok();
    assert_eq!(got.stdout.trim(), "42");
    b.dbctl(&["delete", "second", "--yes", "--skip-final-snapshot"])
        .ok();
    a.dbctl(&["connect", "first", "--", "-XAtc", "select 1"])
        .ok();
}
