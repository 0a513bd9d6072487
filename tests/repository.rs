//! The off-host tier's repositories: made with a key of their own, opened elsewhere only
//! with that key.

use crate::common::garage::Garage;
use crate::common::TestEnv;
use std::os::unix::fs::PermissionsExt;

/// `repository add offsite --url URL --key-file KEY -o json` in `home`.
fn add_offsite_with_key(home: &TestEnv, url: &str, key: &str) -> crate::common::Run {
    home.dbctl(&[
        "repository",
        "add",
        "offsite",
        "--url",
        url,
        "--key-file",
        key,
        "-o",
        "json",
    ])
}

#[test]
fn a_directory_repository_is_made_with_its_own_key_and_opened_from_a_second_home_with_it() {
    let mut env = TestEnv::new();
    env.init();
    let dir = env.dir.join("offsite");
    let url = format!("file://{}", dir.display());
    let r = env
        .dbctl(&["repository", "add", "offsite", "--url", &url, "-o", "json"])
        .ok();
    let made = r.json();
    assert_eq!(made["format_version"], 2);
    assert!(dir.join("config").is_file());
    if env.catalog.is_some() {
        // A shared catalog keeps the key sealed in it, for every home with the team key
        // (tests/catalog.rs); the rest of this test is about a home's own key files.
        assert_eq!(
            env.catalog_i64(
                "SELECT count(*) FROM secrets WHERE name = 'file:repository-offsite.key'"
            ),
            1
        );
        // Its key comes out to be kept apart, and opens the repository from a home of its own.
        let exported = env.dir.join("offsite.key");
        let exported = exported.to_str().unwrap();
        env.dbctl(&["repository", "export-key", "offsite", exported])
            .ok();
        let mode = std::fs::metadata(exported).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        env.dbctl(&["repository", "export-key", "offsite", exported])
            .one_line_error(2, "cannot write");
        let mut own = TestEnv::new();
        own.catalog = None;
        own.init();
        let opened = add_offsite_with_key(&own, &url, exported).ok().json();
        assert_eq!(opened["repo_id"], made["repo_id"]);
        return;
    }
    // The key is kept 0600 and never printed.
    let key_file = std::path::PathBuf::from(made["key_file"].as_str().unwrap());
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let key = std::fs::read_to_string(&key_file).unwrap();
    // `export-key` writes the same key out.
    let exported = env.dir.join("offsite.key");
    env.dbctl(&[
        "repository",
        "export-key",
        "offsite",
        exported.to_str().unwrap(),
    ])
    .ok();
    // The password of its restic key, kept 0600 beside the key.
    let password = std::fs::read_to_string(key_file.with_extension("password")).unwrap();
    assert_eq!(password.len(), 32);
    assert_eq!(std::fs::read_to_string(&exported).unwrap(), password);
    env.dbctl(&["repository", "export-key", "nope", "/tmp/never"])
        .one_line_error(2, "no repository named");
    let secret: serde_json::Value = serde_json::from_str(&key).unwrap();
    let secret = secret["encrypt"].as_str().unwrap().to_string();
    let shown = env.dbctl(&["repository", "show", "offsite"]).ok();
    let listed = env.dbctl(&["repository", "list", "-o", "json"]).ok();
    for out in [&r.stdout, &r.stderr, &shown.stdout, &listed.stdout] {
        assert!(!out.contains(&secret), "the key was printed: {out}");
        assert!(!out.contains(&password), "the password was printed: {out}");
    }
    assert_eq!(listed.json().as_array().unwrap().len(), 1);

    // Bad input: one line each, nothing changed.
    let other = env.dir.join("other");
    let full = env.dir.join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("notes"), "not a repository").unwrap();
    let full_url = format!("file://{}", full.display());
    for (args, needle) in [
        (vec!["--url", "/srv/x"], "not a repository URL"),
        (vec!["--url", "file://srv/x"], "absolute"),
        (vec!["--url", "s3://bucket/prefix"], "needs --endpoint"),
        (vec!["--url", &full_url], "is not empty"),
    ] {
        let mut a = vec!["repository", "add", "second"];
        a.extend(args);
        env.dbctl(&a).one_line_error(2, needle);
    }
    let other_url = format!("file://{}", other.display());
    env.dbctl(&["repository", "add", "offsite", "--url", &other_url])
        .one_line_error(2, "already exists");
    // Flags that cannot apply to a directory are refused, not ignored.
    for (flag, value) in [
        ("--endpoint", "http://127.0.0.1:1"),
        ("--region", "eu-west-1"),
    ] {
        env.dbctl(&[
            "repository",
            "add",
            "second",
            "--url",
            &other_url,
            flag,
            value,
        ])
        .one_line_error(2, &format!("{flag} applies to s3:// repositories"));
    }
    // A second repository over the same place (through a link, or inside it) is refused.
    let link = env.dir.join("link-to-repository");
    std::os::unix::fs::symlink(url.strip_prefix("file://").unwrap(), &link).unwrap();
    for same in [
        url.clone(),
        format!("file://{}", link.display()),
        format!("{url}/inside"),
    ] {
        env.dbctl(&["repository", "add", "second", "--url", &same])
            .one_line_error(2, "repository `offsite` is already at");
    }
    env.dbctl(&["repository", "show", "nope"])
        .one_line_error(2, "no repository named");
    assert!(!other.exists());
    assert_eq!(
        env.dbctl(&["repository", "list", "-o", "json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Another home: a key that is not this repository's is refused; its own key opens it.
    env.dbctl(&["repository", "add", "other", "--url", &other_url])
        .ok();
    let other_key = env
        .dbctl(&["repository", "show", "other", "-o", "json"])
        .ok()
        .json()["key_file"]
        .as_str()
        .unwrap()
        .to_string();
    let mut second = TestEnv::new();
    second.init();
    let import = |key: &str| add_offsite_with_key(&second, &url, key);
    import(&other_key).one_line_error(2, "does not open");
    import(other_key.replace(".key", ".password").as_str()).one_line_error(2, "does not open");
    // The exported password opens it, and so does the key file itself (a home's own copy).
    let opened = import(exported.to_str().unwrap()).ok().json();
    assert_eq!(opened["repo_id"], made["repo_id"]);
    assert_eq!(opened["format_version"], 2);
    let mut third = TestEnv::new();
    third.init();
    let opened = add_offsite_with_key(&third, &url, key_file.to_str().unwrap())
        .ok()
        .json();
    assert_eq!(opened["repo_id"], made["repo_id"]);

    // A repository gone from where it was: show says so in one line.
    let moved = env.dir.join("moved");
    std::fs::rename(&dir, &moved).unwrap();
    let r = env.dbctl(&["repository", "show", "offsite"]).fails_with(1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("does not open"), "{}", r.stderr);
    std::fs::rename(&moved, &dir).unwrap();
    env.dbctl(&["repository", "show", "offsite"]).ok();
}

/// `dbctl repository add NAME --url URL` for the bucket of `g`, in `home`, with `extra`
/// arguments and `envs`.
fn add_s3(
    home: &TestEnv,
    g: &Garage,
    name: &str,
    url: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> crate::common::Run {
    let mut a = vec![
        "repository",
        "add",
        name,
        "--url",
        url,
        "--endpoint",
        &g.endpoint,
        "--region",
        &g.region,
        "-o",
        "json",
    ];
    a.extend(extra);
    home.dbctl_env(&a, envs)
}

/// A Garage for `env` and repository `offsite` in its bucket (prefix `fleet`).
fn garage_offsite(env: &TestEnv) -> Garage {
    let g = Garage::start(env);
    let keys = [
        ("AWS_ACCESS_KEY_ID", g.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", g.secret.as_str()),
    ];
    let url = format!("s3://{}/fleet", g.bucket);
    add_s3(env, &g, "offsite", &url, &[], &keys).ok();
    g
}

/// Repository `offsite` in a directory of the test's own; returns the directory.
pub(crate) fn dir_offsite(env: &TestEnv) -> std::path::PathBuf {
    let dir = env.dir.join("offsite");
    let url = format!("file://{}", dir.display());
    env.dbctl(&["repository", "add", "offsite", "--url", &url])
        .ok();
    dir
}

#[test]
fn an_s3_repository_in_garage_is_made_and_refused_in_one_line_without_the_right_access() {
    let mut env = TestEnv::new();
    env.init();
    let g = Garage::start(&env);
    let url = format!("s3://{}/dbctl/prod", g.bucket);
    let keys = [
        ("AWS_ACCESS_KEY_ID", g.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", g.secret.as_str()),
    ];
    // No credentials, a wrong secret, a bucket that is not there: one line each.
    add_s3(&env, &g, "offsite", &url, &[], &[]).one_line_error(2, "no S3 credentials");
    let wrong = [
        ("AWS_ACCESS_KEY_ID", g.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", "not-the-secret"),
    ];
    add_s3(&env, &g, "offsite", &url, &[], &wrong).one_line_error(2, "cannot be reached");
    add_s3(&env, &g, "offsite", "s3://no-such-bucket/x", &[], &keys)
        .one_line_error(2, "cannot be reached");
    // A region the store is not in is said as such, with the flag that fixes it.
    let wrong_region = [
        "repository",
        "add",
        "offsite",
        "--url",
        &url,
        "--endpoint",
        &g.endpoint,
        "--region",
        "mars-north-1",
    ];
    env.dbctl_env(&wrong_region, &keys).one_line_error(
        2,
        "is not in region `mars-north-1`: give the store's region with --region",
    );
    assert_eq!(
        env.dbctl(&["repository", "list", "-o", "json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // From a credentials file: made in the bucket, the secret kept 0600 and never printed.
    let creds = env.dir.join("aws-credentials");
    std::fs::write(
        &creds,
        format!(
            "[other]\naws_access_key_id = nope\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            g.key_id, g.secret
        ),
    )
    .unwrap();
    let from_file = ["--credentials-file", creds.to_str().unwrap()];
    let r = add_s3(&env, &g, "offsite", &url, &from_file, &[]).ok();
    let made = r.json();
    assert_eq!(made["format_version"], 2);
    assert_eq!(made["endpoint"], g.endpoint.as_str());
    let shown = env.dbctl(&["repository", "show", "offsite"]).ok();
    for out in [&r.stdout, &r.stderr, &shown.stdout, &shown.stderr] {
        assert!(!out.contains(&g.secret), "the S3 secret was printed: {out}");
    }
    if env.catalog.is_some() {
        assert_eq!(
            env.catalog_i64(&format!(
                "SELECT count(*) FROM secrets WHERE name = 'file:repository-offsite.s3' AND sealed NOT LIKE '%{}%'",
                g.secret
            )),
            1,
            "the S3 keys are sealed in the shared catalog"
        );
    } else {
        let kept = env.home.join("secrets").join("repository-offsite.s3");
        assert_eq!(
            std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(std::fs::read_to_string(&kept).unwrap().contains(&g.secret));
    }
    // The repository's objects are in the bucket, under the prefix.
    let listed = g.cli(&["bucket", "info", &g.bucket]).unwrap_or_default();
    let objects: u64 = listed
        .lines()
        .find_map(|l| l.strip_prefix("Objects:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(objects >= 1, "{listed}");

    // Made once: a second add to the same place is refused.
    add_s3(&env, &g, "again", &url, &[], &keys)
        .one_line_error(2, "repository `offsite` is already at");

    if env.catalog.is_some() {
        return; // Its key is sealed in the shared catalog, not a file to copy.
    }
    // Another home opens it with a copy of the key and keys of its own to the bucket.
    let mut second = TestEnv::new();
    second.init();
    let key_file = ["--key-file", made["key_file"].as_str().unwrap()];
    let opened = add_s3(&second, &g, "offsite", &url, &key_file, &keys)
        .ok()
        .json();
    assert_eq!(opened["repo_id"], made["repo_id"]);
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                let bytes = std::fs::read(&p).unwrap_or_default();
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(p);
                }
            }
        }
    }
    found
}

#[test]
fn a_backup_in_garage_restores_as_a_clone_encrypted_and_deduplicated_against_its_clones() {
    let mut env = TestEnv::new();
    env.init();
    let g = garage_offsite(&env);
    env.dbctl(&["create", "prod"]).ok();
    let marker = "plaintext-marker-5d1e7a";
    env.psql(
        "prod",
        &format!("CREATE TABLE m (v text); INSERT INTO m SELECT '{marker}-1' FROM generate_series(1, 20000); CHECKPOINT;"),
    );
    let first = env
        .dbctl(&["backup", "create", "prod", "-o", "json"])
        .ok()
        .json();
    assert_eq!(first["status"], "available");
    assert_eq!(first["repository"], "offsite");
    let added = first["added_bytes"].as_u64().unwrap();
    assert!(added > 0, "{first}");
    env.psql("prod", &format!("INSERT INTO m VALUES ('{marker}-2')"));

    // The backup restores as a new instance, as it was when taken.
    let r = env
        .dbctl(&[
            "clone",
            "prod",
            "--as",
            "copy",
            "--from-repository",
            "-o",
            "json",
        ])
        .ok();
    assert_eq!(r.json()["status"], "available");
    assert_eq!(
        env.psql("copy", "SELECT count(*), max(v) FROM m"),
        format!("20000|{marker}-1")
    );
    // Nothing of the downloaded copy is left in the host's snapshot store.
    let store = env.local_root().join("snapshots");
    let left: Vec<_> = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("from-backup"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Its clone shares almost every byte: backing it up adds little.
    let second = env
        .dbctl(&["backup", "create", "copy", "-o", "json"])
        .ok()
        .json();
    let added_again = second["added_bytes"].as_u64().unwrap();
    assert!(
        added_again * 10 < added,
        "the clone's backup added {added_again} bytes against {added}"
    );

    // Encrypted: the marker is in the instance's own files, in no object in the bucket.
    assert!(!files_containing(&env.local_root().join("instances"), marker.as_bytes()).is_empty());
    let leaked = files_containing(&g.data_dir, marker.as_bytes());
    assert!(leaked.is_empty(), "plaintext in the bucket: {leaked:?}");

    // Listed; a pinned backup is not deleted; an unpinned one is.
    let listed = env.dbctl(&["backup", "list", "-o", "json"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let id = first["id"].as_i64().unwrap().to_string();
    env.dbctl(&["backup", "pin", &id]).ok();
    env.dbctl(&["backup", "delete", &id])
        .one_line_error(2, "is pinned");
    env.dbctl(&["backup", "unpin", &id]).ok();
    // prod's only backup is where its window in the repository starts: refused without
    // --force; and without a terminal, --yes is needed.
    env.dbctl(&["backup", "delete", &id, "--yes"])
        .one_line_error(2, "oldest of `prod`");
    env.dbctl(&["backup", "delete", &id, "--force"])
        .one_line_error(2, "--yes");
    env.dbctl(&["backup", "delete", &id, "--force", "--yes"])
        .ok();
    assert!(env
        .event_kinds("prod")
        .iter()
        .any(|k| k == "backup_deleted"));
    let listed = env
        .dbctl(&["backup", "list", "prod", "-o", "json"])
        .ok()
        .json();
    assert!(listed.as_array().unwrap().is_empty(), "{listed}");
    env.dbctl(&["backup", "show", &id])
        .one_line_error(2, "no backup");
    env.dbctl(&["clone", "prod", "--as", "again", "--from-repository"])
        .one_line_error(2, "has no backup");
}

/// Sweeps until the repository holds a commit of `instance`'s made after `time` (describe
/// says so).
pub(crate) fn ship_past(env: &TestEnv, instance: &str, time: &str) {
    for _ in 0..150 {
        env.dbctl(&["sweep"]).ok();
        let d = env.dbctl(&["describe", instance, "-o", "json"]).ok().json();
        if d["offsite"]["logs_through"]
            .as_str()
            .is_some_and(|t| t > time)
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("the repository's logs did not reach {time}");
}

/// Instance `src` (on `host`, if given) backing up into repository `offsite`, with a
/// `markers` table, a backup, then three markers committed and shipped: (time just before
/// each commit, position after it).
fn src_backed_up_with_markers(env: &TestEnv, host: Option<&str>) -> Vec<(String, String)> {
    let mut args = vec![
        "create",
        "src",
        "--backup-repository",
        "offsite",
        "--backup-window",
        "none",
    ];
    if let Some(h) = host {
        args.extend(["--host", h]);
    }
    env.dbctl(&args).ok();
    env.psql("src", "create table markers (id int primary key)");
    env.dbctl(&["backup", "create", "src"]).ok();
    let marks: Vec<_> = (1..=3)
        .map(|id| {
            let m = crate::pitr::commit_marker(env, id);
            std::thread::sleep(std::time::Duration::from_millis(700));
            m
        })
        .collect();
    // Past the last commit, not only past the moment before it.
    ship_past(env, "src", &marks[2].0);
    marks
}

#[test]
fn a_repository_restores_to_any_moment_its_shipped_logs_reach_and_leaves_nothing_behind() {
    use crate::pitr::{between, markers};
    let mut env = TestEnv::new();
    env.init();
    dir_offsite(&env);
    let marks = src_backed_up_with_markers(&env, None);
    // The host tier reaches the moment too: --from-repository says which to use.
    let t = between(&marks[1].0, &marks[2].0);
    let r = env
        .dbctl(&[
            "clone",
            "src",
            "--as",
            "pit",
            "--from-repository",
            "--at",
            &t,
        ])
        .ok();
    assert!(r.stderr.contains("in repository offsite"), "{}", r.stderr);
    assert_eq!(markers(&env, "pit"), "1,2");
    env.dbctl(&[
        "clone",
        "src",
        "--as",
        "newest",
        "--from-repository",
        "--latest",
    ])
    .ok();
    assert_eq!(markers(&env, "newest"), "1,2,3");
    // What was brought from the repository is gone from the host again.
    let root = env.local_root();
    for dir in ["snapshots", "wal"] {
        let left: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("-r"))
            .filter(|n| n.ends_with("-snap") || n.ends_with("-logs"))
            .collect();
        assert!(left.is_empty(), "{dir}: {left:?}");
    }
    // In place on the host first: src goes on on timeline 2, whose history is in its own
    // archive only (not shipped).
    env.dbctl(&["restore", "src", "--in-place", "--yes", "--at", &t])
        .ok();
    // In place, from the repository: the name and port stay, the data goes back.
    let port = env.dbctl(&["describe", "src", "-o", "json"]).ok().json()["port"].clone();
    env.dbctl(&[
        "restore",
        "src",
        "--in-place",
        "--yes",
        "--from-repository",
        "--at",
        &t,
    ])
    .ok();
    assert_eq!(markers(&env, "src"), "1,2");
    assert_eq!(
        env.dbctl(&["describe", "src", "-o", "json"]).ok().json()["port"],
        port
    );
    // It took a timeline past the one its own archive holds, so its archiving goes on
    // (before, it took timeline 2 again and every later segment was refused).
    env.psql("src", "insert into markers values (9)");
    env.psql("src", "select pg_switch_wal()");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let a = env.psql(
            "src",
            "select coalesce(last_archived_wal, '') || ' ' || failed_count from pg_stat_archiver",
        );
        assert!(a.ends_with(" 0"), "archiving fails: {a}");
        if a.starts_with("00000003") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{a}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    // Past what was shipped: refused with the window, nothing made.
    let before = env.instance_count();
    env.dbctl(&[
        "clone",
        "src",
        "--as",
        "future",
        "--from-repository",
        "--at",
        "2099-01-01T00:00:00Z",
    ])
    .one_line_error(2, "outside the restorable window");
    assert_eq!(env.instance_count(), before);
}

#[test]
fn an_instance_whose_host_is_destroyed_comes_back_elsewhere_from_garage_with_every_shipped_commit()
{
    use crate::pitr::{between, markers};
    let mut env = TestEnv::new();
    env.init();
    // Kept until the end: dropping it stops the server.
    let _garage = garage_offsite(&env);
    let h1 = env.ssh_host("doomed", 1, "ed25519", None);
    env.add_host(&h1).ok();
    let marks = src_backed_up_with_markers(&env, Some("doomed"));
    let endpoint_before =
        env.dbctl(&["describe", "src", "-o", "json"]).ok().json()["endpoint"].clone();

    env.destroy_host(&h1);
    // A clone to a moment between markers: the host does not answer, the repository does.
    env.dbctl(&[
        "clone",
        "src",
        "--as",
        "pit",
        "--host",
        "local",
        "--at",
        &between(&marks[0].0, &marks[1].0),
    ])
    .ok();
    assert_eq!(markers(&env, "pit"), "1");
    // The latest point falls back the same way: as far as was shipped, and it says that
    // later commits on the silent host are not in the copy (before, the log switch on the
    // silent host failed the command).
    let r = env
        .dbctl(&[
            "clone", "src", "--as", "newest", "--host", "local", "--latest",
        ])
        .ok();
    assert!(
        r.stderr.contains("does not answer") && r.stderr.contains("are not in it"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("in repository offsite"), "{}", r.stderr);
    assert_eq!(markers(&env, "newest"), "1,2,3");
    // Recovery needs to be told where while the host is only silent: its server cannot be
    // stopped. Once the host is removed for good, the instance lives on in the repository.
    env.dbctl(&["recover", "src", "--yes"])
        .one_line_error(1, "--host");
    env.dbctl(&["host", "remove", "doomed", "--force"]).ok();
    env.dbctl(&["describe", "src"])
        .one_line_error(2, "no instance");
    let r = env.dbctl(&["recover", "src", "--yes"]).ok();
    assert!(r.stderr.contains("not stopped"), "{}", r.stderr);
    assert_eq!(markers(&env, "src"), "1,2,3");
    let d = env.dbctl(&["describe", "src", "-o", "json"]).ok().json();
    assert_eq!(d["host"], "local");
    assert_ne!(d["endpoint"], endpoint_before);
    // Its history's backups and shipped logs still count for it.
    assert!(d["offsite"]["last_backup_at"].is_string(), "{d}");
    assert!(
        d["offsite"]["logs_through"].as_str().unwrap() > marks[2].0.as_str(),
        "{d}"
    );
    // It goes on shipping to its repository from its new host.
    env.psql("src", "insert into markers values (4)");
    env.dbctl(&["sweep"]).ok();
}

#[test]
fn sweep_backs_up_in_the_window_and_expiry_keeps_the_pinned_and_the_newest() {
    let mut env = TestEnv::new();
    env.init();
    let repo = dir_offsite(&env);
    // A window open now.
    let now = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let window = format!(
        "{:02}:{:02}-{:02}:{:02}",
        now.hour(),
        now.minute(),
        (now.hour() + 1) % 24,
        now.minute()
    );
    env.dbctl(&[
        "create",
        "src",
        "--backup-repository",
        "offsite",
        "--backup-window",
        &window,
        "--backup-retention-days",
        "0",
        "--keep-daily",
        "0",
        "--keep-weekly",
        "0",
    ])
    .ok();
    let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json();
    assert_eq!(swept["queued"].as_array().unwrap().len(), 1, "{swept}");
    assert_eq!(swept["workflows"][0]["action"], "backup", "{swept}");
    assert_eq!(swept["workflows"][0]["outcome"], "succeeded", "{swept}");
    // Once per window.
    let again = env.dbctl(&["sweep", "-o", "json"]).ok().json();
    assert!(again["queued"].as_array().unwrap().is_empty(), "{again}");
    let id = |r: crate::common::Run| r.json()["id"].as_i64().unwrap();
    let pinned = id(env
        .dbctl(&["backup", "create", "src", "--keep-forever", "-o", "json"])
        .ok());
    let middle = id(env.dbctl(&["backup", "create", "src", "-o", "json"]).ok());
    let newest = id(env.dbctl(&["backup", "create", "src", "-o", "json"]).ok());
    let snapshots_in_repo = || std::fs::read_dir(repo.join("snapshots")).unwrap().count();
    let before = snapshots_in_repo();
    // A dry run says what expiry would remove, and removes nothing.
    let listed = || {
        env.dbctl(&["backup", "list", "src", "-o", "json"])
            .ok()
            .json()
    };
    let all = listed();
    let would = env.dbctl(&["sweep", "--dry-run", "-o", "json"]).ok().json();
    let mut would: Vec<i64> = would[0]["backups"]
        .as_array()
        .unwrap_or_else(|| panic!("{would}"))
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let table = env.dbctl(&["sweep", "--dry-run"]).ok().stdout;
    assert!(
        table.contains("offsite") && table.contains("src"),
        "{table}"
    );
    assert_eq!(listed(), all);
    assert_eq!(snapshots_in_repo(), before);
    let swept = env.dbctl(&["sweep", "-o", "json"]).ok().json();
    let removed: Vec<i64> = swept["expired"][0]["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(removed.len(), 2, "{swept}");
    assert!(removed.contains(&middle), "{swept}");
    let mut gone = removed.clone();
    gone.sort_unstable();
    would.sort_unstable();
    assert_eq!(would, gone, "the dry run named other backups");
    // The log files shipped before the newest backup went with them (no window is kept).
    assert!(
        swept["expired"][0]["log_files"].as_u64().unwrap() > 0,
        "{swept}"
    );
    let left: Vec<i64> = env
        .dbctl(&["backup", "list", "src", "-o", "json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect();
    assert_eq!(left, [pinned, newest]);
    assert_eq!(snapshots_in_repo(), before - 2);
    // The pinned one still restores.
    env.dbctl(&[
        "clone",
        "src",
        "--as",
        "kept",
        "--backup",
        &pinned.to_string(),
    ])
    .ok();
    assert_eq!(env.status_of("kept"), "available");
}

/// The largest file under `dir` (a repository's biggest pack).
fn largest_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut best = (0, std::path::PathBuf::new());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let len = std::fs::metadata(&p).unwrap().len();
                if len > best.0 {
                    best = (len, p);
                }
            }
        }
    }
    best.1
}

#[test]
fn a_damaged_object_is_named_by_verify_and_fails_a_restore_that_leaves_nothing() {
    let mut env = TestEnv::new();
    env.init();
    let repo = dir_offsite(&env);
    env.dbctl(&[
        "create",
        "src",
        "--backup-repository",
        "offsite",
        "--backup-window",
        "none",
    ])
    .ok();
    env.psql(
        "src",
        "create table t as select g from generate_series(1, 100000) g",
    );
    let b = env
        .dbctl(&["backup", "create", "src", "-o", "json"])
        .ok()
        .json();
    let check = env
        .dbctl(&["repository", "check", "offsite", "-o", "json"])
        .ok()
        .json();
    assert_eq!(
        (
            check["reachable"].as_bool(),
            check["key_opens"].as_bool(),
            check["writable"].as_bool()
        ),
        (Some(true), Some(true), Some(true)),
        "{check}"
    );
    assert_eq!(check["backups"], 1);
    assert_eq!(check["format_version"], 2);
    let clean = env.dbctl(&["repository", "verify", "offsite"]).ok();
    assert!(clean.stderr.contains("intact"), "{}", clean.stderr);

    // One byte of the biggest pack changes.
    let pack = largest_file(&repo.join("data"));
    let mut bytes = std::fs::read(&pack).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&pack, &bytes).unwrap();
    let name = format!(
        "data/{}/{}",
        pack.parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy(),
        pack.file_name().unwrap().to_string_lossy()
    );
    let r = env
        .dbctl(&["repository", "verify", "offsite", "-o", "json"])
        .fails_with(1);
    let v = r.json();
    assert_eq!(v["damaged"][0]["object"], name.as_str(), "{v}");
    assert_eq!(v["damaged"][0]["backups"][0], b["id"], "{v}");
    assert!(
        r.stderr.contains("1 backup(s) cannot be restored"),
        "{}",
        r.stderr
    );

    // A restore that meets it fails, names it, and leaves nothing behind.
    let before = env.instance_count();
    let r = env
        .dbctl(&["clone", "src", "--as", "broken", "--from-repository"])
        .fails_with(1);
    assert!(r.stderr.contains(&name), "{}", r.stderr);
    assert_eq!(env.instance_count(), before);
    let left: Vec<String> = std::fs::read_dir(env.local_root().join("snapshots"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-snap") || n.contains(".partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Removing it is refused while a policy names it; then it is forgotten, its key kept.
    env.dbctl(&["repository", "remove", "offsite"])
        .one_line_error(2, "backup repository of src");
    env.dbctl(&["delete", "src", "--yes", "--skip-final-snapshot"])
        .ok();
    env.dbctl(&["repository", "remove", "offsite"]).ok();
    let listed = env.dbctl(&["repository", "list", "-o", "json"]).ok().json();
    assert!(listed.as_array().unwrap().is_empty(), "{listed}");
    if env.catalog.is_some() {
        assert_eq!(
            env.catalog_i64(
                "SELECT count(*) FROM secrets WHERE name LIKE 'file:repository-offsite.key.%.removed'"
            ),
            1
        );
    } else {
        let kept: Vec<String> = std::fs::read_dir(env.home.join("secrets"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("repository-offsite.key") && n.ends_with(".removed"))
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?}");
    }
    assert!(repo.join("config").exists());
}

/// The README's disaster runbook for `engine`, as CI runs it.
fn readme_runbook(engine: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let marker = format!("<!-- runbook:{engine} -->\n```sh\n");
    let start = readme.find(&marker).expect("the README's runbook") + marker.len();
    let len = readme[start..].find("```\n").unwrap();
    readme[start..start + len].to_string()
}

/// A server the runbook started, stopped by its pid however the test ends.
struct Started(std::path::PathBuf);

impl Drop for Started {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.0.join("postmaster.pid")).unwrap_or_default();
        if let Some(pid) = pid.lines().next().and_then(|l| l.trim().parse().ok()) {
            crate::common::kill_pid(pid);
        }
    }
}

#[test]
fn restic_alone_opens_the_repository_and_the_readme_runbook_brings_back_every_shipped_commit() {
    let mut env = TestEnv::new();
    env.init();
    let dir = dir_offsite(&env);
    let marks = src_backed_up_with_markers(&env, None);
    // Private as restic makes its own: nobody else can copy it away to attack the key.
    for p in [dir.clone(), dir.join("data"), dir.join("snapshots")] {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", p.display());
    }
    let pass = env.dir.join("offsite.password");
    env.dbctl(&[
        "repository",
        "export-key",
        "offsite",
        pass.to_str().unwrap(),
    ])
    .ok();
    let restic = |args: &[&str]| {
        let out = std::process::Command::new("restic")
            .arg("-r")
            .arg(&dir)
            .arg("--password-file")
            .arg(&pass)
            .args(args)
            .env("RESTIC_CACHE_DIR", env.dir.join("restic-cache"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "restic {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // Each snapshot says what it is by its tags: the backup with dbctl's id, the shipments.
    let listed: serde_json::Value =
        serde_json::from_str(&restic(&["snapshots", "--json"])).unwrap();
    let tags: Vec<Vec<String>> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| serde_json::from_value(s["tags"].clone()).unwrap())
        .collect();
    let backups = env
        .dbctl(&["backup", "list", "src", "-o", "json"])
        .ok()
        .json();
    let id = backups[0]["id"].to_string();
    assert!(
        tags.contains(&vec![
            format!("backup={id}"),
            "instance=src".into(),
            "kind=backup".into()
        ]),
        "{tags:?}"
    );
    assert!(
        tags.contains(&vec!["instance=src".into(), "kind=logs".into()]),
        "{tags:?}"
    );
    restic(&["check"]);

    // The runbook, word for word, with restic, jq and PostgreSQL alone.
    let version = env.psql("src", "show server_version_num");
    let major = version.trim().parse::<u32>().unwrap() / 10000;
    let pgbin = format!("/usr/lib/postgresql/{major}/bin");
    let target = env.dir.join("restored");
    std::fs::create_dir(&target).unwrap();
    let server = Started(target.join("backup/data"));
    let port = env.ports(3)[0].to_string();
    let out = std::process::Command::new("timeout")
        .args([
            "300",
            "bash",
            "-euo",
            "pipefail",
            "-c",
            &readme_runbook("postgresql"),
        ])
        .env("REPO", &dir)
        .env("PASSWORD_FILE", &pass)
        .env("INSTANCE", "src")
        .env("TARGET", &target)
        .env("PGBIN", &pgbin)
        .env("PORT", &port)
        .env("RESTIC_CACHE_DIR", env.dir.join("restic-cache"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the runbook failed: {}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(target.join("server.log")).unwrap_or_default()
    );
    // Every commit shipped is there: the last was made after the backup.
    let url = env.dbctl(&["url", "src"]).ok().stdout;
    let (user, db) = {
        let rest = url.trim().split_once("://").unwrap().1;
        let user = rest.split([':', '@']).next().unwrap().to_string();
        let db = rest
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        (user, db)
    };
    let q = std::process::Command::new("runuser")
        .args(["-u", "postgres", "--", "psql", "-X", "-tA", "-h"])
        .arg(&target)
        .args(["-p", &port, "-U", &user, "-d", &db, "-c"])
        .arg("select string_agg(id::text, ',' order by id) from markers")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&q.stdout).trim(),
        "1,2,3",
        "{}",
        String::from_utf8_lossy(&q.stderr)
    );
    assert_eq!(marks.len(), 3);
    drop(server);
}
