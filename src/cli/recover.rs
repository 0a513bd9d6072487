//! `dbctl recover`: rebuild a broken instance from its snapshot and logs, move its endpoint.

use super::describe::print_instance;
use super::plan::{run_plan, ChangeFlags};
use super::Env;
use crate::control::restore::recover;
use anyhow::Result;
use clap::Args;

/// Recover an instance: a new server from its newest snapshot plus all its archived logs (or
/// up to --at / --position), on the host that keeps them. The new server takes over the name and
/// endpoint (running the endpoint hook); the old one is marked replaced.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The instance to recover.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// Recover to this time instead of the latest (e.g. just before a bad change).
    #[arg(long, value_name = "TIME", conflicts_with_all = ["position", "lsn", "before_error"])]
    pub at: Option<String>,
    /// Recover to just before the first error the monitor recorded for the incident the
    /// instance is in (a second before it; the latest point if the logs end earlier).
    #[arg(long, conflicts_with_all = ["position", "lsn"])]
    pub before_error: bool,
    /// Recover to this log position, as the engine writes it (PostgreSQL: an LSN, e.g.
    /// 0/3000060; MariaDB: a GTID, e.g. 0-1-42, or binlog.000003:1234).
    #[arg(long, value_name = "POSITION")]
    pub position: Option<String>,
    /// PostgreSQL only: an LSN, as --position takes it.
    #[arg(long, value_name = "LSN", conflicts_with = "position")]
    pub lsn: Option<String>,
    /// Rebuild on this host instead: the snapshot and logs are streamed there from the host
    /// that keeps them, or, when that host is gone or does not answer, from the instance's
    /// backup and shipped logs in a repository (its old server cannot be stopped then: make
    /// sure it is down).
    #[arg(long, add = crate::cli::complete::hosts())]
    pub host: Option<String>,
    /// Rebuild from the repository even though the old host answers.
    #[arg(long)]
    pub from_repository: bool,
    /// Recover even though the instance still answers queries (it is stopped, its last
    /// commits archived, and it is rebuilt); asked on a terminal otherwise.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &RecoverArgs) -> Result<()> {
    let position = a.position.as_deref().or(a.lsn.as_deref());
    let mut target =
        crate::control::restore::targets::parse_target(a.at.as_deref(), position, false)?;
    let mut ctx = env.open()?;
    if a.before_error {
        target = Some(crate::control::daemon::monitor::before_first_error(
            &ctx, &a.name,
        )?);
    }
    crate::control::restore::targets::check_lsn_spelling(&ctx, &a.name, a.lsn.is_some())?;
    if !a.yes && !a.change.dry_run && recover::serving(&ctx, &a.name)? {
        // Bad input (an unknown host, a target outside the window) is said before asking.
        recover::plan_recover(
            &mut ctx,
            &a.name,
            target.clone(),
            a.host.as_deref(),
            a.from_repository,
            true,
        )?;
        super::delete::confirm(
            &a.name,
            "It still answers queries. Stop and rebuild instance",
        )
        .map_err(|_| {
            crate::control::base::error::invalid(
                format!("instance `{}` is running and answers queries; recover stops it and rebuilds it from its snapshot and logs", a.name),
                "pass --yes to recover it anyway (its last commits are archived first), or leave it be",
            )
        })?;
    }
    let plan = recover::plan_recover(
        &mut ctx,
        &a.name,
        target,
        a.host.as_deref(),
        a.from_repository,
        a.change.dry_run,
    )?;
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        if let Some(wf) = plan.workflow_id {
            let r = recover::report(&ctx, wf)?;
            if env.printer.is_json() {
                let mut d = serde_json::to_value(crate::control::instances::views::describe(
                    &ctx, &a.name,
                )?)?;
                d["recovery"] = serde_json::to_value(&r)?;
                env.printer.json(&d);
                return Ok(());
            }
            for line in r.lines() {
                env.printer.note(&line);
            }
        }
        print_instance(
            &env.printer,
            &crate::control::instances::views::describe(&ctx, &a.name)?,
        );
    }
    Ok(())
}
