//! `dbctl backup ...`: copies of snapshots in a repository of the off-host tier.

use super::output::{opt, Printer};
use super::plan::{run_plan, ChangeFlags};
use super::Env;
use crate::control::backups::{self, BackupOpts, BackupView};
use anyhow::Result;
use clap::{Args, Subcommand};

/// Back up instances into repositories, list, show, pin and delete backups.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    Create(CreateArgs),
    List(ListArgs),
    Show(IdArgs),
    Delete(IdArgs),
    Pin(IdArgs),
    Unpin(IdArgs),
}

/// Back up an instance: a new online snapshot (or one its host keeps) streamed through this
/// machine into a repository, encrypted, compressed and deduplicated against everything the
/// repository holds. The data host never sees the repository's key or credentials.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The instance.
    pub name: String,
    /// The repository [default: the only one there is].
    #[arg(long)]
    pub repository: Option<String>,
    /// Copy this snapshot (`dbctl snapshot list`) instead of taking a new one.
    #[arg(long, value_name = "ID")]
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
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The backup's id (`dbctl backup list`).
    pub id: i64,
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
            if p.is_json() {
                p.json(&all);
                return Ok(());
            }
            let mib = |b: Option<u64>| {
                b.map(|b| format!("{} MiB", b.div_ceil(1 << 20)))
                    .unwrap_or_else(|| "-".into())
            };
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
                            mib(b.bytes),
                            mib(b.added_bytes),
                            if b.pinned { "yes" } else { "-" }.into(),
                        ]
                    })
                    .collect(),
            );
        }
        BackupCommand::Show(a) => print_backup(p, &backups::show(&env.open()?, a.id)?),
        BackupCommand::Delete(a) => print_backup(p, &backups::delete(&env.open()?, a.id)?),
        BackupCommand::Pin(a) => print_backup(p, &backups::pin(&env.open()?, a.id, true)?),
        BackupCommand::Unpin(a) => print_backup(p, &backups::pin(&env.open()?, a.id, false)?),
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
