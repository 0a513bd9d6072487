//! `dbctl describe`: one instance in detail.

use super::output::{opt, Printer};
use super::Env;
use crate::control::instances::views::InstanceView;
use anyhow::Result;
use clap::Args;

/// Show an instance: status, engine and version, class, host, endpoint, last workflow.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
}

pub fn print_instance(p: &Printer, v: &InstanceView) {
    if p.is_json() {
        p.json(v);
        return;
    }
    p.fields(vec![
        ("name", v.name.clone()),
        ("status", v.status.clone()),
        (
            "engine",
            format!(
                "{} {}",
                v.engine,
                v.engine_version.clone().unwrap_or_default()
            ),
        ),
        (
            "class",
            format!(
                "{} ({} cpu, {} MiB, {} connections)",
                v.class, v.cpus, v.memory_mb, v.max_connections
            ),
        ),
        (
            "pending",
            v.pending_class
                .as_ref()
                .map(|c| format!("class {c}, in the maintenance window"))
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "maintenance",
            v.maintenance_window
                .clone()
                .unwrap_or_else(|| "none".into()),
        ),
        ("storage", format!("{} GiB", v.storage_gb)),
        ("host", opt(&v.host)),
        ("endpoint", opt(&v.endpoint)),
        ("admin user", v.admin_user.clone()),
        (
            "labels",
            if v.labels.is_empty() {
                "-".into()
            } else {
                v.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        ("created", v.created_at.clone()),
        (
            "last drill",
            v.last_drill.as_ref().map_or("-".into(), |d| {
                let age = time::OffsetDateTime::parse(
                    d.finished_at.as_deref().unwrap_or(&d.started_at),
                    &time::format_description::well_known::Rfc3339,
                )
                .map(|t| crate::control::instances::lifetimes::brief(time::OffsetDateTime::now_utc() - t))
                .unwrap_or_default();
                format!(
                    "{} {age} ago (drill {}, {} tier{}{}){}",
                    d.status,
                    d.id,
                    d.tier,
                    d.rto_secs
                        .map(|s| format!(", RTO {s:.1} s"))
                        .unwrap_or_default(),
                    d.rpo_secs
                        .map(|s| format!(", RPO {s:.0} s"))
                        .unwrap_or_default(),
                    d.error
                        .as_ref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                )
            }),
        ),
        (
            "expires",
            v.lifetime.as_ref().map_or("-".into(), |l| {
                let mut s = l.summary.clone();
                if let Some(at) = &l.lifetime.expires_at {
                    s += &format!(" (at {at})");
                }
                if l.lifetime.idle_limit_secs.is_some() {
                    s += &format!(" (a client last seen {})", l.lifetime.last_active_at);
                }
                s
            }),
        ),
        (
            "cloned from",
            match (&v.source_instance, v.source_snapshot_id) {
                (Some(src), Some(snap)) => format!("{src} at snapshot {snap}"),
                (Some(src), None) => src.clone(),
                _ => "-".into(),
            },
        ),
        (
            "recovered",
            match &v.recovered {
                Some(r) => match r.snapshot_id {
                    Some(id) => format!("from snapshot {id} at {}", r.at),
                    None => format!("at {}", r.at),
                },
                None => "-".into(),
            },
        ),
        (
            "health",
            match &v.health {
                Some(h) => format!(
                    "{} (checked {}){}{}",
                    h.state,
                    h.checked_at,
                    h.first_error_at
                        .as_ref()
                        .map(|t| format!("; first error {t}"))
                        .unwrap_or_default(),
                    h.detail
                        .as_ref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
                None => "not checked yet".into(),
            },
        ),
        ("on failure", v.on_failure.clone()),
        (
            "snapshots",
            match v.snapshot_interval_mins {
                0 => format!("{} (no automatic ones)", v.snapshots),
                m => format!("{} (automatic every {m} min)", v.snapshots),
            },
        ),
        (
            "restorable",
            if let Some(why) = &v.host_silent {
                format!("- (its host did not answer: {why})")
            } else if v.recoverable {
                v.restorable_window
                    .as_ref()
                    .filter(|w| w.earliest.is_some())
                    .map(|w| w.describe())
                    .unwrap_or_else(|| "-".into())
            } else {
                format!(
                    "NO: no snapshot or backup, so it cannot be rebuilt if its data is lost (`dbctl snapshot create {}`)",
                    v.name
                )
            },
        ),
        (
            "backups",
            match &v.offsite {
                Some(o) => format!(
                    "into {}, window {} UTC, {} days; last {}; logs through {}{}",
                    o.repository,
                    o.backup_window.as_deref().unwrap_or("none"),
                    o.retention_days,
                    o.last_backup_at.as_deref().unwrap_or("none yet"),
                    o.logs_through.as_deref().unwrap_or("none yet"),
                    o.log_lag_secs
                        .map(|s| format!(" ({s} s behind)"))
                        .unwrap_or_default()
                ),
                None => "-".into(),
            },
        ),
        (
            "last workflow",
            v.last_workflow
                .as_ref()
                .map(|w| format!("{} {} ({})", w.id, w.action, w.status))
                .unwrap_or_else(|| "-".into()),
        ),
    ]);
}

pub fn run(env: &Env, a: &DescribeArgs) -> Result<()> {
    let ctx = env.open()?;
    print_instance(
        &env.printer,
        &crate::control::instances::views::describe(&ctx, &a.name)?,
    );
    Ok(())
}
