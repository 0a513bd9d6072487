//! Repartitioning: a database split into shards by cloning it.

use crate::common::TestEnv;

fn ids(env: &TestEnv, instance: &str, sql: &str) -> Vec<i64> {
    env.psql(instance, sql)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

#[test]
fn a_pgbench_database_splits_into_three_disjoint_complete_shards_on_two_hosts() {
    let mut env = TestEnv::new();
    env.init();
    let far = env.ssh_host("far", 1, "ed25519", None);
    env.add_host(&far).ok();
    env.dbctl(&["create", "src", "--host", "local"]).ok();
    let init = env
        .pgbench("src", &["-q", "-i", "-s", "2"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let run = env.pgbench("src", &["-n", "-t", "300"]).output().unwrap();
    assert!(run.status.success());
    // Bad input: one line each, nothing made.
    let key = "pgbench_accounts.aid,pgbench_history.aid";
    env.dbctl(&["repartition", "src", "--shards", "1", "--key", key])
        .one_line_error(2, "makes no split");
    env.dbctl(&[
        "repartition",
        "src",
        "--shards",
        "3",
        "--key",
        "pgbench_accounts.nope",
    ])
    .one_line_error(2, "has no column nope");
    env.dbctl(&["repartition", "src", "--shards", "3", "--key", "accounts"])
        .one_line_error(2, "not TABLE.COLUMN");
    env.dbctl(&["repartition", "nope", "--shards", "3", "--key", key])
        .one_line_error(2, "no instance named");
    assert_eq!(env.instance_names(), ["src"]);

    let r = env
        .dbctl(&[
            "repartition",
            "src",
            "--shards",
            "3",
            "--key",
            key,
            "--hosts",
            "local,far",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(env.instance_names(), ["src", "src-1", "src-2", "src-3"]);
    let host = |n: &str| env.dbctl(&["describe", n, "-o", "json"]).ok().json()["host"].clone();
    assert_eq!(host("src-1"), "local");
    assert_eq!(host("src-2"), "far");
    assert_eq!(host("src-3"), "local");

    // The test's own check: the keyed rows are disjoint and together the source's (it has
    // taken no writes since); the unkeyed tables are whole in every shard.
    for (table, sql) in [
        ("accounts", "select aid from pgbench_accounts order by aid"),
        ("history", "select aid from pgbench_history order by aid"),
    ] {
        let source = ids(&env, "src", sql);
        let mut seen = std::collections::BTreeMap::<i64, usize>::new();
        let mut union = Vec::new();
        for shard in ["src-1", "src-2", "src-3"] {
            let rows = ids(&env, shard, sql);
            assert!(
                !rows.is_empty() || table == "history",
                "{shard} has no {table}"
            );
            for id in &rows {
                *seen.entry(*id).or_default() += 1;
            }
            union.extend(rows);
        }
        union.sort();
        assert_eq!(
            union, source,
            "{table}: the shards together are not the source"
        );
        if table == "accounts" {
            assert!(
                seen.values().all(|n| *n == 1),
                "an account is in two shards"
            );
        }
    }
    // Every index and key is back, valid, and answers like the source's.
    let indexes = "select string_agg(indexrelid::regclass || ':' || indisvalid || ':' || indisprimary, ',' order by indexrelid::regclass::text) from pg_index where indrelid::regclass::text like 'pgbench_%'";
    for shard in ["src-1", "src-2", "src-3"] {
        assert_eq!(
            env.psql(shard, "select count(*) from pgbench_branches"),
            env.psql("src", "select count(*) from pgbench_branches")
        );
        assert_eq!(
            env.psql(shard, indexes),
            env.psql("src", indexes),
            "{shard}"
        );
        let dup = env.psql_fails(
            shard,
            "insert into pgbench_accounts (aid, bid, abalance) select aid, bid, 0 from pgbench_accounts limit 1",
        );
        assert!(dup.contains("duplicate key"), "{shard}: {dup}");
    }
    // A stopped source: one line, nothing made.
    env.dbctl(&["stop", "src"]).ok();
    env.dbctl(&[
        "repartition",
        "src",
        "--shards",
        "2",
        "--key",
        key,
        "--as",
        "again",
    ])
    .one_line_error(2, "src is stopped");
    assert_eq!(env.instance_names(), ["src", "src-1", "src-2", "src-3"]);
}
