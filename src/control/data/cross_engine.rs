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

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::base::home::Home;
use crate::control::data::repartition::ident;
use crate::control::instances::connect::Connection;
use crate::control::instances::create::CreateOpts;
use crate::control::instances::lifetimes::LifetimeOpts;
use crate::control::restore::clones;
use crate::control::restore::clones::CloneOpts;
use crate::workflow::executor::Outcome;
use crate::workflow::progress::Progress;
use anyhow::{Context, Result};
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
const SYSTEM_DATABASES: &str = "'mysql', 'information_schema', 'performance_schema', 'sys'";

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
fn databases_sql() -> String {
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

/// A name pgloader's command file and URLs can carry as it is.
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'-')
}

fn my_ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// A directory only this user can enter, removed when dropped (its files are not followed
/// through links: `remove_dir_all` never follows them).
struct PrivateDir(std::path::PathBuf);

impl PrivateDir {
    fn new() -> Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let p = std::env::temp_dir().join(format!("dbctl-pgloader-{:016x}", rand::random::<u64>()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&p)
            .with_context(|| format!("making {}", p.display()))?;
        Ok(Self(p))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn url_host(h: &str) -> String {
    if h.contains(':') {
        format!("[{h}]")
    } else {
        h.to_string()
    }
}

/// Percent-encodes all but letters and digits, for a URL's user or password.
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// pgloader's command for one database: the source clone's into the new instance's.
/// PostgreSQL's session runs in UTC, so DATETIME values are read as UTC; MariaDB's keeps the
/// server's zone, as the verification's does.
fn command_file(my: &Connection, pg: &Connection, db: &str) -> String {
    format!(
        "LOAD DATABASE\n  FROM mysql://{}:{}@{}:{}/{db}\n  INTO postgresql://{}:{}@{}:{}/{db}\n WITH create tables, create indexes, reset sequences, foreign keys, downcase identifiers, workers = 2, concurrency = 1, prefetch rows = 25000\n SET PostgreSQL PARAMETERS timezone to 'UTC'\n;\n",
        escape(&my.user),
        escape(&my.password),
        url_host(&my.host),
        my.port,
        escape(&pg.user),
        escape(&pg.password),
        url_host(&pg.host),
        pg.port,
    )
}

/// Carries every database of the scratch clone into the new instance and checks it.
fn carry(ctx: &Ctx, scratch: &str, name: &str, progress: &dyn Progress) -> Result<CrossReport> {
    let my = crate::control::instances::connect::connection(ctx, scratch)?;
    let pg = crate::control::instances::connect::connection(ctx, name)?;
    let dbs: Vec<String> = my
        .client_rows(&databases_sql())?
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect();
    if let Some(odd) = dbs.iter().find(|d| !plain_name(d)) {
        anyhow::bail!(
            "the database `{odd}` has a name pgloader cannot be given (letters, digits, _, $ and - only)"
        );
    }
    let dir = PrivateDir::new()?;
    let loading = std::time::Instant::now();
    let mut not_carried = Vec::new();
    let mut admin = pg.pg_client(None)?;
    for db in &dbs {
        progress.message(&format!("pgloader: {db}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {}", ident(db)))
            .with_context(|| format!("creating the database {db}"))?;
        let file = dir.0.join(format!("{db}.load"));
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&file)?;
            f.write_all(command_file(&my, &pg, db).as_bytes())?;
        }
        // Debian's pgloader has a heap of 1 GiB, which a few wide tables exhaust ("Heap
        // exhausted, game over"): a larger one is asked for (address space, not memory),
        // and fewer rows are read ahead.
        let out = std::process::Command::new("pgloader")
            .args(["--dynamic-space-size", "4096"])
            .arg("--root-dir")
            .arg(&dir.0)
            .arg("--logfile")
            .arg(dir.0.join(format!("{db}.log")))
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .output()
            .context("running pgloader")?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let refused = refusals(&text);
        if !out.status.success() {
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            anyhow::bail!(
                "pgloader failed on the database {db} ({}): {}",
                out.status,
                if refused.is_empty() {
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                } else {
                    refused.join(" | ")
                }
            );
        }
        not_carried.extend(refused.into_iter().map(|r| format!("{db}: pgloader: {r}")));
    }
    drop(admin);
    let load_secs = loading.elapsed().as_secs_f64();
    let verifying = std::time::Instant::now();
    progress.message("verifying every table");
    let mut tables = Vec::new();
    let mut notes = Vec::new();
    let mut databases = Vec::new();
    for db in &dbs {
        let (t, n, schema) = verify(&my, &pg, db)?;
        databases.push(format!(
            "{db} → database {db}, schema {schema} (on its search_path)"
        ));
        tables.extend(t);
        notes.extend(n);
    }

    not_carried.extend(unconverted(&my)?);
    for t in &tables {
        for c in &t.uncompared {
            notes.push(format!(
                "{}.{c}: no exact common form, compared by the row count only",
                t.table
            ));
        }
    }
    Ok(CrossReport {
        source: String::new(),
        name: String::new(),
        engine: String::new(),
        from: String::new(),
        databases,
        verified: tables.iter().all(|t| t.ok),
        tables,
        not_carried,
        notes,
        left_behind: Vec::new(),
        ready_secs: 0.0,
        load_secs,
        verify_secs: verifying.elapsed().as_secs_f64(),
        secs: 0.0,
    })
}

/// pgloader's ERROR and WARNING lines, without their timestamps.
fn refusals(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let at = l.find(" ERROR ").or_else(|| l.find(" WARNING "))?;
            let line = l[at + 1..].trim();
            Some(line.chars().take(300).collect())
        })
        .collect()
}

/// Triggers, routines, views and events: what pgloader leaves behind.
fn unconverted(my: &Connection) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT CONCAT('trigger ', trigger_schema, '.', trigger_name) FROM information_schema.triggers WHERE trigger_schema NOT IN ({SYSTEM_DATABASES});
         SELECT CONCAT(LOWER(routine_type), ' ', routine_schema, '.', routine_name) FROM information_schema.routines WHERE routine_schema NOT IN ({SYSTEM_DATABASES});
         SELECT CONCAT('view ', table_schema, '.', table_name) FROM information_schema.views WHERE table_schema NOT IN ({SYSTEM_DATABASES});
         SELECT CONCAT('event ', event_schema, '.', event_name) FROM information_schema.events WHERE event_schema NOT IN ({SYSTEM_DATABASES});"
    );
    Ok(my
        .client_rows(&sql)?
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .map(|w| format!("{w} (not carried by pgloader: recreate it by hand)"))
        .collect())
}

/// One column as each side's catalog describes it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    /// MariaDB: `data_type`; PostgreSQL: `data_type` (`USER-DEFINED`, `ARRAY`, ...).
    ty: String,
    /// MariaDB: `column_type` (`bit(8)`, `tinyint(1)`); PostgreSQL: `udt_name`.
    detail: String,
}

const MY_INTEGERS: [&str; 6] = ["tinyint", "smallint", "mediumint", "int", "bigint", "year"];
const PG_NUMBERS: [&str; 4] = ["smallint", "integer", "bigint", "numeric"];
const MY_TEXTS: [&str; 7] = [
    "char",
    "varchar",
    "tinytext",
    "text",
    "mediumtext",
    "longtext",
    "enum",
];
const MY_BINARIES: [&str; 6] = [
    "binary",
    "varbinary",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
];

/// The same text for the same value on both sides: `(MariaDB expression, PostgreSQL
/// expression)` over the column, each NULL for NULL; None when no exact form is known.
///
/// Integers and decimals print alike. Floating-point values print their shortest digits in
/// either engine but in different notations, so both go through a decimal and lose their
/// trailing zeros. Booleans (pgloader's `tinyint(1)` and `bit(1)`) are 1 or 0; times and
/// timestamps are spelled out to the microsecond, timestamptz in UTC; zero dates are NULL,
/// as pgloader makes them; bytes are lowercase hex; sets are their members joined by commas.
fn canonical(my: &Column, pg: &Column) -> Option<(String, String)> {
    let m = my_ident(&my.name);
    let p = ident(&pg.name);
    let (mt, pt) = (my.ty.as_str(), pg.ty.as_str());
    let pair = match (mt, pt) {
        (_, "boolean") if MY_INTEGERS.contains(&mt) || mt == "bit" => (
            format!("CASE WHEN {m} IS NULL THEN NULL WHEN {m} <> 0 THEN '1' ELSE '0' END"),
            format!("CASE WHEN {p} THEN '1' WHEN NOT {p} THEN '0' END"),
        ),
        _ if (MY_INTEGERS.contains(&mt) || mt == "decimal") && PG_NUMBERS.contains(&pt) => {
            (format!("CAST({m} AS CHAR)"), format!("{p}::text"))
        }
        ("float" | "double", "real" | "double precision" | "numeric") => (
            format!(
                "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST(CAST(CAST({m} AS CHAR) AS DECIMAL(65,30)) AS CHAR)))"
            ),
            format!("trim_scale(({p}::text)::numeric)::text"),
        ),
        _ if MY_TEXTS.contains(&mt)
            && matches!(
                pt,
                "text" | "character varying" | "character" | "json" | "USER-DEFINED"
            ) =>
        {
            (m.clone(), format!("{p}::text"))
        }
        ("set", "ARRAY") => (m.clone(), format!("array_to_string({p}, ',')")),
        ("set", "text" | "character varying") => (m.clone(), format!("{p}::text")),
        _ if MY_BINARIES.contains(&mt) && pt == "bytea" => {
            (format!("LOWER(HEX({m}))"), format!("encode({p}, 'hex')"))
        }
        ("date", "date") => (
            format!("NULLIF(DATE_FORMAT({m}, '%Y-%m-%d'), '0000-00-00')"),
            format!("to_char({p}, 'YYYY-MM-DD')"),
        ),
        ("datetime" | "timestamp", "timestamp with time zone" | "timestamp without time zone") => (
            format!(
                "NULLIF(DATE_FORMAT({m}, '%Y-%m-%d %H:%i:%s.%f'), '0000-00-00 00:00:00.000000')"
            ),
            if pt == "timestamp with time zone" {
                format!("to_char({p} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
            } else {
                format!("to_char({p}, 'YYYY-MM-DD HH24:MI:SS.US')")
            },
        ),
        ("time", "time without time zone") => (
            format!("TIME_FORMAT({m}, '%H:%i:%s.%f')"),
            format!("to_char({p}, 'HH24:MI:SS.US')"),
        ),
        ("bit", "bit" | "bit varying") => {
            let width: u32 = my
                .detail
                .trim_start_matches("bit(")
                .trim_end_matches(')')
                .parse()
                .ok()?;
            (
                format!("LPAD(BIN({m}), {width}, '0')"),
                format!("{p}::text"),
            )
        }
        ("uuid" | "inet6" | "inet4", "uuid" | "inet" | "text" | "character varying") => {
            (format!("CAST({m} AS CHAR)"), format!("{p}::text"))
        }
        _ => return None,
    };
    Some(pair)
}

/// The query giving a MariaDB table's row count, checksum and zero dates per date column.
fn my_query(db: &str, table: &str, exprs: &[String], dates: &[String]) -> String {
    let row = row_text_my(exprs);
    let zeros: String = dates
        .iter()
        .map(|d| format!(", COALESCE(SUM(CAST({d} AS CHAR) LIKE '0000-00-00%'), 0)"))
        .collect();
    format!(
        "SELECT COUNT(*), COALESCE(SUM(CAST(CONV(LEFT(MD5({row}), 15), 16, 10) AS UNSIGNED)), 0){zeros} FROM {}.{}",
        my_ident(db),
        my_ident(table)
    )
}

fn row_text_my(exprs: &[String]) -> String {
    if exprs.is_empty() {
        return "''".into();
    }
    let parts: Vec<String> = exprs
        .iter()
        .map(|e| format!("COALESCE(CONVERT({e} USING utf8mb4), CHAR(30 USING utf8mb4))"))
        .collect();
    format!("CONCAT_WS(CHAR(31 USING utf8mb4), {})", parts.join(", "))
}

fn pg_query(schema: &str, table: &str, exprs: &[String]) -> String {
    let row = if exprs.is_empty() {
        "''".to_string()
    } else {
        let parts: Vec<String> = exprs
            .iter()
            .map(|e| format!("coalesce({e}, chr(30))"))
            .collect();
        format!("concat_ws(chr(31), {})", parts.join(", "))
    };
    format!(
        "SELECT count(*), coalesce(sum(('x' || left(md5({row}), 15))::bit(60)::bigint), 0)::text FROM {}.{}",
        ident(schema),
        ident(table)
    )
}

/// Every table of one database counted and summed on both sides, at once.
fn verify(
    my: &Connection,
    pg: &Connection,
    db: &str,
) -> Result<(Vec<TableCheck>, Vec<String>, String)> {
    let mut client = pg.pg_client(Some(db))?;
    let schema: String = client
        .query_opt(
            "SELECT nspname::text FROM pg_namespace WHERE lower(nspname) = lower($1) ORDER BY nspname = $1 DESC LIMIT 1",
            &[&db],
        )?
        .map(|r| r.get(0))
        .unwrap_or_else(|| "public".into());
    let mut pg_cols: std::collections::BTreeMap<String, Vec<Column>> = Default::default();
    for r in client.query(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.udt_name::text
           FROM information_schema.columns c
           JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
          ORDER BY c.table_name, c.ordinal_position",
        &[&schema],
    )? {
        pg_cols
            .entry(r.get::<_, String>(0).to_lowercase())
            .or_default()
            .push(Column {
                name: r.get(1),
                ty: r.get(2),
                detail: r.get(3),
            });
    }
    let mut my_cols: std::collections::BTreeMap<String, Vec<Column>> = Default::default();
    for r in my.client_rows(
        &format!(
            "SELECT c.table_name, c.column_name, c.data_type, c.column_type
               FROM information_schema.columns c
               JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
              WHERE c.table_schema = '{db}' AND t.table_type = 'BASE TABLE'
              ORDER BY c.table_name, c.ordinal_position"
        ),
    )? {
        let [t, c, ty, detail] = <[String; 4]>::try_from(r)
            .map_err(|r| anyhow::anyhow!("an unexpected column list line: {r:?}"))?;
        my_cols.entry(t).or_default().push(Column {
            name: c,
            ty: ty.to_lowercase(),
            detail: detail.to_lowercase(),
        });
    }
    // Each table's expressions on both sides; what cannot be compared is named.
    struct Plan {
        table: String,
        /// Each compared column: its name and both sides' expressions.
        columns: Vec<(String, String, String)>,
        my_sql: String,
        pg_sql: Option<String>,
        uncompared: Vec<String>,
        dates: Vec<String>,
    }
    let mut plans = Vec::new();
    let mut notes = Vec::new();
    let mut saw_datetime = false;
    for (table, cols) in &my_cols {
        let target = pg_cols.get(&table.to_lowercase());
        let (mut mx, mut px, mut uncompared, mut dates) = (vec![], vec![], vec![], vec![]);
        let mut columns = Vec::new();
        // A table the copy lacks is marked so; its columns are not listed one by one.
        for c in cols.iter().filter(|_| target.is_some()) {
            let other =
                target.and_then(|cs| cs.iter().find(|p| p.name.eq_ignore_ascii_case(&c.name)));
            match other.and_then(|p| canonical(c, p)) {
                Some((m, p)) => {
                    columns.push((c.name.clone(), m.clone(), p.clone()));
                    mx.push(m);
                    px.push(p);
                }
                None if target.is_some() && other.is_none() => {
                    uncompared.push(format!("{} (missing in the copy)", c.name));
                }
                None => uncompared.push(format!(
                    "{} ({} → {})",
                    c.name,
                    c.detail,
                    other.map_or("?", |p| if p.ty == "USER-DEFINED" || p.ty == "ARRAY" {
                        p.detail.as_str()
                    } else {
                        p.ty.as_str()
                    })
                )),
            }
            if matches!(c.ty.as_str(), "date" | "datetime" | "timestamp") {
                dates.push(my_ident(&c.name));
            }
            if c.ty == "datetime" && !saw_datetime {
                saw_datetime = true;
                notes.push(format!(
                    "{db}: DATETIME values were read as UTC into timestamptz columns"
                ));
            }
            if c.detail == "tinyint(1)" || c.detail == "bit(1)" {
                if let Some(p) = other.filter(|p| p.ty == "boolean") {
                    notes.push(format!(
                        "{db}.{table}.{}: {} became boolean (nonzero is true)",
                        p.name, c.detail
                    ));
                }
            }
        }
        plans.push(Plan {
            table: table.clone(),
            columns,
            my_sql: my_query(db, table, &mx, &dates),
            pg_sql: target.map(|_| pg_query(&schema, &table.to_lowercase(), &px)),
            uncompared,
            dates,
        });
    }
    // MariaDB's side in one client run, PostgreSQL's beside it.
    let my_sql: String = plans
        .iter()
        .map(|p| format!("{};", p.my_sql))
        .collect::<Vec<_>>()
        .join("\n");
    let (my_rows, pg_rows) = std::thread::scope(|s| {
        let m = s.spawn(|| my.client_rows(&my_sql));
        let p: Result<Vec<Option<(i64, String)>>> = plans
            .iter()
            .map(|p| {
                p.pg_sql
                    .as_ref()
                    .map(|q| {
                        let r = client.query_one(q.as_str(), &[])?;
                        Ok((r.get::<_, i64>(0), r.get::<_, String>(1)))
                    })
                    .transpose()
            })
            .collect();
        (
            m.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the MariaDB count panicked"))),
            p,
        )
    });
    let (my_rows, pg_rows) = (my_rows?, pg_rows?);
    if my_rows.len() != plans.len() {
        anyhow::bail!(
            "the MariaDB counts of {db} came back as {} lines for {} tables",
            my_rows.len(),
            plans.len()
        );
    }
    let mut checks = Vec::new();
    for ((plan, mine), theirs) in plans.iter().zip(&my_rows).zip(&pg_rows) {
        let rows: i64 = mine.first().and_then(|v| v.parse().ok()).unwrap_or(-1);
        let sum = mine.get(1).cloned().unwrap_or_default();
        for (d, zeros) in plan.dates.iter().zip(mine.iter().skip(2)) {
            if zeros != "0" {
                notes.push(format!(
                    "{db}.{}.{}: {zeros} zero dates became NULL",
                    plan.table,
                    d.trim_matches('`')
                ));
            }
        }
        let (target_rows, equal) = match theirs {
            Some((n, s)) => (Some(*n), *s == sum),
            None => (None, false),
        };
        // The same rows, different values: which columns differ.
        let differing = if target_rows == Some(rows) && !equal {
            differing_columns(my, &mut client, db, &schema, &plan.table, &plan.columns)?
        } else {
            Vec::new()
        };
        checks.push(TableCheck {
            table: format!("{db}.{}", plan.table),
            source_rows: rows,
            target_rows,
            checksum_equal: equal,
            ok: target_rows == Some(rows) && equal,
            uncompared: plan.uncompared.clone(),
            differing,
        });
    }
    Ok((checks, notes, schema))
}

/// The columns of a table whose values differ between the sides: each column's own sum of
/// row hashes, compared.
fn differing_columns(
    my: &Connection,
    pg: &mut postgres::Client,
    db: &str,
    schema: &str,
    table: &str,
    columns: &[(String, String, String)],
) -> Result<Vec<String>> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let mine: Vec<String> = columns
        .iter()
        .map(|(_, m, _)| {
            format!(
                "COALESCE(SUM(CAST(CONV(LEFT(MD5({}), 15), 16, 10) AS UNSIGNED)), 0)",
                row_text_my(std::slice::from_ref(m))
            )
        })
        .collect();
    let theirs: Vec<String> = columns
        .iter()
        .map(|(_, _, p)| {
            format!(
                "coalesce(sum(('x' || left(md5(coalesce({p}, chr(30))), 15))::bit(60)::bigint), 0)::text"
            )
        })
        .collect();
    let mine = my
        .client_rows(&format!(
            "SELECT {} FROM {}.{}",
            mine.join(", "),
            my_ident(db),
            my_ident(table)
        ))?
        .into_iter()
        .next()
        .unwrap_or_default();
    let row = pg.query_one(
        &format!(
            "SELECT {} FROM {}.{}",
            theirs.join(", "),
            ident(schema),
            ident(&table.to_lowercase())
        ),
        &[],
    )?;
    Ok(columns
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            mine.get(*i).map(String::as_str) != Some(row.get::<_, String>(*i).as_str())
        })
        .map(|(_, (name, _, _))| name.clone())
        .collect())
}

#[cfg(test)]
mod tests {
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
