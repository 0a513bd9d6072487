//! `dbctl sweep`: run queued and abandoned workflows, then exit (for cron).

use super::output::Printer;
use super::Env;
use crate::control::daemon::swept::Swept;
use anyhow::Result;
use clap::Args;

/// Fire the schedules due (`dbctl schedule`), queue the backups due (an instance inside its
/// backup window without one since it opened),
/// run every queued workflow and resume every one whose runner is gone, ship every
/// instance's new archived logs into its backup repository, expire what backup policies no
/// longer keep, then exit.
///
/// Exits 0 when every workflow it ran succeeded (one another sweep or runner had is
/// `skipped`, not a failure), 1 when any failed, 3 when any paused (a host that does not
/// answer).
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Change nothing: show what expiry would remove now (backups and shipped logs past
    /// their policy), as `restic forget --dry-run` does.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(env: &Env, a: &SweepArgs) -> Result<()> {
    if a.dry_run {
        let would = crate::control::daemon::sweep::would_expire(&env.home)?;
        print_would_expire(&env.printer, &would);
        return match would.iter().find_map(|e| e.error.clone()) {
            Some(e) => Err(anyhow::anyhow!(e)),
            None => Ok(()),
        };
    }
    let swept = crate::control::daemon::sweep::pass(&env.home)?;
    print(&env.printer, &swept);
    match swept.failure() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn print_would_expire(p: &Printer, would: &[crate::control::offsite::expiry::Expired]) {
    if p.is_json() {
        p.json(would);
    } else if would.is_empty() {
        p.note("expiry would remove nothing");
    } else {
        expiry_table(p, would, ["backups", "log files"]);
    }
}

/// Expiry's reckoning per instance, under the heads `heads` for its backups and log files.
fn expiry_table(
    p: &Printer,
    expired: &[crate::control::offsite::expiry::Expired],
    heads: [&str; 2],
) {
    p.table(
        &["instance", "repository", heads[0], heads[1], "error"],
        expired
            .iter()
            .map(|e| {
                vec![
                    e.instance.clone(),
                    e.repository.clone(),
                    e.backups
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                    e.log_files.to_string(),
                    e.error.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
}

/// Prints what a pass did: JSON, or a table for each kind of work it found.
pub fn print(p: &Printer, swept: &Swept) {
    let Swept {
        workflows: results,
        shipped,
        expired,
        ..
    } = swept;
    if p.is_json() {
        p.json(swept);
    } else if swept.idle() {
        p.note("nothing to do");
    } else if !results.is_empty() {
        p.table(
            &["workflow", "action", "outcome", "error"],
            results
                .iter()
                .map(|r| {
                    vec![
                        r.workflow_id.to_string(),
                        r.action.clone(),
                        r.outcome.clone(),
                        r.error.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        );
    }
    if !p.is_json() {
        for r in &swept.replaced_removed {
            p.note(&format!(
                "removed set-aside data {r} (older than [replaced] keep_days)"
            ));
        }
    }
    if !p.is_json() && !shipped.is_empty() {
        p.table(
            &[
                "instance",
                "repository",
                "log files shipped",
                "bytes",
                "error",
            ],
            shipped
                .iter()
                .map(|s| {
                    vec![
                        s.instance.clone(),
                        s.repository.clone(),
                        s.files.to_string(),
                        s.bytes.to_string(),
                        match (&s.error, s.damaged.is_empty()) {
                            (Some(e), _) => e.clone(),
                            (None, false) => format!(
                                "damaged, not shipped: {} (a hole in the restorable window)",
                                s.damaged.join(", ")
                            ),
                            (None, true) => String::new(),
                        },
                    ]
                })
                .collect(),
        );
    }
    if !p.is_json() && !expired.is_empty() {
        expiry_table(p, expired, ["backups removed", "log files removed"]);
    }
}
