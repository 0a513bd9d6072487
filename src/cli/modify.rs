//! `dbctl modify`.

use super::describe::print_instance;
use super::plan::{run_plan, ChangeFlags};
use super::Env;

use crate::control::instances::modify;
use crate::control::instances::modify::ModifyOpts;
use anyhow::Result;
use clap::Args;

/// Change an instance's class, storage, archive timeout, windows or monitor policy. A class
/// change restarts the server, so it waits for the maintenance window (`describe` lists it as
/// pending) unless --apply-immediately; everything else applies now. A class its host has no
/// room for moves the instance to a host that has it (snapshot, restore with every log, the
/// endpoint moved, the old copy retired), and the downtime is reported.
#[derive(Debug, Args)]
pub struct ModifyArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// New class (a restart; in the maintenance window unless --apply-immediately).
    #[arg(long, add = crate::cli::complete::classes())]
    pub class: Option<String>,
    /// More storage in GiB (never less).
    #[arg(long)]
    pub storage_gb: Option<u64>,
    /// Longest a commit may wait before its log is archived, in seconds (1-3600).
    #[arg(long = "archive-timeout", value_name = "SECONDS")]
    pub archive_timeout_secs: Option<u32>,
    /// Daily backup window HH:MM-HH:MM (UTC), or `none` (needs a backup policy).
    #[arg(long)]
    pub backup_window: Option<String>,
    /// Days of point-in-time recovery the repository keeps (0-35; needs a backup policy).
    #[arg(long)]
    pub backup_retention_days: Option<u32>,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Apply now, with what is pending; alone, applies only what is pending.
    #[arg(long)]
    pub apply_immediately: bool,
    #[command(flatten)]
    pub change: ChangeFlags,
}

/// The settings `create` and `modify` share.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Weekly window ddd:HH:MM-ddd:HH:MM (UTC) for changes that need a restart, or `none`
    /// [default: none: they wait for --apply-immediately].
    #[arg(long)]
    pub maintenance_window: Option<String>,
    /// Minutes between automatic host-tier snapshots (0: none) [default: 15].
    #[arg(long = "snapshot-interval", value_name = "MINUTES")]
    pub snapshot_interval_mins: Option<u32>,
    /// What the monitor does when the instance fails: recover or notify [default: recover].
    #[arg(long, add = crate::cli::complete::on_failure())]
    pub on_failure: Option<String>,
}

impl SettingsArgs {
    pub fn opts(&self) -> ModifyOpts {
        ModifyOpts {
            maintenance_window: self.maintenance_window.clone(),
            snapshot_interval_mins: self.snapshot_interval_mins,
            on_failure: self.on_failure.clone(),
            ..Default::default()
        }
    }
}

pub fn run(env: &Env, a: &ModifyArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let o = ModifyOpts {
        class: a.class.clone(),
        storage_gb: a.storage_gb,
        archive_timeout_secs: a.archive_timeout_secs,
        backup_window: a.backup_window.clone(),
        backup_retention_days: a.backup_retention_days,
        apply_immediately: a.apply_immediately,
        ..a.settings.opts()
    };
    let m = modify::plan_modify(&mut ctx, &a.name, &o, a.change.dry_run)?;
    let p = &env.printer;
    for line in &m.applied {
        p.note(&format!("{}: {line}", m.instance));
    }
    if let Some(c) = &m.pending_class {
        p.note(&match &m.maintenance_window {
            Some(w) => format!("{}: class {c} is pending until its maintenance window ({w}); --apply-immediately applies it now", m.instance),
            None => format!("{}: class {c} is pending; it has no maintenance window, so give one (--maintenance-window) or apply it now with --apply-immediately", m.instance),
        });
    }
    let mut downtime = None;
    if let Some(plan) = &m.plan {
        if !run_plan(&mut ctx, p, plan, a.change)? {
            return Ok(());
        }
        if let Some(wf) = plan.workflow_id {
            downtime = modify::downtime_secs(&ctx, wf)?;
            if let Some(d) = downtime {
                p.note(&format!("{}: unavailable for {d:.1} s", m.instance));
            }
        }
    } else if a.change.dry_run {
        return Ok(());
    }
    let view = crate::control::instances::views::describe(&ctx, &a.name)?;
    if p.is_json() {
        p.json(&serde_json::json!({
            "instance": view,
            "applied": m.applied,
            "pending_class": m.pending_class,
            "downtime_secs": downtime,
        }));
    } else {
        print_instance(p, &view);
    }
    Ok(())
}
