//! `dbctl repartition`: a database split into shards by cloning it once per shard and
//! deleting, in each, the rows of the keyed tables that belong to another shard.
//!
//! The source is snapshotted once (it keeps serving) and cloned N times in parallel, placed
//! across the hosts given. In shard i (0-based) a keyed table keeps the rows whose key falls in
//! bucket i; unkeyed tables stay whole (reference data). Buckets, documented so applications
//! can route:
//!
//! - by hash (the default): `mod(mod(hashtextextended(coalesce(key::text, ''), 0), N) + N, N)`,
//!   PostgreSQL's own 64-bit text hash of the key's text form;
//! - by range (`--ranges`): the N-quantiles of the first key's values cut them into N spans
//!   (a NULL key goes to the last).
//!
//! Then each shard is vacuumed and the split is verified from what the first clone held before
//! its deletions (the source at the clone point): in every shard every keyed row is in that
//! shard's bucket (so the shards are disjoint), each table's rows across the shards add up to
//! the source's count and to its checksum (the sum of each row's hash), and each unkeyed table
//! is the source's in every shard. PostgreSQL sources only for now.

use crate::catalog::instances as irows;
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::base::home::Home;
use crate::control::restore::clones;
use crate::control::restore::clones::CloneOpts;
use crate::workflow::executor::Outcome;
use anyhow::{Context, Result};
use serde::Serialize;

/// What to split.
#[derive(Debug, Clone, Default)]
pub struct RepartitionOpts {
    pub source: String,
    pub shards: u32,
    /// `TABLE.COLUMN`, one a keyed table.
    pub keys: Vec<String>,
    /// The shards are PREFIX-1 .. PREFIX-N [default: the source's name].
    pub prefix: Option<String>,
    /// Hosts the shards go on, in turn [default: placement].
    pub hosts: Vec<String>,
    pub ranges: bool,
}

/// One table as the split left it.
#[derive(Debug, Clone, Serialize)]
pub struct TableCheck {
    pub table: String,
    /// Its key column, when it was split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub source_rows: i64,
    /// Rows in each shard, in shard order.
    pub shard_rows: Vec<i64>,
    /// Disjoint and complete (keyed), or whole in every shard (unkeyed).
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: String,
    pub snapshot_id: i64,
    pub shards: Vec<String>,
    /// How a row's shard is found.
    pub routing: String,
    pub tables: Vec<TableCheck>,
    pub verified: bool,
    /// Seconds to the shards' clones ready, and in all.
    pub cloned_secs: f64,
    pub total_secs: f64,
}

/// A quoted PostgreSQL identifier.
pub(super) fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn connect(ctx: &Ctx, name: &str) -> Result<postgres::Client> {
    login(
        &crate::control::instances::connect::connection(ctx, name)?,
        name,
    )
}

fn login(
    c: &crate::control::instances::connect::Connection,
    name: &str,
) -> Result<postgres::Client> {
    c.pg_client(None)
        .with_context(|| format!("connecting to {name}"))
}

/// Every base table of the current schema, by name.
fn tables(client: &mut postgres::Client) -> Result<Vec<String>> {
    Ok(client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// A row's hash (of row `x`): over the values themselves where every column's type can be
/// hashed (PostgreSQL 14 and later), else over the row's text, which is slower.
fn row_hash(client: &mut postgres::Client, table: &str) -> &'static str {
    let fast = "hash_record_extended(x, 0)";
    // The hash functions are looked up at the first row: one row tells.
    match client.query(
        &format!("SELECT {fast} FROM {} AS x LIMIT 1", ident(table)),
        &[],
    ) {
        Ok(_) => fast,
        Err(_) => "hashtextextended(x::text, 0)",
    }
}

/// A table's row count, its checksum (the sum of each row's `hash`, as text), and how many
/// of its rows match `strays` (none asked: 0), in one scan.
fn stats(
    client: &mut postgres::Client,
    table: &str,
    hash: &str,
    strays: Option<&str>,
) -> Result<(i64, String, i64)> {
    let t = ident(table);
    let row = client.query_one(
        &format!(
            "SELECT count(*), coalesce(sum({hash}::numeric), 0)::text, count(*) FILTER (WHERE {}) FROM {t} AS x",
            strays.unwrap_or("false")
        ),
        &[],
    )?;
    Ok((row.get(0), row.get(1), row.get(2)))
}

/// Keeps only the rows of `table` that `keep` selects, by putting them back: copied aside,
/// the table emptied and its indexes (and the unique constraints they back) dropped, the rows
/// written back, and the indexes built again over them: one sort each, where inserting
/// would have kept each index up to date row by row.
fn keep_only(tx: &mut postgres::Transaction, table: &str, keep: &str) -> Result<()> {
    let t = ident(table);
    let constraints: Vec<(String, String)> = tx
        .query(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint
              WHERE conrelid = $1::text::regclass AND contype IN ('p', 'u', 'x') ORDER BY oid",
            &[&t],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let indexes: Vec<(String, String)> = tx
        .query(
            "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid
              WHERE i.indrelid = $1::text::regclass
                AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                 WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
              ORDER BY c.oid",
            &[&t],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut sql = format!(
        "SET LOCAL maintenance_work_mem = '128MB';
         CREATE TEMP TABLE dbctl_keep ON COMMIT DROP AS SELECT * FROM {t} WHERE {keep};\n"
    );
    for (name, _) in &constraints {
        sql += &format!("ALTER TABLE {t} DROP CONSTRAINT {};\n", ident(name));
    }
    for (name, _) in &indexes {
        sql += &format!("DROP INDEX {};\n", ident(name));
    }
    sql += &format!(
        "TRUNCATE {t};\nINSERT INTO {t} SELECT * FROM dbctl_keep;\nDROP TABLE dbctl_keep;\n"
    );
    for (name, def) in &constraints {
        sql += &format!("ALTER TABLE {t} ADD CONSTRAINT {} {def};\n", ident(name));
    }
    for (_, def) in &indexes {
        sql += &format!("{def};\n");
    }
    tx.batch_execute(&sql)?;
    Ok(())
}

/// The expression giving a row's shard (0-based).
fn bucket(key: &str, n: u32, bounds: &[String], ty: &str) -> String {
    let k = ident(key);
    if bounds.is_empty() {
        return format!("mod(mod(hashtextextended(coalesce({k}::text, ''), 0), {n}) + {n}, {n})");
    }
    let arms: Vec<String> = bounds
        .iter()
        .enumerate()
        .map(|(i, b)| {
            format!(
                "WHEN {k} < CAST('{}' AS {ty}) THEN {i}",
                b.replace('\'', "''")
            )
        })
        .collect();
    format!("(CASE {} ELSE {} END)", arms.join(" "), n - 1)
}

/// Splits the source; the shards' names and what the verification found.
///
/// # Errors
/// Bad input (a shard count below 2, a key column that is not there, a name taken, a source
/// that is not PostgreSQL or not running), said before anything is made; a clone that fails
/// (the others are removed again).
pub fn run(home: &Home, o: &RepartitionOpts) -> Result<Report> {
    let started = std::time::Instant::now();
    let mut ctx = home.open()?;
    let src = crate::control::base::lookup::instance(&ctx, &o.source)?;
    if src.engine != "postgres" {
        return Err(invalid(
            format!(
                "{} runs {}: repartition splits PostgreSQL databases only for now",
                src.name, src.engine
            ),
            "clone it and split the copy by hand",
        ));
    }
    if src.status != crate::catalog::instances::status::AVAILABLE {
        return Err(invalid(
            format!(
                "{} is {}: a repartition snapshots it while it serves",
                src.name, src.status
            ),
            format!("start it first (`dbctl start {}`)", src.name),
        ));
    }
    if o.shards < 2 {
        return Err(invalid(
            format!("--shards {} makes no split", o.shards),
            "give 2 or more",
        ));
    }
    if o.keys.is_empty() {
        return Err(invalid(
            "no --key given",
            "name the keyed tables' columns: --key TABLE.COLUMN[,TABLE.COLUMN...]",
        ));
    }
    let prefix = o.prefix.clone().unwrap_or_else(|| src.name.clone());
    let names: Vec<String> = (1..=o.shards).map(|i| format!("{prefix}-{i}")).collect();
    for n in &names {
        crate::control::base::names::check("instance", n)?;
        if irows::live_by_name(ctx.catalog.conn(), n)?.is_some() {
            return Err(invalid(
                format!("an instance named `{n}` exists"),
                "give another --as prefix",
            ));
        }
    }
    for h in &o.hosts {
        crate::control::base::lookup::host(&ctx, h)?;
    }
    // The keys, checked against the source as it is.
    let mut keys: Vec<(String, String, String)> = Vec::new();
    let mut client = connect(&ctx, &src.name)?;
    for k in &o.keys {
        let Some((table, column)) = k.split_once('.') else {
            return Err(invalid(
                format!("--key {k} is not TABLE.COLUMN"),
                "e.g. --key orders.customer_id",
            ));
        };
        let found: Option<String> = client
            .query_opt(
                "SELECT current_database() || ', schema ' || current_schema() FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND c.relname = $1 AND c.relkind IN ('r', 'p')",
                &[&table],
            )?
            .map(|r| r.get(0));
        if found.is_none() {
            let place: String = client
                .query_one(
                    "SELECT current_database() || ', schema ' || current_schema()",
                    &[],
                )?
                .get(0);
            return Err(invalid(
                format!("{} has no table {table} (in database {place})", src.name),
                "repartition splits the tables of the instance's own database in its current schema",
            ));
        }
        let ty: Option<String> = client
            .query_opt(
                "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND c.relname = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
                &[&table, &column],
            )?
            .map(|r| r.get(0));
        let Some(ty) = ty else {
            return Err(invalid(
                format!("table {table} of {} has no column {column}", src.name),
                "see the table's columns (\\d in `dbctl connect`)",
            ));
        };
        if keys.iter().any(|(t, _, _)| t == table) {
            return Err(invalid(
                format!("table {table} is keyed twice"),
                "give each table one key column",
            ));
        }
        keys.push((table.to_string(), column.to_string(), ty));
    }
    drop(client);

    // Each shard's clone, planned without writing it: a host without room or the engine is
    // found before the snapshot is taken.
    for (i, n) in names.iter().enumerate() {
        clones::plan_clone(&mut ctx, &shard_opts(&src.name, n, &o.hosts, i, None), true)?;
    }

    // One snapshot of the source, cloned N times at once.
    let plan = crate::control::restore::snapshots::plan_create(
        &mut ctx,
        &src.name,
        Some("repartition"),
        false,
    )?;
    let wf = plan.workflow_id.context("the snapshot was not written")?;
    match crate::control::admin::runs::execute(&mut ctx, wf, &crate::workflow::progress::Silent)? {
        Outcome::Succeeded => {}
        other => anyhow::bail!("the snapshot of {} did not finish: {other:?}", src.name),
    }
    let snap = crate::catalog::snapshots::list(ctx.catalog.conn(), Some(&src.name))?
        .into_iter()
        .filter(|s| s.workflow_id == Some(wf))
        .map(|s| s.id)
        .next()
        .context("the snapshot just taken is not in the catalog")?;
    let mut planned = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let p = clones::plan_clone(
            &mut ctx,
            &shard_opts(&src.name, n, &o.hosts, i, Some(snap)),
            false,
        );
        match p {
            Ok(p) => planned.push((n.clone(), p.workflow_id)),
            Err(e) => {
                remove(home, &planned);
                return Err(e.context(kept(snap)));
            }
        }
    }
    let outcomes: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = planned
            .iter()
            .map(|(n, wf)| {
                s.spawn(move || -> Result<()> {
                    let mut c = home.open()?;
                    let wf = wf.context("the clone was not written")?;
                    match crate::control::admin::runs::execute(
                        &mut c,
                        wf,
                        &crate::workflow::progress::Silent,
                    )? {
                        Outcome::Succeeded => Ok(()),
                        other => anyhow::bail!("the clone {n} did not finish: {other:?}"),
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a clone panicked")))
            })
            .collect()
    });
    if let Some(e) = outcomes.into_iter().find_map(|r| r.err()) {
        remove(home, &planned);
        return Err(e.context(format!(
            "repartition stopped; the shards made were removed, {}",
            kept(snap)
        )));
    }

    let cloned_secs = started.elapsed().as_secs_f64();
    // The source at the clone point: the first shard before its deletions.
    let ctx = home.open()?;
    let logins: Vec<crate::control::instances::connect::Connection> = names
        .iter()
        .map(|n| crate::control::instances::connect::connection(&ctx, n))
        .collect::<Result<_>>()?;
    let mut first = login(&logins[0], &names[0])?;
    let all = tables(&mut first)?;
    let hashes: Vec<&str> = all.iter().map(|t| row_hash(&mut first, t)).collect();
    let n = o.shards;
    let bounds: Vec<String> = if o.ranges {
        let (t, c, _) = &keys[0];
        let fractions: Vec<f64> = (1..n).map(|i| f64::from(i) / f64::from(n)).collect();
        let row = first.query_one(
            &format!(
                "SELECT percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY {}) ::text[] FROM {}",
                ident(c),
                ident(t)
            ),
            &[&fractions],
        )?;
        row.get::<_, Vec<Option<String>>>(0)
            .into_iter()
            .flatten()
            .collect()
    } else {
        Vec::new()
    };
    // Tables rows are put back into by truncating and reinserting (a quarter of the rows
    // written instead of three quarters deleted): none another table's foreign key points
    // at, and none with generated columns. The rest are deleted from.
    let refill: Vec<String> = first
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
              WHERE s.nspname = current_schema() AND c.relkind = 'r'
                AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = c.oid AND f.contype = 'f')
                AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                                AND (a.attgenerated <> '' OR a.attidentity = 'a'))",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    drop(first);
    let routing = if o.ranges {
        format!(
            "by range of {}.{}: shard i holds the keys between the i-th and the next of [{}]",
            keys[0].0,
            keys[0].1,
            bounds.join(", ")
        )
    } else {
        format!("by hash: shard i+1 holds the rows where mod(mod(hashtextextended(coalesce(key::text, ''), 0), {n}) + {n}, {n}) = i")
    };
    // Every shard at once: (the first: the source's counts first), its rows kept, vacuumed,
    // then counted again.
    type Stats = Vec<(i64, String, i64)>;
    let results: Vec<Result<(Option<Stats>, Stats)>> = std::thread::scope(|sc| {
        let handles: Vec<_> = logins
            .iter()
            .zip(&names)
            .enumerate()
            .map(|(i, (l, name))| {
                let (all, keys, bounds, refill, hashes) = (&all, &keys, &bounds, &refill, &hashes);
                sc.spawn(move || -> Result<(Option<Stats>, Stats)> {
                    let mut c = login(l, name)?;
                    // The rows kept aside stay in memory, not in temporary files (this must
                    // come before the session's first temporary table).
                    c.batch_execute("SET temp_buffers = '256MB'")?;
                    let source = if i == 0 {
                        Some(
                            all.iter()
                                .zip(hashes)
                                .map(|(t, h)| stats(&mut c, t, h, None).map(|(r, s, _)| (r, s, 0)))
                                .collect::<Result<Stats>>()?,
                        )
                    } else {
                        None
                    };
                    let mut tx = c.transaction()?;
                    for (t, col, ty) in keys {
                        let b = bucket(col, n, bounds, ty);
                        let table = ident(t);
                        if refill.contains(t) {
                            keep_only(&mut tx, t, &format!("{b} = {i}"))?;
                        } else {
                            tx.batch_execute(&format!("DELETE FROM {table} WHERE {b} <> {i}"))?;
                        }
                    }
                    tx.commit()?;
                    for (t, _, _) in keys {
                        c.batch_execute(&format!("VACUUM ANALYZE {}", ident(t)))?;
                    }
                    let after = all
                        .iter()
                        .zip(hashes)
                        .map(|(t, h)| {
                            let strays =
                                keys.iter().find(|(kt, _, _)| kt == t).map(|(_, col, ty)| {
                                    format!("{} <> {i}", bucket(col, n, bounds, ty))
                                });
                            stats(&mut c, t, h, strays.as_deref())
                        })
                        .collect::<Result<Stats>>()?;
                    Ok((source, after))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a shard's split panicked")))
            })
            .collect()
    });
    let mut source: Stats = Vec::new();
    let mut per_shard: Vec<Stats> = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        let (src_stats, after) = r.with_context(|| format!("splitting {}", names[i]))?;
        if let Some(s) = src_stats {
            source = s;
        }
        per_shard.push(after);
    }
    let mut checks = Vec::new();
    for (ti, t) in all.iter().enumerate() {
        let key = keys.iter().find(|(kt, _, _)| kt == t);
        let (src_rows, src_sum, _) = &source[ti];
        let rows: Vec<i64> = per_shard.iter().map(|s| s[ti].0).collect();
        let ok = match key {
            Some(_) => {
                let total: i64 = rows.iter().sum();
                let sum = per_shard
                    .iter()
                    .map(|s| s[ti].1.parse::<i128>().unwrap_or(i128::MIN))
                    .try_fold(0i128, |a, b| a.checked_add(b));
                per_shard.iter().all(|s| s[ti].2 == 0)
                    && total == *src_rows
                    && sum.map(|s| s.to_string()) == Some(src_sum.clone())
            }
            None => per_shard
                .iter()
                .all(|s| s[ti].0 == *src_rows && s[ti].1 == *src_sum),
        };
        checks.push(TableCheck {
            table: t.clone(),
            key: key.map(|(_, c, _)| c.clone()),
            source_rows: *src_rows,
            shard_rows: rows,
            ok,
        });
    }
    let verified = checks.iter().all(|c| c.ok);
    let report = Report {
        source: src.name.clone(),
        snapshot_id: snap,
        shards: names,
        routing,
        tables: checks,
        verified,
        cloned_secs,
        total_secs: started.elapsed().as_secs_f64(),
    };
    crate::catalog::events::add(
        ctx.catalog.conn(),
        Some((src.id, &src.name)),
        None,
        "repartitioned",
        &format!(
            "{} split into {} ({}), {}",
            src.name,
            report.shards.join(", "),
            report.routing,
            if verified {
                "disjoint and complete"
            } else {
                "NOT verified"
            }
        ),
    )?;
    Ok(report)
}

/// What a failed repartition leaves: its snapshot, said with how to remove it.
fn kept(snap: i64) -> String {
    format!("the snapshot {snap} taken for it is kept (`dbctl snapshot delete {snap}` removes it)")
}

/// Shard `i`'s clone: on the i-th host given, in turn (else placed), from `snapshot` (none:
/// a fresh one, for planning only).
fn shard_opts(
    source: &str,
    name: &str,
    hosts: &[String],
    i: usize,
    snapshot: Option<i64>,
) -> CloneOpts {
    CloneOpts {
        source: source.to_string(),
        name: name.to_string(),
        host: (!hosts.is_empty()).then(|| hosts[i % hosts.len()].clone()),
        snapshot,
        fresh: snapshot.is_none(),
        labels: vec![format!("repartition={source}")],
        ..Default::default()
    }
}

/// Takes back the shards a failed repartition planned: a clone that has not run is
/// cancelled (nothing of it is made), one that finished is deleted, one that failed has
/// already undone itself.
fn remove(home: &Home, planned: &[(String, Option<i64>)]) {
    use crate::catalog::workflows::{self, status};
    for (n, wf) in planned {
        let _ = home.open().and_then(|mut ctx| {
            if let Some(wf) = wf {
                let w = workflows::get(ctx.catalog.conn(), *wf)?;
                if !status::is_finished(&w.status) {
                    crate::control::admin::runs::cancel_because(
                        &mut ctx,
                        *wf,
                        "the repartition it was part of stopped",
                        &crate::workflow::progress::Silent,
                    )?;
                    return Ok(());
                }
                if w.status != status::SUCCEEDED {
                    return Ok(());
                }
            }
            let p = crate::control::instances::delete::plan_delete(&mut ctx, n, true, false)?;
            if let Some(wf) = p.workflow_id {
                crate::control::admin::runs::execute(
                    &mut ctx,
                    wf,
                    &crate::workflow::progress::Silent,
                )?;
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_hash_or_by_range() {
        assert_eq!(
            bucket("bid", 3, &[], "integer"),
            "mod(mod(hashtextextended(coalesce(\"bid\"::text, ''), 0), 3) + 3, 3)"
        );
        assert_eq!(
            bucket("aid", 3, &["10".into(), "20".into()], "integer"),
            "(CASE WHEN \"aid\" < CAST('10' AS integer) THEN 0 WHEN \"aid\" < CAST('20' AS integer) THEN 1 ELSE 2 END)"
        );
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
    }
}
