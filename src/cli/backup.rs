//! `dbctl backup ...`: copies of snapshots in a repository of the off-host tier.

use super::output::{opt, Printer};
use super::plan::{run_plan, ChangeFlags};
use super::Env;
use crate::control::offsite::backups;
use crate::control::offsite::backups::BackupOpts;
use crate::control::offsite::backups::BackupView;
use crate::control::offsite::policies::PolicyOpts;
use crate::control::offsite::policies::PolicyView;
use anyhow::Result;
use clap::{Args, Subcommand};

/// Back up instances into repositories, list, show, pin and delete backups.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    Create(CreateArgs),
    List(ListArgs),
    Show(IdArgs),
    Delete(DeleteArgs),
    Pin(IdArgs),
    Unpin(IdArgs),
    Policy(PolicyCommandArgs),
}

/// An instance's backup policy (also set by `dbctl create`).
#[derive(Debug, Clone, Default, Args)]
pub struct PolicyArgs {
    /// The repository its backups and logs go to; `dbctl sweep` ships its new archived logs
    /// there each time it runs.
    #[arg(long, value_name = "NAME", add = crate::cli::complete::repositories())]
    pub backup_repository: Option<String>,
    /// When (UTC, HH:MM-HH:MM) sweep takes its daily backup, or `none` [default: 02:00-03:00].
    #[arg(long, value_name = "WINDOW")]
    pub backup_window: Option<String>,
    /// Days of point-in-time recovery kept in the repository, 0-35 [default: 7].
    #[arg(long, value_name = "N")]
    pub backup_retention_days: Option<u32>,
    /// Daily backups kept beyond the retention days [default: 7].
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<u32>,
    /// Weekly backups kept [default: 4].
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<u32>,
    /// Monthly backups kept [default: 0].
    #[arg(long, value_name = "N")]
    pub keep_monthly: Option<u32>,
}

impl PolicyArgs {
    pub fn opts(&self) -> PolicyOpts {
        PolicyOpts {
            repository: self.backup_repository.clone(),
            window: self.backup_window.clone(),
            retention_days: self.backup_retention_days,
            keep_daily: self.keep_daily,
            keep_weekly: self.keep_weekly,
            keep_monthly: self.keep_monthly,
        }
    }
}

/// Show an instance's backup policy, or change what is given.
#[derive(Debug, Args)]
pub struct PolicyCommandArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Back up an instance: a new online snapshot (or one its host keeps) streamed through this
/// machine into a repository, encrypted, compressed and deduplicated against everything the
/// repository holds. The data host never sees the repository's key or credentials.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// The repository [default: the only one there is].
    #[arg(long, add = crate::cli::complete::repositories())]
    pub repository: Option<String>,
    /// Copy this snapshot (`dbctl snapshot list`) instead of taking a new one.
    #[arg(long, value_name = "ID", add = crate::cli::complete::snapshots())]
    pub snapshot: Option<i64>,
    /// Pin it: expiry never removes it.
    #[arg(long)]
    pub keep_forever: bool,
    #[command(flatten)]
    pub change: ChangeFlags,
}

/// List backups, oldest first. `added` is what each one added to its repository after
/// deduplication and compression.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this instance's backups.
    #[arg(add = crate::cli::complete::instances())]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The backup's id (`dbctl backup list`).
    pub id: i64,
}

/// Delete a backup from its repository. Asks on a terminal; without one, --yes is required.
/// The oldest backup of an instance (where its restorable window in that repository starts)
/// is refused unless --force.
///
/// Example: dbctl backup delete 12 --yes
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The backup's id (`dbctl backup list`).
    pub id: i64,
    /// Delete without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Delete it even though the instance's restorable window starts at it.
    #[arg(long)]
    pub force: bool,
}

pub fn run(env: &Env, c: &BackupCommand) -> Result<()> {
    let p = &env.printer;
    match c {
        BackupCommand::Create(a) => {
            let mut ctx = env.open()?;
            let o = BackupOpts {
                instance: a.name.clone(),
                repository: a.repository.clone(),
                snapshot: a.snapshot,
                keep_forever: a.keep_forever,
            };
            let plan = backups::plan_create(&mut ctx, &o, a.change.dry_run)?;
            if run_plan(&mut ctx, p, &plan, a.change)? {
                let wf = plan.workflow_id.unwrap_or_default();
                let b = backups::list(&ctx, Some(&a.name))?
                    .into_iter()
                    .find(|b| b.workflow_id == Some(wf))
                    .ok_or_else(|| {
                        anyhow::anyhow!("the backup of workflow {wf} is not in the catalog")
                    })?;
                print_backup(p, &b);
            }
        }
        BackupCommand::List(a) => {
            let ctx = env.open()?;
            let all = backups::list(&ctx, a.name.as_deref())?;
            if let (Some(name), true) = (&a.name, all.is_empty()) {
                crate::control::base::lookup::check_ever_named(&ctx, name)?;
            }
            if p.is_json() {
                p.json(&all);
                return Ok(());
            }
            let size = crate::cli::output::size;
            p.table(
                &[
                    "id",
                    "instance",
                    "repository",
                    "status",
                    "taken",
                    "position",
                    "size",
                    "added",
                    "pinned",
                ],
                all.into_iter()
                    .map(|b| {
                        vec![
                            b.id.to_string(),
                            b.instance,
                            b.repository,
                            b.status,
                            opt(&b.taken_at),
                            opt(&b.position),
                            size(b.bytes),
                            size(b.added_bytes),
                            if b.pinned { "yes" } else { "-" }.into(),
                        ]
                    })
                    .collect(),
            );
        }
        BackupCommand::Show(a) => print_backup(p, &backups::show(&env.open()?, a.id)?),
        BackupCommand::Delete(a) => {
            let ctx = env.open()?;
            // Bad input (an unknown, pinned or base backup) is said before asking.
            backups::delete(&ctx, a.id, a.force, true)?;
            if !a.yes {
                super::delete::confirm(&a.id.to_string(), "Delete backup")?;
            }
            print_backup(p, &backups::delete(&ctx, a.id, a.force, false)?)
        }
        BackupCommand::Pin(a) => print_backup(p, &backups::pin(&env.open()?, a.id, true)?),
        BackupCommand::Unpin(a) => print_backup(p, &backups::pin(&env.open()?, a.id, false)?),
        BackupCommand::Policy(a) => {
            let v =
                crate::control::offsite::policies::set(&env.open()?, &a.name, &a.policy.opts())?;
            print_policy(p, &v);
        }
    }
    Ok(())
}

fn print_backup(p: &Printer, b: &BackupView) {
    if p.is_json() {
        p.json(b);
        return;
    }
    p.fields(vec![
        ("id", b.id.to_string()),
        ("instance", b.instance.clone()),
        ("repository", b.repository.clone()),
        ("status", b.status.clone()),
        ("restic id", opt(&b.restic_id)),
        ("snapshot", b.snapshot.clone()),
        ("engine", b.engine.clone()),
        ("taken", opt(&b.taken_at)),
        ("position", opt(&b.position)),
        (
            "size",
            b.bytes
                .map(|n| format!("{n} bytes in {} files", b.files.unwrap_or(0)))
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "added to the repository",
            b.added_bytes
                .map(|n| format!("{n} bytes"))
                .unwrap_or_else(|| "-".into()),
        ),
        ("pinned", if b.pinned { "yes" } else { "no" }.into()),
        ("workflow", opt(&b.workflow_id)),
    ]);
}

pub fn print_policy(p: &Printer, v: &PolicyView) {
    if p.is_json() {
        p.json(v);
        return;
    }
    p.fields(vec![
        ("instance", v.instance.clone()),
        ("repository", v.repository.clone()),
        ("backup window (UTC)", opt(&v.backup_window)),
        ("retention days", v.retention_days.to_string()),
        ("keep daily", v.keep_daily.to_string()),
        ("keep weekly", v.keep_weekly.to_string()),
        ("keep monthly", v.keep_monthly.to_string()),
    ]);
}
