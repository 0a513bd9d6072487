//! `dbctl clone`: a new, independent instance from a source's snapshot.

use super::describe::print_instance;
use super::plan::{run_plan, ChangeFlags};
use super::restore::TargetArgs;
use super::Env;
use crate::control::data::cross_engine;
use crate::control::data::cross_engine::CrossOpts;
use crate::control::restore::clones;
use crate::control::restore::clones::CloneOpts;

use anyhow::Result;
use clap::Args;

/// Clone an instance: a full, independent copy (own port, endpoint, password), of any class,
/// on any host, while the source keeps serving.
///
/// As the source is now (its newest snapshot and every archived log after it), at a point
/// (--at, --position), from a named snapshot as it was taken (--snapshot), or from a new one
/// (--fresh, also when it has none). Another host receives the snapshot streamed through
/// dbctl.
#[derive(Debug, Args)]
pub struct CloneArgs {
    /// The source instance.
    #[arg(add = crate::cli::complete::instances())]
    pub source: String,
    /// Name of the new instance.
    #[arg(long = "as", value_name = "NEW")]
    pub name: String,
    /// Class of the clone [default: the source's].
    #[arg(long, add = crate::cli::complete::classes())]
    pub class: Option<String>,
    /// Host for the clone [default: chosen by placement].
    #[arg(long, add = crate::cli::complete::hosts())]
    pub host: Option<String>,
    /// Storage to reserve, in GiB [default: the larger of the class's and the source's].
    #[arg(long, value_name = "N")]
    pub storage_gb: Option<u64>,
    /// Port the clone listens on [default: a free one from the host's range].
    #[arg(long, value_name = "P")]
    pub port: Option<u16>,
    /// Clone from this snapshot of the source.
    #[arg(long, value_name = "ID", conflicts_with = "fresh", add = crate::cli::complete::snapshots())]
    pub snapshot: Option<i64>,
    /// Take a new snapshot of the source first.
    #[arg(long)]
    pub fresh: bool,
    /// Restore from the source's newest backup in a repository instead of a host's snapshot
    /// (what is left when its host is gone).
    #[arg(long)]
    pub from_repository: bool,
    /// Restore from this backup (`dbctl backup list`); implies --from-repository.
    #[arg(long, value_name = "ID")]
    pub backup: Option<i64>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// A label KEY=VALUE (repeatable), to find it by (`list --label`).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Delete the clone this long after it is made (e.g. 8h, 2d), unless it is protected
    /// (`dbctl protect`); the daemon's pass (or `sweep`) deletes it.
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    /// Delete the clone once no client has been connected to it for this long (e.g. 2h), as
    /// the monitor sees it, unless it is protected.
    #[arg(long, value_name = "DURATION")]
    pub delete_when_idle: Option<String>,
    /// When it expires, take a final snapshot before deleting it (none by default).
    #[arg(long)]
    pub final_snapshot_on_expiry: bool,
    /// Clone into another engine: a MariaDB source into a new PostgreSQL instance. A scratch
    /// clone of the source (at --at or --snapshot; else the latest point, or a new snapshot
    /// when it has none) is carried over by pgloader on this machine, every table's rows are counted and checksummed on both sides, and the scratch
    /// clone is removed; a copy that does not add up is deleted. What pgloader does not
    /// carry (triggers, routines, views, events) is listed.
    #[arg(long, value_name = "ENGINE", add = crate::cli::complete::engines())]
    pub engine: Option<String>,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &CloneArgs) -> Result<()> {
    let mut ctx = env.open()?;
    crate::control::restore::targets::check_lsn_spelling(&ctx, &a.source, a.target.lsn.is_some())?;
    let opts = CloneOpts {
        source: a.source.clone(),
        name: a.name.clone(),
        class: a.class.clone(),
        host: a.host.clone(),
        storage_gb: a.storage_gb,
        port: a.port,
        snapshot: a.snapshot,
        fresh: a.fresh,
        target: a.target.resolve()?,
        from_repository: a.from_repository,
        backup: a.backup,
        labels: a.labels.clone(),
        lifetime: crate::control::instances::lifetimes::LifetimeOpts {
            expires_in: a.expires_in.clone(),
            delete_when_idle: a.delete_when_idle.clone(),
            final_snapshot: a.final_snapshot_on_expiry,
        },
        scratch: false,
    };
    if let Some(engine) = &a.engine {
        if *engine != crate::control::base::lookup::instance(&ctx, &a.source)?.engine {
            drop(ctx);
            return across(env, a, opts, engine);
        }
    }
    let plan = clones::plan_clone(&mut ctx, &opts, a.change.dry_run)?;
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        print_instance(
            &env.printer,
            &crate::control::instances::views::describe(&ctx, &a.name)?,
        );
    }
    Ok(())
}

/// `clone --engine`: into another engine, verified table by table.
fn across(env: &Env, a: &CloneArgs, clone: CloneOpts, engine: &str) -> Result<()> {
    let o = CrossOpts {
        clone,
        engine: engine.to_string(),
    };
    let p = &env.printer;
    if a.change.detach {
        return Err(crate::control::base::error::invalid(
            "--detach does not apply to a clone into another engine (pgloader runs here)",
            "leave out --detach",
        ));
    }
    if a.change.dry_run {
        cross_engine::check(&mut env.open()?, &o)?;
        if p.is_json() {
            p.json(&serde_json::json!({
                "action": "clone",
                "source": a.source,
                "instance": a.name,
                "engine": engine,
                "steps": ["scratch clone of the source", "create the new instance", "pgloader, each database", "verify every table", "remove the scratch clone"],
            }));
            return Ok(());
        }
        p.note(&format!(
            "would clone {} to a scratch copy, create {} ({engine}), carry every database with pgloader, verify every table and remove the scratch copy",
            a.source, a.name
        ));
        return Ok(());
    }
    let progress = super::progress::reporter();
    let r = cross_engine::run(&env.home, &o, progress.as_ref())?;
    if p.is_json() {
        p.json(&r);
    } else {
        p.note(&format!("the scratch copy: {}", r.from));
        for d in &r.databases {
            p.note(d);
        }
        p.table(
            &["table", "source rows", "copy rows", "checksum", "verified"],
            r.tables
                .iter()
                .map(|t| {
                    vec![
                        t.table.clone(),
                        t.source_rows.to_string(),
                        t.target_rows.map_or("missing".into(), |n| n.to_string()),
                        if t.checksum_equal { "equal" } else { "DIFFERS" }.into(),
                        match (t.ok, t.differing.is_empty()) {
                            (true, _) => "yes".into(),
                            (false, true) => "NO".into(),
                            (false, false) => format!("NO: {} differ", t.differing.join(", ")),
                        },
                    ]
                })
                .collect(),
        );
        for n in &r.notes {
            p.note(&format!("note: {n}"));
        }
        for n in &r.not_carried {
            p.note(&format!("not carried: {n}"));
        }
        for n in &r.left_behind {
            p.note(&format!("left: {n}"));
        }
    }
    if !r.verified {
        return Err(anyhow::anyhow!(
            "the copy of {} in {} did not add up (the tables marked NO); {} was deleted",
            r.source,
            r.engine,
            r.name
        ));
    }
    if !p.is_json() {
        print_instance(
            p,
            &crate::control::instances::views::describe(&env.open()?, &r.name)?,
        );
    }
    Ok(())
}
