//! `dbctl restore`: a new instance with an instance's data as of a point in time.

use super::describe::print_instance;
use super::plan::{run_plan, ChangeFlags};
use super::Env;
use crate::control::base::error::invalid;
use crate::control::restore::clones;
use crate::control::restore::clones::CloneOpts;
use crate::control::restore::restores;
use crate::wire::Target;
use anyhow::Result;
use clap::Args;

/// Where in time: a moment, a log position, or everything archived.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// A time: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC), "now" or "N minutes ago"; echoed as UTC.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// A log position as the engine writes it (PostgreSQL: an LSN, e.g. 0/3000060; MariaDB:
    /// a GTID, e.g. 0-1-42, or a binary log file and offset, e.g. binlog.000003:1234).
    #[arg(long, value_name = "POSITION")]
    pub position: Option<String>,
    /// PostgreSQL only: an LSN, as --position takes it.
    #[arg(long, value_name = "LSN", conflicts_with = "position")]
    pub lsn: Option<String>,
    /// The latest commit (on a running source, including what was not yet archived).
    #[arg(long)]
    pub latest: bool,
}

impl TargetArgs {
    /// # Errors
    /// Unreadable time or position, or more than one target.
    pub fn resolve(&self) -> Result<Option<Target>> {
        let position = self.position.as_deref().or(self.lsn.as_deref());
        crate::control::restore::targets::parse_target(self.at.as_deref(), position, self.latest)
    }
}

/// Restore an instance as of a point in time: its newest snapshot before the target plus its
/// archived logs up to the target, verified as they are used. Into a new instance (--as NEW),
/// or in place (--in-place), keeping its name, port and endpoint.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The instance whose data to restore.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// Name of the new instance.
    #[arg(
        long = "as",
        value_name = "NEW",
        required_unless_present = "in_place",
        conflicts_with = "in_place"
    )]
    pub new_name: Option<String>,
    /// Replace the instance's own data (the old data is kept until the restore succeeds).
    #[arg(long)]
    pub in_place: bool,
    /// With --in-place: do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Class of the new instance [default: the source's].
    #[arg(long, add = crate::cli::complete::classes())]
    pub class: Option<String>,
    /// Host for the new instance [default: the source's, where its logs are]; another host
    /// receives the snapshot and the logs streamed through dbctl.
    #[arg(long, conflicts_with = "in_place", add = crate::cli::complete::hosts())]
    pub host: Option<String>,
    /// Storage to reserve, in GiB [default: the larger of the class's and the source's].
    #[arg(long, value_name = "N")]
    pub storage_gb: Option<u64>,
    /// Port the new instance listens on [default: a free one].
    #[arg(long, value_name = "P")]
    pub port: Option<u16>,
    /// From the instance's backup and shipped logs in a repository, not its host's snapshot
    /// and archive (which are used first otherwise, where they reach the target).
    #[arg(long)]
    pub from_repository: bool,
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &RestoreArgs) -> Result<()> {
    // The plan's note echoes the resolved target (an absolute UTC time for --at).
    let target = a.target.resolve()?.ok_or_else(|| {
        invalid(
            "no target given",
            "give --at TIME, --position POSITION or --latest",
        )
    })?;
    let mut ctx = env.open()?;
    crate::control::restore::targets::check_lsn_spelling(&ctx, &a.name, a.target.lsn.is_some())?;
    let Some(new_name) = &a.new_name else {
        return in_place(env, &mut ctx, a, target);
    };
    let plan = clones::plan_clone(
        &mut ctx,
        &CloneOpts {
            source: a.name.clone(),
            name: new_name.clone(),
            class: a.class.clone(),
            host: a.host.clone(),
            storage_gb: a.storage_gb,
            port: a.port,
            snapshot: None,
            fresh: false,
            target: Some(target),
            from_repository: a.from_repository,
            backup: None,
            labels: Vec::new(),
            lifetime: Default::default(),
            scratch: false,
        },
        a.change.dry_run,
    )?;
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        print_instance(
            &env.printer,
            &crate::control::instances::views::describe(&ctx, new_name)?,
        );
    }
    Ok(())
}

fn in_place(
    env: &Env,
    ctx: &mut crate::control::base::home::Ctx,
    a: &RestoreArgs,
    target: Target,
) -> Result<()> {
    crate::control::base::lookup::instance(ctx, &a.name)?;
    if !a.yes && !a.change.dry_run {
        // Bad input (a position the engine cannot read, a target outside the window) is
        // said before asking.
        restores::plan_in_place(ctx, &a.name, target.clone(), a.from_repository, true)?;
        super::delete::confirm(&a.name, "Replace the data of")?;
    }
    let plan = restores::plan_in_place(ctx, &a.name, target, a.from_repository, a.change.dry_run)?;
    if run_plan(ctx, &env.printer, &plan, a.change)? {
        if let Some(wf) = plan.workflow_id {
            let r = crate::control::restore::recover::report(ctx, wf)?;
            if env.printer.is_json() {
                let mut d = serde_json::to_value(crate::control::instances::views::describe(
                    ctx, &a.name,
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
            &crate::control::instances::views::describe(ctx, &a.name)?,
        );
    }
    Ok(())
}
