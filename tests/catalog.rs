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
