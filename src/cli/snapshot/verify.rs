//! `dbctl snapshot verify`.

use crate::cli::Env;
use crate::control::restore::snapshots;
use anyhow::Result;
use clap::Args;

/// Recompute a snapshot's checksums on its host and report every file that does not match.
///
/// Exits 1 when any file is bad.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The snapshot's id (`dbctl snapshot list`).
    #[arg(add = crate::cli::complete::snapshots())]
    pub id: i64,
}

pub fn run(env: &Env, a: &VerifyArgs) -> Result<()> {
    let ctx = env.open()?;
    let report = snapshots::verify(&ctx, a.id)?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&report);
    } else {
        for line in &report.problems {
            p.line(line);
        }
        p.note(&format!(
            "{} files checked, {} bad",
            report.files_checked,
            report.problems.len()
        ));
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "snapshot {} failed verification: {} of {} files are bad",
            a.id,
            report.problems.len(),
            report.files_checked
        )
    }
}
