//! The command line itself: usage errors, an uninitialized home, generated docs kept fresh.

use crate::common::TestEnv;

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let env = TestEnv::new();
    let help = env.dbctl(&["--help"]).ok();
    assert!(help.stdout.contains("Exit status"), "{}", help.stdout);
    env.dbctl(&["create"]).fails_with(2);
    env.dbctl(&["frobnicate"]).fails_with(2);
    env.dbctl(&["create", "x", "--port", "notaport"])
        .fails_with(2);
}

#[test]
fn commands_before_init_say_to_run_init() {
    let env = TestEnv::new();
    env.dbctl(&["list"])
        .one_line_error(2, "run `dbctl init` first");
    assert!(
        !env.home.join("catalog.db").exists(),
        "list must not create a catalog"
    );
}

#[test]
fn committed_completions_and_man_pages_are_fresh() {
    let env = TestEnv::new();
    let out = env.dir.join("docs");
    env.dbctl(&["generate-docs", "--out", out.to_str().unwrap()])
        .ok();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["completions", "man"] {
        let mut generated: Vec<_> = std::fs::read_dir(out.join(sub))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        generated.sort();
        assert!(!generated.is_empty());
        for name in &generated {
            let fresh = std::fs::read(out.join(sub).join(name)).unwrap();
            let committed = std::fs::read(repo.join(sub).join(name)).unwrap_or_default();
            assert!(
                fresh == committed,
                "{sub}/{} is stale: run `cargo run --bin dbctl -- generate-docs` and commit",
                name.to_string_lossy()
            );
        }
        let committed_count = std::fs::read_dir(repo.join(sub)).unwrap().count();
        assert_eq!(
            committed_count,
            generated.len(),
            "{sub}/ has files the CLI no longer generates"
        );
    }
}

#[test]
fn catalog_and_secrets_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mut env = TestEnv::new();
    env.init();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    if env.catalog.is_none() {
        assert_eq!(mode(&env.home.join("catalog.db")), 0o600);
    }
    assert_eq!(mode(&env.home), 0o700);
    env.dbctl(&["create", "sec", "--class", "small"]).ok();
    let secrets = env.home.join("secrets");
    assert_eq!(mode(&secrets), 0o700);
    for f in std::fs::read_dir(&secrets).unwrap().flatten() {
        assert_eq!(mode(&f.path()), 0o600, "{}", f.path().display());
    }
    // The password never lands in the catalog's step list or events.
    let url = env.dbctl(&["url", "sec"]).ok().stdout;
    let password = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 32);
    if env.catalog.is_some() {
        let found = env.catalog_i64(&format!(
            "SELECT (SELECT count(*) FROM steps WHERE spec LIKE '%{password}%' OR output LIKE '%{password}%') + (SELECT count(*) FROM events WHERE message LIKE '%{password}%')"
        ));
        assert_eq!(found, 0, "password found in the catalog");
        env.dbctl(&["delete", "sec", "--yes"]).ok();
        return;
    }
    let db = std::fs::read(env.home.join("catalog.db")).unwrap();
    let wal = std::fs::read(env.home.join("catalog.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes
                .windows(password.len())
                .any(|w| w == password.as_bytes()),
            "password found in the catalog"
        );
    }
    env.dbctl(&["delete", "sec", "--yes"]).ok();
}

#[test]
fn an_unreadable_catalog_is_an_error_never_replaced() {
    let env = TestEnv::new();
    if env.catalog.is_some() {
        return; // The SQLite file's own case.
    }
    std::fs::create_dir_all(&env.home).unwrap();
    let catalog = env.home.join("catalog.db");
    std::fs::write(&catalog, b"").unwrap();
    for args in [&["list"][..], &["init"][..], &["host", "list"][..]] {
        let r = env.dbctl(args).fails_with(1);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("catalog.db is empty"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(std::fs::metadata(&catalog).unwrap().len(), 0);
}

#[test]
fn install_deps_says_what_to_do_when_it_cannot_get_rust() {
    let env = TestEnv::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // No cargo on PATH, none under HOME, and rustup's address refuses.
    let out = std::process::Command::new("bash")
        .arg(repo.join("scripts/install-deps"))
        .env_clear()
        .env("PATH", "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", &env.dir)
        .env("DBCTL_RUSTUP_URL", "http://127.0.0.1:9/rustup-init.sh")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cargo is not installed"), "{err}");
    assert!(err.contains("hint: install Rust 1."), "{err}");
}

#[test]
fn tables_on_a_terminal_of_no_width_stay_whole() {
    let mut env = TestEnv::new();
    env.init();
    // A real terminal (script gives one) that reports 0 columns.
    let cmd = format!("stty cols 0; {} host list", crate::common::DBCTL);
    let out = env
        .command(&[])
        .get_envs()
        .fold(std::process::Command::new("script"), |mut c, (k, v)| {
            if let Some(v) = v {
                c.env(k, v);
            }
            c
        })
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("local") && l.contains("127.0.0.1")),
        "a row was broken up: {text}"
    );
}

#[test]
fn init_again_with_other_settings_is_refused_and_unknown_names_are_errors() {
    let mut env = TestEnv::new();
    env.init();
    let [lo, hi] = env.ports(0);
    let root = env.local_root();
    // The same settings again: fine.
    env.dbctl(&[
        "init",
        "--local-root",
        root.to_str().unwrap(),
        "--local-ports",
        &format!("{lo}-{hi}"),
    ])
    .ok();
    env.dbctl(&["init"]).ok();
    env.dbctl(&["init", "--local-ports", "40000-40010"])
        .one_line_error(2, "already initialized");
    env.dbctl(&["init", "--local-root", "/tmp"])
        .one_line_error(2, "already initialized");
    env.dbctl(&["events", "never-was"])
        .one_line_error(2, "no instance was ever named `never-was`");
    // Unknown names, kinds and schemes: one line, exit 2, nothing made.
    for list in [["snapshot", "list"], ["backup", "list"]] {
        env.dbctl(&[list[0], list[1], "never-was"])
            .one_line_error(2, "no instance was ever named `never-was`");
    }
    env.dbctl(&["events", "--type", "bogus"])
        .one_line_error(2, "no event is of kind `bogus`");
    env.dbctl(&["events", "--type", "recover"])
        .one_line_error(2, "did you mean recovered");
    env.dbctl(&["events", "--type", "health_failed"]).ok();
    env.dbctl(&["catalog", "migrate", "--to", "mysql://u@127.0.0.1/cat"])
        .one_line_error(2, "`mysql://` is not a catalog");
    // Not taken as a file name (before, a SQLite catalog was made at ./mysql:/...).
    assert!(!std::path::Path::new("mysql:").exists());
    env.dbctl_env(&["list"], &[("DBCTL_CATALOG", "mysql://u@127.0.0.1/cat")])
        .one_line_error(2, "`mysql://` is not a catalog");
    // A failed init leaves nothing that looks like an initialized home.
    let fresh = TestEnv::new();
    let r = fresh.dbctl(&["init", "--local-root", "/proc/dbctl-cannot-be-here"]);
    assert_ne!(r.code, Some(0), "{}", r.stderr);
    assert!(!fresh.home.join("catalog.db").exists());
    fresh
        .dbctl(&["list"])
        .one_line_error(2, "run `dbctl init` first");
    if fresh.catalog.is_some() {
        // A shared catalog keeps nothing of it either: no host, and no check of a team key
        // only the removed home held (before, every later home was locked out of it).
        for table in ["hosts", "catalog_key_check"] {
            assert_eq!(
                fresh.catalog_i64(&format!("SELECT count(*) FROM {table}")),
                0,
                "{table}"
            );
        }
    }
    let mut fresh = fresh;
    fresh.init();
    fresh.dbctl(&["list"]).ok();
    // Waiting gives up with its own status; the workflow goes on.
    let wf = env.dbctl(&["create", "slow", "--detach"]).ok().stdout;
    let r = env
        .dbctl(&["workflow", "wait", wf.trim(), "--timeout", "1"])
        .fails_with(4);
    assert!(r.stderr.contains("goes on"), "{}", r.stderr);
    env.dbctl(&["workflow", "cancel", wf.trim()]).ok();
}

#[test]
fn a_postgres_catalog_that_cannot_be_reached_is_said_in_the_servers_words() {
    let env = TestEnv::new();
    let port = env.ports(3)[0];
    let refused = env.dbctl_env(
        &["init"],
        &[(
            "DBCTL_CATALOG",
            &format!("postgres://u:p@127.0.0.1:{port}/cat"),
        )],
    );
    assert_ne!(refused.code, Some(0));
    assert!(
        refused.stderr.contains("refused")
            && refused.stderr.contains("is the PostgreSQL server running"),
        "{}",
        refused.stderr
    );
    let bad = env.dbctl_env(
        &["init"],
        &[("DBCTL_CATALOG", "postgres://u:p@127.0.0.1:notaport/cat")],
    );
    assert!(
        bad.stderr.contains("the catalog URL is not valid"),
        "{}",
        bad.stderr
    );
}
