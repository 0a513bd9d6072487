//! `dbctl clone`: a new, independent instance from a source's snapshot.

use super::describe::print_instance;
use super::plan::{run_plan, ChangeFlags};
use super::restore::TargetArgs;
use super::Env;
use crate::control::clones::{self, CloneOpts};
use crate::control::instances;
use anyhow::Result;
use clap::Args;

/// Clone an instance: a full, independent copy (own port, endpoint, password), of any class,
/// on any host, while the source keeps serving.
///
/// From the source's newest snapshot, a named one (--snapshot), or a new one (--fresh, also
/// when it has none). Another host receives the snapshot streamed through dbctl.
#[derive(Debug, Args)]
pub struct CloneArgs {
    /// The source instance.
    pub source: String,
    /// Name of the new instance.
    #[arg(long = "as", value_name = "NEW")]
    pub name: String,
    /// Class of the clone [default: the source's].
    #[arg(long)]
    pub class: Option<String>,
    /// Host for the clone [default: chosen by placement].
    #[arg(long)]
    pub host: Option<String>,
    /// Storage to reserve, in GiB [default: the larger of the class's and the source's].
    #[arg(long, value_name = "N")]
    pub storage_gb: Option<u64>,
    /// Port the clone listens on [default: a free one from the host's range].
    #[arg(long, value_name = "P")]
    pub port: Option<u16>,
    /// Clone from this snapshot of the source.
    #[arg(long, value_name = "ID", conflicts_with = "fresh")]
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
    #[command(flatten)]
    pub change: ChangeFlags,
}

pub fn run(env: &Env, a: &CloneArgs) -> Result<()> {
    let mut ctx = env.open()?;
    crate::control::pitr::check_lsn_spelling(&ctx, &a.source, a.target.lsn.is_some())?;
    let plan = clones::plan_clone(
        &mut ctx,
        &CloneOpts {
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
            lifetime: crate::control::lifetimes::LifetimeOpts {
                expires_in: a.expires_in.clone(),
                delete_when_idle: a.delete_when_idle.clone(),
                final_snapshot: a.final_snapshot_on_expiry,
            },
        },
        a.change.dry_run,
    )?;
    if run_plan(&mut ctx, &env.printer, &plan, a.change)? {
        print_instance(&env.printer, &instances::describe(&ctx, &a.name)?);
    }
    Ok(())
}
