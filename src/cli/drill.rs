//! `dbctl drill`: prove that an instance's backups restore.

use super::output::opt;
use super::restore::TargetArgs;
use super::Env;
use crate::control::data::drills;
use crate::control::data::drills::DrillOpts;
use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Restore an instance into a scratch instance and prove the copy is whole: the engine's
/// integrity checks (as `dbctl check`) and the DBA's queries on it, how long the restore took
/// (RTO) and how far its newest point lay behind the source's newest commit (RPO); the scratch
/// instance is removed afterwards. Every drill is recorded (`dbctl drill list`) and is an
/// event; a failed one runs `[monitor] hook` and exits 1.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DrillArgs {
    #[command(subcommand)]
    pub command: Option<DrillCommand>,
    /// The instance to drill.
    #[arg(add = crate::cli::complete::instances())]
    pub name: Option<String>,
    /// Which tier to restore from.
    #[arg(long, value_enum, default_value_t = From::Host)]
    pub from: From,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The host the scratch instance goes on [default: chosen by placement].
    #[arg(long, add = crate::cli::complete::hosts())]
    pub host: Option<String>,
    /// A file of queries separated by `;`, each to return true or at least one row.
    #[arg(long, value_name = "FILE")]
    pub check_sql: Option<PathBuf>,
    /// The database the queries run in [default: postgres, or none for MariaDB].
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum From {
    /// The host's snapshots and log archive.
    Host,
    /// A backup and shipped logs in the instance's repository.
    Repository,
}

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// The drills run, newest first: when, from which tier, RTO, RPO and what they found.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this instance's.
    #[arg(add = crate::cli::complete::instances())]
    pub name: Option<String>,
}

pub fn run(env: &Env, a: &DrillArgs) -> Result<()> {
    if let Some(DrillCommand::List(l)) = &a.command {
        return list(env, l);
    }
    let Some(name) = &a.name else {
        return Err(crate::control::base::error::invalid(
            "name the instance to drill",
            "dbctl drill NAME (or `dbctl drill list`)",
        ));
    };
    let queries = match &a.check_sql {
        Some(f) => crate::control::data::checks::queries_in(f)?,
        None => Vec::new(),
    };
    let mut ctx = env.open()?;
    let progress = super::progress::reporter();
    let r = drills::run(
        &mut ctx,
        &DrillOpts {
            instance: name.clone(),
            from_repository: a.from == From::Repository,
            target: a.target.resolve()?,
            host: a.host.clone(),
            queries,
            database: a.database.clone(),
        },
        progress.as_ref(),
    )?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&r);
    } else {
        p.fields(vec![
            ("drill", r.id.to_string()),
            ("instance", r.instance.clone()),
            ("from", format!("{} tier, to {}", r.tier, r.target)),
            ("result", if r.passed { "passed" } else { "FAILED" }.into()),
            (
                "RTO",
                r.rto_secs.map_or("-".into(), |s| format!("{s:.1} s")),
            ),
            (
                "RPO",
                r.rpo_secs.map_or("-".into(), |s| format!("{s:.0} s")),
            ),
            (
                "checks",
                r.checks.as_ref().map_or("-".into(), |c| {
                    format!(
                        "{} {}; {} of {} queries passed",
                        c.tool,
                        if c.engine_ok { "ok" } else { "FAILED" },
                        c.queries.iter().filter(|q| q.ok).count(),
                        c.queries.len()
                    )
                }),
            ),
            ("error", opt(&r.error)),
        ]);
    }
    if r.passed {
        Ok(())
    } else {
        Err(anyhow::anyhow!("{}", drills::describe(&r)))
    }
}

fn list(env: &Env, a: &ListArgs) -> Result<()> {
    let ctx = env.open()?;
    if let Some(n) = &a.name {
        crate::control::base::lookup::instance(&ctx, n)?;
    }
    let all = crate::catalog::drills::list(ctx.catalog.conn(), a.name.as_deref())?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&all);
        return Ok(());
    }
    p.table(
        &[
            "id", "instance", "started", "from", "to", "result", "RTO", "RPO", "error",
        ],
        all.iter()
            .map(|d| {
                vec![
                    d.id.to_string(),
                    d.instance.clone(),
                    d.started_at.clone(),
                    d.tier.clone(),
                    d.target.clone(),
                    d.status.clone(),
                    d.rto_secs.map_or("-".into(), |s| format!("{s:.1} s")),
                    d.rpo_secs.map_or("-".into(), |s| format!("{s:.0} s")),
                    opt(&d.error),
                ]
            })
            .collect(),
    );
    Ok(())
}
