//! `dbctl snapshot show`.

use crate::catalog::snapshots::SnapshotRow;
use crate::cli::output::{opt, Printer};
use crate::cli::Env;
use crate::control::restore::snapshots;
use anyhow::Result;
use clap::Args;

/// Show one snapshot.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The snapshot's id (`dbctl snapshot list`).
    #[arg(add = crate::cli::complete::snapshots())]
    pub id: i64,
}

pub fn print_snapshot(p: &Printer, s: &SnapshotRow) {
    if p.is_json() {
        p.json(s);
        return;
    }
    p.fields(vec![
        ("id", s.id.to_string()),
        ("instance", s.instance_name.clone()),
        ("kind", s.kind.clone()),
        ("tag", opt(&s.tag)),
        ("status", s.status.clone()),
        (
            "engine",
            format!(
                "{} {}",
                s.engine,
                s.engine_version.clone().unwrap_or_default()
            ),
        ),
        ("taken", opt(&s.taken_at)),
        ("position", opt(&s.position)),
        (
            "size",
            s.size_bytes
                .map(|b| format!("{b} bytes in {} files", s.files.unwrap_or(0)))
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "shared with previous",
            s.shared_files
                .map(|n| format!("{n} files"))
                .unwrap_or_else(|| "-".into()),
        ),
        ("backend", opt(&s.backend)),
        ("workflow", opt(&s.workflow_id)),
    ]);
}

pub fn run(env: &Env, a: &ShowArgs) -> Result<()> {
    let ctx = env.open()?;
    print_snapshot(&env.printer, &snapshots::get(&ctx, a.id)?);
    Ok(())
}
