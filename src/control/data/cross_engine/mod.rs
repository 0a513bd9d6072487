//! `dbctl clone SRC --as NEW --engine postgres`: a MariaDB instance cloned into a new
//! PostgreSQL instance, verified table by table.
//!
//! The source is never read from: a scratch clone of it (to the latest point or `--at`) is
//! made first, with an expiry so that one left by a process that died goes by itself. A new
//! PostgreSQL instance is created beside it, both at once. pgloader, run on this machine,
//! then carries each of the clone's databases into a PostgreSQL database of the same name
//! (its tables in a schema of that name, on the database's search path). Its command file
//! holds both passwords and is readable by this user only; nothing secret is on a command line.
//!
//! pgloader reports rows it could not load and carries on, so its word is not taken: each
//! table's rows are counted on both sides and summed as a checksum over a canonical text form
//! of each row (the same text for the same value in either engine: see [`canonical`]). A
//! copy that does not add up is deleted, never handed over. What pgloader does not carry
//! (triggers, routines, views, events) is listed, as are columns no exact form is known for.

mod load;
mod verify;

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::base::home::Home;
use crate::control::instances::create::CreateOpts;
use crate::control::instances::lifetimes::LifetimeOpts;
use crate::control::restore::clones;
use crate::control::restore::clones::CloneOpts;
use crate::workflow::executor::Outcome;
use crate::workflow::progress::Progress;
use anyhow::{Context, Result};
use load::{carry, plain_name};
use serde::Serialize;

/// How long the scratch clone lives at most.
const SCRATCH_EXPIRES: &str = "6h";

/// The label both instances carry while the run that makes them lives, naming the new
/// instance, whose lease (`cross-engine:NAME`) the run holds and renews. A labelled instance
/// whose lease lapsed was left by a run that died: the sweep deletes it.
const LOADING: &str = "dbctl/loading-into";

/// How long the run's lease lasts unrenewed, and how often it is renewed.
const LEASE_SECS: u32 = 20;
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

fn lease_name(name: &str) -> String {
    format!("cross-engine:{name}")
}

/// The run's lease, renewed by a thread of its own until dropped, then given back.
struct Held {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Held {
    fn take(home: &Home, name: &str) -> Result<Self> {
        let holder = format!("{}:{:016x}", std::process::id(), rand::random::<u64>());
        let lease = lease_name(name);
        if !crate::catalog::leases::take(home.open()?.catalog.conn(), &lease, &holder, LEASE_SECS)?
        {
            return Err(invalid(
                format!("another clone into `{name}` is running"),
                "wait for it to end, or choose another --as",
            ));
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (home, flag) = (home.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            use std::sync::atomic::Ordering;
            let mut since = std::time::Instant::now();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(200));
                if since.elapsed() >= RENEW_EVERY {
                    since = std::time::Instant::now();
                    if let Ok(ctx) = home.open() {
                        let _ = crate::catalog::leases::take(
                            ctx.catalog.conn(),
                            &lease,
                            &holder,
                            LEASE_SECS,
                        );
                    }
                }
            }
            if let Ok(ctx) = home.open() {
                let _ = crate::catalog::leases::release(ctx.catalog.conn(), &lease, &holder);
            }
        });
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Deletes what runs that died left: instances labelled as being loaded whose run's lease
/// lapsed. Returns their names.
///
/// # Errors
/// The catalog cannot be read.
pub fn close_abandoned(home: &Home) -> Result<Vec<String>> {
    let ctx = home.open()?;
    let conn = ctx.catalog.conn();
    let kind = crate::catalog::labels::kind::INSTANCE;
    let mut left = Vec::new();
    for i in crate::catalog::instances::list_live(conn)? {
        if let Some(into) = crate::catalog::labels::of(conn, kind, i.id)?.get(LOADING) {
            // A lease that can be taken is one its run no longer renews.
            if crate::catalog::leases::take(conn, &lease_name(into), "sweep", 1)? {
                left.push((i.name.clone(), i.id, into.clone()));
            }
        }
    }
    drop(ctx);
    let mut gone = Vec::new();
    for (name, id, into) in left {
        if remove(home, &name).is_none() {
            if let Ok(ctx) = home.open() {
                let _ = crate::catalog::events::add(
                    ctx.catalog.conn(),
                    Some((id, &name)),
                    None,
                    "cross_engine_clone_failed",
                    &format!("{name} was left half-made by a clone into {into} whose process stopped; deleted"),
                );
            }
            gone.push(name);
        }
    }
    Ok(gone)
}

/// The server's own databases, never carried.
pub(super) const SYSTEM_DATABASES: &str =
    "'mysql', 'information_schema', 'performance_schema', 'sys'";

/// What to clone into which engine.
#[derive(Debug, Clone, Default)]
pub struct CrossOpts {
    /// The clone as asked: source, new name, point, class, host, labels, lifetime.
    pub clone: CloneOpts,
    /// The engine of the new instance.
    pub engine: String,
}

/// One table as the copy holds it.
#[derive(Debug, Clone, Serialize)]
pub struct TableCheck {
    /// `database.table`, as the source names it.
    pub table: String,
    pub source_rows: i64,
    /// None: the copy has no such table.
    pub target_rows: Option<i64>,
    pub checksum_equal: bool,
    /// Columns with no exact common text form, compared by the rows' count only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uncompared: Vec<String>,
    /// Columns whose values differ, when the rows' count is equal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differing: Vec<String>,
    pub ok: bool,
}

/// What the cross-engine clone made and found.
#[derive(Debug, Clone, Serialize)]
pub struct CrossReport {
    pub source: String,
    pub name: String,
    pub engine: String,
    /// What the scratch clone was made from: the snapshot and the point.
    pub from: String,
    /// Where each source database went.
    pub databases: Vec<String>,
    pub tables: Vec<TableCheck>,
    /// Every table's rows equal: the copy was kept. Otherwise it was deleted.
    pub verified: bool,
    /// What the copy lacks: triggers, routines, views, events, rows pgloader refused.
    pub not_carried: Vec<String>,
    /// What changed form on the way (read as UTC, zero dates, booleans).
    pub notes: Vec<String>,
    /// What could not be removed (the sweep removes it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_behind: Vec<String>,
    /// Seconds to the scratch clone and the new instance ready, loading, verifying, in all.
    pub ready_secs: f64,
    pub load_secs: f64,
    pub verify_secs: f64,
    pub secs: f64,
}

/// Refuses an engine pair other than MariaDB to PostgreSQL, naming it.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] naming the pair.
pub fn check_pair(from: &str, to: &str) -> Result<()> {
    crate::control::base::engines::get(to)?;
    if from == "mariadb" && to == "postgres" {
        return Ok(());
    }
    Err(invalid(
        format!("cloning a {from} instance into {to} is not supported"),
        "only MariaDB to PostgreSQL is (with pgloader); leave out --engine for a copy in the same engine",
    ))
}

/// The scratch clone's name: the new instance's, cut to fit.
fn scratch_name(name: &str) -> String {
    let tail = "-mariadb-src";
    let keep = 63usize.saturating_sub(tail.len());
    format!("{}{tail}", &name[..name.len().min(keep)])
}

/// A program this machine must have, found on PATH.
fn need(program: &str, package: &str, why: &str) -> Result<()> {
    let found = std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| {
            std::fs::metadata(d.join(program)).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
    });
    if found {
        Ok(())
    } else {
        Err(invalid(
            format!("{program} is not installed on this machine ({why})"),
            format!("install it: apt-get install {package}"),
        ))
    }
}

/// The scratch clone: the source as it is now unless a point or a snapshot is asked for (a
/// copy into another engine is taken to carry what the source holds): its newest snapshot
/// and every log after it, or, with no snapshot yet, a new one.
fn scratch_opts(ctx: &Ctx, o: &CrossOpts, scratch: &str) -> Result<CloneOpts> {
    let now = o.clone.target.is_none() && o.clone.snapshot.is_none() && !o.clone.fresh;
    let snapshots = crate::catalog::snapshots::list(ctx.catalog.conn(), Some(&o.clone.source))?;
    let has_snapshot = snapshots
        .iter()
        .any(|s| s.status == crate::catalog::snapshots::status::AVAILABLE);
    Ok(CloneOpts {
        target: if now && has_snapshot {
            Some(crate::wire::Target::Latest)
        } else {
            o.clone.target.clone()
        },
        fresh: o.clone.fresh || (now && !has_snapshot),
        name: scratch.to_string(),
        class: None,
        host: None,
        storage_gb: None,
        port: None,
        labels: vec![format!("{LOADING}={}", o.clone.name)],
        lifetime: LifetimeOpts {
            expires_in: Some(SCRATCH_EXPIRES.into()),
            ..Default::default()
        },
        scratch: true,
        ..o.clone.clone()
    })
}

fn create_opts(
    ctx: &Ctx,
    o: &CrossOpts,
    src: &crate::catalog::instances::InstanceRow,
) -> Result<CreateOpts> {
    let class = o.clone.class.clone().unwrap_or_else(|| src.class.clone());
    // As a clone's: the larger of the class's and the source's.
    let storage = ctx.config.class(&class)?.storage_gb.max(src.storage_gb);
    Ok(CreateOpts {
        name: o.clone.name.clone(),
        engine: o.engine.clone(),
        class,
        host: o.clone.host.clone(),
        storage_gb: Some(o.clone.storage_gb.unwrap_or(storage)),
        port: o.clone.port,
        admin_user: src.admin_user.clone(),
        archive_timeout_secs: src.archive_timeout_secs,
        policy: Default::default(),
        settings: Default::default(),
        source: Some(src.name.clone()),
        labels: o
            .clone
            .labels
            .iter()
            .cloned()
            .chain([format!("{LOADING}={}", o.clone.name)])
            .collect(),
        // Until it is verified the copy expires like the scratch clone, so one a dead
        // process leaves half-loaded goes by itself; then it lives as asked.
        lifetime: if asked_lifetime(o) {
            o.clone.lifetime.clone()
        } else {
            LifetimeOpts {
                expires_in: Some(SCRATCH_EXPIRES.into()),
                ..Default::default()
            }
        },
    })
}

/// Whether the clone was asked to end by itself.
fn asked_lifetime(o: &CrossOpts) -> bool {
    o.clone.lifetime.expires_in.is_some() || o.clone.lifetime.delete_when_idle.is_some()
}

/// Checks everything that can be checked before anything is made: the pair, the tools on
/// this machine, both names, the point, and where both instances would go.
///
/// # Errors
/// Bad input, one line each ([`crate::control::base::error::Invalid`]).
pub fn check(ctx: &mut Ctx, o: &CrossOpts) -> Result<()> {
    let src = crate::control::base::lookup::instance(ctx, &o.clone.source)?;
    check_pair(&src.engine, &o.engine)?;
    need("pgloader", "pgloader", "it carries the rows")?;
    need(
        "mariadb",
        "mariadb-client",
        "the rows are counted and checked with it",
    )?;
    let scratch = scratch_name(&o.clone.name);
    if scratch == o.clone.name {
        return Err(invalid(
            format!("`{}` is too long a name here", o.clone.name),
            "give a shorter --as",
        ));
    }
    if crate::catalog::instances::live_by_name(ctx.catalog.conn(), &scratch)?.is_some() {
        return Err(invalid(
            format!("`{scratch}`, the name of the scratch copy this clone reads from, is taken"),
            format!("delete it (`dbctl delete {scratch}`) if an earlier run left it, or choose another --as"),
        ));
    }
    // Database names pgloader cannot be given, asked of the source when it answers (its
    // scratch copy is asked again).
    if let Ok(rows) = crate::control::instances::connect::connection(ctx, &src.name)
        .and_then(|c| c.client_rows(&databases_sql()))
    {
        if let Some(odd) = rows
            .iter()
            .filter_map(|r| r.first())
            .find(|d| !plain_name(d))
        {
            return Err(invalid(
                format!("{} has a database named `{odd}`, which pgloader cannot be given", src.name),
                "rename it to letters, digits, _, $ and - only, or clone it with mariadb-dump by hand",
            ));
        }
    }
    let wanted = create_opts(ctx, o, &src)?;
    crate::control::instances::create::plan_create(ctx, &wanted, true)?;
    clones::plan_clone(ctx, &scratch_opts(ctx, o, &scratch)?, true)
        .map_err(|e| scratch_error(e, &src.name, &scratch))?;
    Ok(())
}

/// The databases carried: all but the server's own.
pub(super) fn databases_sql() -> String {
    format!("SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ({SYSTEM_DATABASES}) ORDER BY 1")
}

/// A scratch clone that cannot be planned, said as what it is (the user asked for no MariaDB
/// instance).
fn scratch_error(e: anyhow::Error, source: &str, scratch: &str) -> anyhow::Error {
    match e.downcast_ref::<crate::control::base::error::Invalid>() {
        Some(i) => invalid(
            format!("the scratch copy of {source} ({scratch}) that pgloader reads from cannot be made: {}", i.what),
            i.fix.clone(),
        ),
        None => e,
    }
}

/// Runs a planned workflow to its end.
fn execute(
    home: &Home,
    plan: &crate::control::planning::Plan,
    progress: &dyn Progress,
) -> Result<()> {
    let mut ctx = home.open()?;
    let wf = plan.workflow_id.context("the workflow was not written")?;
    match crate::control::admin::runs::execute(&mut ctx, wf, progress)? {
        Outcome::Succeeded => Ok(()),
        Outcome::Failed { reason, .. } => Err(anyhow::anyhow!("{reason}")),
        Outcome::Interrupted(why) => Err(anyhow::anyhow!(
            "{} stopped part-way{}",
            plan.instance,
            why.map(|w| format!(": {w}")).unwrap_or_default()
        )),
    }
}

/// Deletes an instance this command made (no final snapshot); one that will not go is said.
fn remove(home: &Home, name: &str) -> Option<String> {
    let gone = home.open().and_then(|mut ctx| {
        if crate::catalog::instances::live_by_name(ctx.catalog.conn(), name)?.is_none() {
            return Ok(());
        }
        let plan = crate::control::instances::delete::plan_delete(&mut ctx, name, true, false)?;
        match plan.workflow_id {
            Some(wf) => {
                match crate::control::admin::runs::execute(
                    &mut ctx,
                    wf,
                    &crate::workflow::progress::Silent,
                )? {
                    Outcome::Succeeded => Ok(()),
                    Outcome::Failed { reason, .. } => {
                        Err(anyhow::anyhow!("its delete failed: {reason}"))
                    }
                    Outcome::Interrupted(_) => Err(anyhow::anyhow!(
                        "its delete was interrupted; `dbctl sweep` removes it"
                    )),
                }
            }
            None => Ok(()),
        }
    });
    gone.err()
        .map(|e| format!("{name} could not be deleted: {e:#}"))
}

/// Clones the source into the other engine; a copy that does not add up is a report with
/// `verified: false` (and is deleted), not an error.
///
/// # Errors
/// Bad input (said before anything is made); a clone, create or pgloader that fails (what
/// was made is deleted again).
pub fn run(home: &Home, o: &CrossOpts, progress: &dyn Progress) -> Result<CrossReport> {
    let started = std::time::Instant::now();
    let mut ctx = home.open()?;
    check(&mut ctx, o)?;
    let _held = Held::take(home, &o.clone.name)?;
    let src = crate::control::base::lookup::instance(&ctx, &o.clone.source)?;
    let scratch = scratch_name(&o.clone.name);
    let name = o.clone.name.clone();
    let wanted = create_opts(&ctx, o, &src)?;
    let create = crate::control::instances::create::plan_create(&mut ctx, &wanted, false)?;
    let copy = match scratch_opts(&ctx, o, &scratch)
        .and_then(|c| clones::plan_clone(&mut ctx, &c, false))
        .map_err(|e| scratch_error(e, &src.name, &scratch))
    {
        Ok(p) => p,
        Err(e) => {
            // The create is written but has not run: cancelled, nothing of it is made.
            if let Some(wf) = create.workflow_id {
                let _ = crate::control::admin::runs::cancel_because(
                    &mut ctx,
                    wf,
                    "the clone into another engine could not plan its scratch copy",
                    &crate::workflow::progress::Silent,
                );
            }
            return Err(e);
        }
    };
    drop(ctx);
    // The scratch clone and the new instance are made at once.
    let (made, copied) = std::thread::scope(|s| {
        let c = s.spawn(|| execute(home, &copy, &crate::workflow::progress::Silent));
        let made = execute(home, &create, progress);
        let copied = c
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the scratch clone panicked")));
        (made, copied)
    });
    let ready_secs = started.elapsed().as_secs_f64();
    let result = match (made, copied) {
        (Ok(()), Ok(())) => home
            .open()
            .and_then(|ctx| carry(&ctx, &scratch, &name, progress)),
        (Err(e), _) => Err(e.context(format!("creating {name}"))),
        (_, Err(e)) => Err(e.context(format!("cloning {} to {scratch}", src.name))),
    };
    // The scratch clone goes whatever happened; one that will not is left to its expiry.
    let mut left = Vec::new();
    left.extend(
        remove(home, &scratch).map(|e| format!("{e}; it expires within {SCRATCH_EXPIRES}")),
    );
    let mut report = match result {
        Ok(r) => r,
        Err(e) => {
            left.extend(remove(home, &name));
            let mut e = e.context(if left.is_empty() {
                format!("{name} was not made; what was made is removed")
            } else {
                format!("{name} was not made; what is left goes at the next `dbctl sweep`")
            });
            if !left.is_empty() {
                e = e.context(left.join("; "));
            }
            return Err(e);
        }
    };
    report.source = src.name.clone();
    report.name = name.clone();
    report.from = copy.placement.clone();
    report.engine = o.engine.clone();
    if !report.verified {
        left.extend(remove(home, &name));
    }
    report.left_behind = left;
    report.ready_secs = ready_secs;
    report.secs = started.elapsed().as_secs_f64();
    let ctx = home.open()?;
    let bad: Vec<&str> = report
        .tables
        .iter()
        .filter(|t| !t.ok)
        .map(|t| t.table.as_str())
        .collect();
    let message = if report.verified {
        format!(
            "{} ({}) cloned into {name} ({}), {}: {} tables, every row verified",
            src.name,
            src.engine,
            o.engine,
            report.from,
            report.tables.len()
        )
    } else {
        format!(
            "{} ({}) cloned into {name} ({}) did not add up ({}); {name} was deleted",
            src.name,
            src.engine,
            o.engine,
            bad.join(", ")
        )
    };
    let live = crate::catalog::instances::live_by_name(ctx.catalog.conn(), &name)?;
    if let (Some(i), true) = (&live, report.verified) {
        crate::catalog::labels::remove(
            ctx.catalog.conn(),
            crate::catalog::labels::kind::INSTANCE,
            i.id,
            LOADING,
        )?;
        if !asked_lifetime(o) {
            crate::catalog::lifetimes::clear(ctx.catalog.conn(), i.id)?;
        }
    }
    crate::catalog::events::add(
        ctx.catalog.conn(),
        Some(match &live {
            Some(i) => (i.id, i.name.as_str()),
            None => (src.id, src.name.as_str()),
        }),
        None,
        if report.verified {
            "cloned_across_engines"
        } else {
            "cross_engine_clone_failed"
        },
        &message,
    )?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::load::{escape, refusals};
    use super::verify::{canonical, my_query, pg_query, Column};
    use super::*;

    fn col(name: &str, ty: &str, detail: &str) -> Column {
        Column {
            name: name.into(),
            ty: ty.into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn only_mariadb_into_postgres() {
        assert!(check_pair("mariadb", "postgres").is_ok());
        let e = check_pair("postgres", "mariadb").unwrap_err().to_string();
        assert!(
            e.contains("postgres instance into mariadb is not supported"),
            "{e}"
        );
        assert!(check_pair("mariadb", "oracle").is_err());
    }

    #[test]
    fn canonical_forms_by_type_pair() {
        let (m, p) = canonical(
            &col("active", "tinyint", "tinyint(1)"),
            &col("active", "boolean", "bool"),
        )
        .unwrap();
        assert!(m.contains("<> 0 THEN '1'"), "{m}");
        assert!(p.contains("WHEN NOT \"active\" THEN '0'"), "{p}");
        let (m, p) = canonical(&col("f", "bit", "bit(8)"), &col("f", "bit", "bit")).unwrap();
        assert_eq!(m, "LPAD(BIN(`f`), 8, '0')");
        assert_eq!(p, "\"f\"::text");
        let (_, p) = canonical(
            &col("at", "datetime", "datetime(3)"),
            &col("at", "timestamp with time zone", "timestamptz"),
        )
        .unwrap();
        assert!(p.contains("AT TIME ZONE 'UTC'"), "{p}");
        assert!(canonical(
            &col("g", "geometry", "geometry"),
            &col("g", "USER-DEFINED", "geometry")
        )
        .is_none());
        assert!(canonical(
            &col("j", "longtext", "longtext"),
            &col("j", "jsonb", "jsonb")
        )
        .is_none());
    }

    #[test]
    fn row_checksums_read_alike() {
        let q = my_query("shop", "t", &["`a`".into()], &["`d`".into()]);
        assert!(q.contains("CONCAT_WS(CHAR(31 USING utf8mb4), COALESCE(CONVERT(`a` USING utf8mb4), CHAR(30 USING utf8mb4)))"), "{q}");
        assert!(q.ends_with("FROM `shop`.`t`"), "{q}");
        let q = pg_query("shop", "t", &["\"a\"::text".into()]);
        assert!(
            q.contains("concat_ws(chr(31), coalesce(\"a\"::text, chr(30)))"),
            "{q}"
        );
    }

    #[test]
    fn names_and_secrets_stay_out_of_the_way() {
        assert_eq!(scratch_name("shop-pg"), "shop-pg-mariadb-src");
        assert_eq!(scratch_name(&"a".repeat(63)).len(), 63);
        assert!(plain_name("shop_2"));
        assert!(!plain_name("a b"));
        assert!(!plain_name("x/../y"));
        assert_eq!(escape("p@ss:w/rd"), "p%40ss%3Aw%2Frd");
        assert!(refusals(
            "2026-11-26T15:13:46.308000Z ERROR Database error 22009: out of range\nCONTEXT: x"
        )
        .first()
        .is_some_and(|r| r.starts_with("ERROR Database error 22009")));
    }
}
