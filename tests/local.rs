//! The local host: create, connect, describe, list, delete, bad input, dry-run, detach/sweep.

use crate::common::TestEnv;

#[test]
fn create_connect_describe_delete_on_the_local_host() {
    let mut env = TestEnv::new();
    env.init();
    let created = env
        .dbctl(&["create", "app", "--class", "small", "-o", "json"])
        .ok();
    assert!(
        created.stderr.contains("placed on host local"),
        "{}",
        created.stderr
    );
    let d = created.json();
    assert_eq!(d["status"], "available");
    assert_eq!(d["engine"], "postgres");
    assert_eq!(d["host"], "local");
    let port = d["port"].as_u64().unwrap() as u16;
    let [lo, hi] = env.ports(0);
    assert!(
        (lo..=hi).contains(&port),
        "port {port} outside the host's range"
    );
    assert_eq!(d["endpoint"], format!("127.0.0.1:{port}"));
    assert!(
        d["engine_version"].as_str().unwrap().starts_with("15"),
        "{d}"
    );

    // A real server: write, read, checksums on, memory from the class, not run as root.
    env.psql("app", "create table t (id int primary key, v text); insert into t select g, 'row' || g from generate_series(1, 100) g");
    assert_eq!(env.psql("app", "select count(*) from t"), "100");
    assert_eq!(env.psql("app", "show data_checksums"), "on");
    assert_eq!(env.psql("app", "show shared_buffers"), "256MB");
    assert_eq!(env.psql("app", "show max_connections"), "100");
    assert_eq!(env.psql("app", "show archive_mode"), "on");
    assert_eq!(env.psql("app", "show archive_timeout"), "1min");
    let pids = env.running_servers();
    assert_eq!(pids.len(), 1);
    let owner = std::fs::read_to_string(format!("/proc/{}/status", pids[0])).unwrap();
    let uid_line = owner.lines().find(|l| l.starts_with("Uid:")).unwrap();
    if nix::unistd::Uid::effective().is_root() {
        assert!(
            !uid_line.split_whitespace().nth(1).unwrap().eq("0"),
            "server runs as root: {uid_line}"
        );
    }

    let list = env.dbctl(&["list", "-o", "json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Completion knows the fleet: the committed bash script asks dbctl, which reads the
    // catalog; fixed values come from the lists the commands check.
    for (line, offered) in [
        ("dbctl describe ", "app"),
        ("dbctl snapshot create a", "app"),
        ("dbctl clone app --as b --host ", "local"),
        ("dbctl create x --engine ", "mariadb"),
        ("dbctl create x --class ", "small"),
        ("dbctl modify app --on-failure ", "notify"),
        ("dbctl schedule add app ", "hibernate"),
        ("dbctl list -o ", "json"),
    ] {
        let got = env.complete_bash(line);
        assert!(got.iter().any(|g| g == offered), "{line:?} offered {got:?}");
    }
    assert!(env.complete_bash("dbctl describe zz").is_empty());

    // Labels change after creation, kubectl's way, on hosts and snapshots too; `--label`
    // filters see them at once and each change is an event.
    let now = env
        .dbctl(&["label", "app", "env=prod", "team=shop", "-o", "json"])
        .ok()
        .json();
    assert_eq!(now, serde_json::json!({"env": "prod", "team": "shop"}));
    let labelled = |args: &[&str]| env.dbctl(args).ok().json().as_array().unwrap().len();
    assert_eq!(labelled(&["list", "--label", "env=prod", "-o", "json"]), 1);
    let r = env.dbctl(&["label", "app", "env-", "team=core"]).ok();
    assert_eq!(r.stdout.trim(), "team=core");
    assert_eq!(labelled(&["list", "--label", "env=prod", "-o", "json"]), 0);
    env.dbctl(&["label", "local", "rack=r4", "--host"]).ok();
    let hosts = env.dbctl(&["host", "list", "-o", "json"]).ok().json();
    assert_eq!(hosts[0]["labels"]["rack"], "r4");
    assert_eq!(
        labelled(&["host", "list", "--label", "rack=r4", "-o", "json"]),
        1
    );
    assert!(env
        .dbctl(&["host", "show", "local"])
        .ok()
        .stdout
        .contains("rack=r4"));
    let snap = env
        .dbctl(&["snapshot", "list", "app", "-o", "json"])
        .ok()
        .json()[0]["id"]
        .to_string();
    env.dbctl(&["label", &snap, "keep=yes", "--snapshot"]).ok();
    assert_eq!(
        labelled(&["snapshot", "list", "--label", "keep=yes", "-o", "json"]),
        1
    );
    // Every shell's committed script completes from the catalog: instances, hosts,
    // snapshot ids and repositories where a command takes one.
    let offsite = format!("file://{}", env.dir.join("offsite").display());
    env.dbctl(&["repository", "add", "offsite", "--url", &offsite])
        .ok();
    for shell in ["bash", "zsh", "fish"] {
        for (line, offered) in [
            ("dbctl describe ", "app"),
            ("dbctl create x --engine ", "mariadb"),
            ("dbctl clone app --as b --snapshot ", snap.as_str()),
            ("dbctl repository check ", "offsite"),
            ("dbctl label ", "local"),
            ("dbctl label ", snap.as_str()),
            ("dbctl label ", "app"),
        ] {
            let got = env.complete_in(shell, line);
            assert!(
                got.iter().any(|g| g == offered),
                "{shell}: {line:?} offered {got:?}"
            );
        }
        assert!(
            env.complete_in(shell, "dbctl describe zz").is_empty(),
            "{shell}"
        );
    }
    for (args, needle) in [
        (vec!["label", "app", "Env=x"], "not a label"),
        (vec!["label", "app", "a=1", "a-"], "both set and taken off"),
        (vec!["label", "app", "Bad-"], "not a label key"),
        (vec!["label", "nope", "a=1"], "no instance named"),
        (vec!["label", "nope", "a=1", "--host"], "unknown host"),
        (vec!["label", "999", "a=1", "--snapshot"], "no snapshot 999"),
    ] {
        env.dbctl(&args).one_line_error(2, needle);
    }
    env.dbctl(&["label", "app"]).fails_with(2);
    let table = env.dbctl(&["describe", "app"]).ok().stdout;
    assert!(
        table.contains("available") && table.contains(&format!("127.0.0.1:{port}")),
        "{table}"
    );
    let last = &env.dbctl(&["describe", "app", "-o", "json"]).ok().json()["last_workflow"];
    assert_eq!(last["action"], "create");
    assert_eq!(last["status"], "succeeded");

    env.dbctl(&["delete", "app", "--yes"]).ok();
    assert!(
        env.running_servers().is_empty(),
        "server still running after delete"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open"
    );
    let left: Vec<_> = std::fs::read_dir(env.local_root().join("instances"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "data left on the host: {left:?}");
    assert_eq!(env.instance_count(), 0);
    let kinds = env.event_kinds("app");
    assert_eq!(
        kinds,
        [
            "requested",
            "created",
            "labels_changed",
            "labels_changed",
            "labels_changed",
            "requested",
            "deleted"
        ]
    );
    // The name is free again.
    env.dbctl(&["create", "app", "--dry-run"]).ok();
}

#[test]
fn bad_input_gets_one_line_and_changes_nothing() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "taken"]).ok();
    std::fs::write(
        env.home.join("config.toml"),
        "[classes.huge]\ncpus = 64\nmemory_mb = 10485760\nmax_connections = 100\n",
    )
    .unwrap();
    let busy = std::net::TcpListener::bind(("127.0.0.1", env.ports(0)[1])).unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let before = env.catalog_state();
    let cases: &[(&[&str], &str)] = &[
        (&["create", "Bad_Name"], "invalid instance name"),
        (&["create", "--", "-leading"], "invalid instance name"),
        (&["create", &"a".repeat(64)], "longer than 63"),
        (&["create", "taken"], "already exists"),
        (&["create", "x", "--class", "nope"], "unknown class `nope`"),
        (
            &["create", "x", "--engine", "oracle"],
            "unknown engine `oracle`",
        ),
        (&["create", "x", "--host", "nope"], "unknown host `nope`"),
        (&["create", "x", "--class", "huge"], "no host has room"),
        (
            &["create", "x", "--class", "huge", "--host", "local"],
            "cannot take",
        ),
        (&["create", "x", "--port", &busy_port], "in use"),
        (
            &["create", "x", "--admin-user", "pg_admin"],
            "invalid admin user",
        ),
        (
            &["create", "x", "--storage-gb", "100000000"],
            "storage free",
        ),
        (&["delete", "nope", "--yes"], "no instance named `nope`"),
        (&["delete", "taken"], "without confirmation"),
        (&["describe", "nope"], "no instance named"),
        (&["url", "nope"], "no instance named"),
        (&["workflow", "show", "999"], "no workflow 999"),
        (&["workflow", "resume", "1"], "already succeeded"),
        (&["host", "show", "nope"], "unknown host"),
        (&["host", "remove", "local"], "still has 1 instance"),
    ];
    for (args, needle) in cases {
        env.dbctl(args).one_line_error(2, needle);
    }
    assert_eq!(
        env.catalog_state(),
        before,
        "a refused command changed the catalog"
    );
    assert_eq!(env.running_servers().len(), 1);
    drop(busy);
    env.dbctl(&["delete", "taken", "--yes"]).ok();
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let mut env = TestEnv::new();
    env.init();
    let before = env.catalog_state();
    let plan = env
        .dbctl(&["create", "dry", "--dry-run", "-o", "json"])
        .ok()
        .json();
    assert!(plan["workflow_id"].is_null());
    let steps: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["provision", "start", "snapshot-base", "mark-available"]
    );
    assert_eq!(plan["steps"][0]["spec"]["undo"]["op"], "destroy");
    let table = env.dbctl(&["create", "dry", "--dry-run"]).ok();
    assert!(
        table.stdout.contains("provision") && table.stdout.contains("destroy"),
        "{}",
        table.stdout
    );
    assert_eq!(env.catalog_state(), before);
    assert!(
        !env.local_root().join("instances").exists()
            || std::fs::read_dir(env.local_root().join("instances"))
                .unwrap()
                .count()
                == 0
    );
}

#[test]
fn detached_workflows_hold_the_lease_and_the_sweeper_runs_them_in_parallel() {
    let mut env = TestEnv::new();
    env.init();
    let a: i64 = env
        .dbctl(&["create", "qa", "--detach"])
        .ok()
        .stdout
        .trim()
        .parse()
        .unwrap();
    let b: i64 = env
        .dbctl(&["create", "qb", "--detach"])
        .ok()
        .stdout
        .trim()
        .parse()
        .unwrap();
    assert_eq!(env.status_of("qa"), "creating");
    // One workflow at a time per instance.
    env.dbctl(&["delete", "qa", "--yes"])
        .one_line_error(2, &format!("busy with workflow {a}"));
    let waiter = env
        .command(&["workflow", "wait", &b.to_string(), "--timeout", "120"])
        .spawn()
        .unwrap();
    // A second sweep at the same time finds both taken: it succeeds too, having run none.
    let other = env
        .command(&["sweep", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json()["workflows"].clone();
    let other = other.wait_with_output().unwrap();
    assert!(other.status.success(), "a concurrent sweep failed");
    let other: serde_json::Value = serde_json::from_slice(&other.stdout).unwrap();
    let other = other["workflows"].clone();
    let ran = |v: &serde_json::Value, id: i64| {
        v.as_array()
            .unwrap()
            .iter()
            .any(|r| r["workflow_id"] == id && r["outcome"] == "succeeded")
    };
    for id in [a, b] {
        assert!(
            ran(&swept, id) != ran(&other, id),
            "workflow {id} ran in exactly one sweep: {swept} / {other}"
        );
    }
    let swept = serde_json::Value::Array(
        swept
            .as_array()
            .unwrap()
            .iter()
            .chain(other.as_array().unwrap())
            .filter(|r| r["outcome"] != "skipped")
            .cloned()
            .collect(),
    );
    let mut outcomes: Vec<(i64, &str)> = swept
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["workflow_id"].as_i64().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, [(a, "succeeded"), (b, "succeeded")]);
    assert!(waiter.wait_with_output().unwrap().status.success());
    for n in ["qa", "qb"] {
        assert_eq!(
            env.dbctl(&["describe", n, "-o", "json"]).ok().json()["status"],
            "available"
        );
        assert_eq!(env.psql(n, "select 1"), "1");
    }
    // Nothing left to do.
    assert_eq!(
        env.dbctl(&["sweep", "-o", "json"]).ok().json()["workflows"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    env.dbctl(&["delete", "qa", "--yes"]).ok();
    env.dbctl(&["delete", "qb", "--yes"]).ok();
}

#[test]
fn parallel_creates_never_overcommit_a_host() {
    let mut env = TestEnv::new();
    env.init();
    let host = env
        .dbctl(&["host", "show", "local", "-o", "json"])
        .ok()
        .json();
    let mem = host["memory_mb"].as_u64().unwrap();
    // A class of which exactly three fit the host's memory.
    std::fs::write(
        env.home.join("config.toml"),
        format!(
            "[classes.third]\ncpus = 0.1\nmemory_mb = {}\nmax_connections = 20\nstorage_gb = 1\n",
            mem / 3
        ),
    )
    .unwrap();
    let children: Vec<_> = (0..10)
        .map(|i| {
            env.command(&["create", &format!("p{i}"), "--class", "third", "--detach"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let placed = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(placed, 3, "{} creates were placed on room for 3", placed);
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(2));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("room"), "{e}");
    }
    assert_eq!(env.instance_count(), 3);
}

#[test]
fn ports_and_addresses_that_cannot_work_are_refused_up_front() {
    let mut env = TestEnv::new();
    // An address of no interface here.
    let [lo, hi] = env.ports(0);
    env.dbctl(&[
        "init",
        "--local-root",
        env.local_root().to_str().unwrap(),
        "--local-address",
        "203.0.113.7",
        "--local-ports",
        &format!("{lo}-{hi}"),
    ])
    .one_line_error(2, "not an address of this machine");
    env.init();
    let before = env.catalog_state();
    for (port, why) in [
        ("0", "0 is not a port"),
        ("80", "privileged"),
        ("65000", "outside host `local`'s port range"),
    ] {
        env.dbctl(&["create", "p", "--port", port])
            .one_line_error(2, why);
    }
    // In use by something else on this machine.
    let busy = std::net::TcpListener::bind(("127.0.0.1", lo + 5)).unwrap();
    env.dbctl(&["create", "p", "--port", &(lo + 5).to_string()])
        .one_line_error(2, "in use");
    drop(busy);
    assert_eq!(env.catalog_state(), before);
}

#[test]
fn host_show_says_what_uses_its_disk_and_what_nothing_owns() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    env.dbctl(&["snapshot", "create", "db"]).ok();
    let disk = |env: &TestEnv| {
        env.dbctl(&["host", "show", "local", "-o", "json"])
            .ok()
            .json()["disk"]
            .clone()
    };
    let d = disk(&env);
    assert!(d["instances_bytes"].as_u64().unwrap() > 10 << 20, "{d}");
    assert!(d["snapshots_bytes"].as_u64().unwrap() > 10 << 20, "{d}");
    assert_eq!(d["unattributed"], serde_json::json!([]), "{d}");
    // What the catalog knows nothing of is named.
    let stray = env.local_root().join("instances/stray-0a0a0a");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(stray.join("junk"), vec![0u8; 1 << 20]).unwrap();
    let d = disk(&env);
    assert_eq!(
        d["unattributed"],
        serde_json::json!(["instances/stray-0a0a0a"]),
        "{d}"
    );
    assert!(d["unattributed_bytes"].as_u64().unwrap() >= 1 << 20);
    let table = env.dbctl(&["host", "show", "local"]).ok().stdout;
    assert!(table.contains("unattributed"), "{table}");
}

#[test]
fn instances_and_snapshots_are_found_by_their_labels() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "a", "--label", "env=prod", "--label", "team=core"])
        .ok();
    env.dbctl(&["create", "b", "--label", "env=test"]).ok();
    env.dbctl(&["create", "c", "--label", "Env=prod"])
        .one_line_error(2, "is not a label");
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["list", "-o", "json"];
        all.extend(args);
        env.dbctl(&all)
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&["--label", "env=prod"]), ["a"]);
    assert_eq!(names(&["--label", "env=test"]), ["b"]);
    assert!(names(&["--label", "env=prod", "--label", "team=other"]).is_empty());
    assert_eq!(names(&[]), ["a", "b"]);
    env.dbctl(&["list", "--label", "nope"])
        .one_line_error(2, "is not a label");
    env.dbctl(&["snapshot", "create", "a", "--label", "keep=yes"])
        .ok();
    env.dbctl(&["snapshot", "create", "a"]).ok();
    let kept = env
        .dbctl(&["snapshot", "list", "--label", "keep=yes", "-o", "json"])
        .ok()
        .json();
    assert_eq!(kept.as_array().unwrap().len(), 1, "{kept}");
    assert!(env
        .dbctl(&["host", "list", "--label", "rack=1", "-o", "json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    // A recovered instance keeps its labels.
    env.dbctl(&["recover", "a", "--yes"]).ok();
    let d = env.dbctl(&["describe", "a", "-o", "json"]).ok().json();
    assert_eq!(d["labels"]["env"], "prod", "{d}");
    assert_eq!(d["labels"]["team"], "core");
}

/// What an 80-column terminal shows once `raw` (a typescript) has been drawn on it, row by
/// row (tall enough that nothing scrolls away), by a real terminal emulator.
fn screen_lines(raw: &[u8]) -> Vec<String> {
    let n = |v: u16| std::num::NonZeroU16::new(v).unwrap();
    let mut term = vt100::Parser::new(n(400), n(80), 0);
    term.process(raw);
    term.screen()
        .rows(0, 80)
        .map(|r| r.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn a_clone_shows_its_steps_on_a_terminal_and_as_plain_lines_in_a_pipe() {
    let mut env = TestEnv::new();
    env.init();
    env.dbctl(&["create", "db"]).ok();
    env.psql(
        "db",
        "create table t as select g, repeat('x', 200) pad from generate_series(1, 50000) g",
    );
    // In a pipe: one plain line per step as it ends, with what a copy moved.
    let piped = env.dbctl(&["clone", "db", "--as", "piped"]).ok();
    let steps: Vec<&str> = piped
        .stderr
        .lines()
        .filter(|l| l.starts_with('['))
        .collect();
    assert!(steps.len() >= 3, "{}", piped.stderr);
    for l in &steps {
        assert!(l.contains(" done in "), "{l}");
    }
    assert!(!piped.stderr.contains('\r') && !piped.stderr.contains('\x1b'));
    // On an 80-column terminal: the spinner's lines are cleared, and each finished step is a
    // line of its own, never run into the next or into the table after it.
    let mut c = std::process::Command::new("script");
    c.args([
        "-q",
        "-e",
        "-c",
        &format!(
            "stty cols 80 rows 24; exec {} clone db --as onterm",
            crate::common::DBCTL
        ),
        "/dev/null",
    ])
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("HOME", &env.dir)
    .env("TERM", "xterm")
    .env("DBCTL_HOME", &env.home)
    .env("DBCTL_DBHOST", crate::common::DBHOST)
    .stdin(std::process::Stdio::null());
    if let Some(url) = &env.catalog {
        c.env("DBCTL_CATALOG", url);
    }
    let out = c.output().unwrap();
    let raw = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{raw}");
    let screen = screen_lines(&out.stdout);
    // No spinner is left behind.
    assert!(
        !screen
            .iter()
            .any(|l| l.contains("running")
                || l.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c))),
        "{screen:#?}"
    );
    let finished: Vec<&String> = screen.iter().filter(|l| l.contains(" done in ")).collect();
    assert_eq!(finished.len(), steps.len(), "{screen:#?}");
    for l in &finished {
        assert!(l.starts_with('['), "{l:?} in {screen:#?}");
        assert_eq!(l.matches(" done in ").count(), 1, "{l:?}");
    }
    // The table follows on lines of its own.
    assert!(
        screen
            .iter()
            .any(|l| l.starts_with("name") || l.contains("onterm")),
        "{screen:#?}"
    );
    assert_eq!(env.psql("onterm", "select count(*) from t"), "50000");
}
