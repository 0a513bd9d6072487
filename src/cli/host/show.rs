//! `dbctl host show`.

use crate::cli::output::{opt, Printer};
use crate::cli::Env;
use crate::control::hosts::registry::HostView;
use anyhow::Result;
use clap::Args;

/// Show one host: how it is reached, its pinned key, dbhost version and facts.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The host's name (`dbctl host list`).
    #[arg(add = crate::cli::complete::hosts())]
    pub name: String,
}

/// Says what a refresh changed of the snapshots on `h` (stderr; the JSON carries it too).
pub fn note_reconciled(p: &Printer, h: &HostView) {
    let ids = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    if !h.reconciled.lost.is_empty() {
        p.note(&format!(
            "warning: host {}: snapshot(s) {} are no longer on it: marked lost (restorable windows shrink; `dbctl events --type snapshot_lost`)",
            h.name,
            ids(&h.reconciled.lost)
        ));
    }
    if !h.reconciled.found.is_empty() {
        p.note(&format!(
            "host {}: snapshot(s) {} are on it again: available",
            h.name,
            ids(&h.reconciled.found)
        ));
    }
}

/// Labels as `key=value,...`, or "-".
pub fn labels_text(labels: &std::collections::BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "-".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn print_host(p: &Printer, h: &HostView) {
    if p.is_json() {
        p.json(h);
        return;
    }
    p.fields(vec![
        ("name", h.name.clone()),
        ("transport", h.transport.clone()),
        (
            "address",
            if h.port == 0 {
                h.address.clone()
            } else {
                format!("{}:{}", h.address, h.port)
            },
        ),
        ("user", opt(&h.user)),
        ("host key", opt(&h.host_key)),
        (
            "dbhost",
            format!("{} (protocol {})", h.dbhost_version, h.protocol),
        ),
        ("cpus", h.cpus.to_string()),
        ("memory", format!("{} MiB", h.memory_mb)),
        (
            "disk free",
            format!("{} GiB under {}", h.disk_free_gb, h.root),
        ),
        ("engines", h.engines.join(", ")),
        ("storage", h.storage_backend.clone()),
        ("instances", h.instances.to_string()),
        ("labels", labels_text(&h.labels)),
        ("facts from", h.facts_at.clone()),
        (
            "disk used",
            match &h.disk {
                Some(d) => format!(
                    "instances {}, snapshots {}, logs {}, set aside {}, other {}, unattributed {}{}",
                    mib(d.instances_bytes),
                    mib(d.snapshots_bytes),
                    mib(d.logs_bytes),
                    mib(d.replaced_bytes),
                    mib(d.other_bytes),
                    mib(d.unattributed_bytes),
                    if d.unattributed.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", d.unattributed.join(", "))
                    }
                ),
                None => "- (the host does not answer)".into(),
            },
        ),
    ]);
    // What recoveries replaced: kept until a person prunes it or the retention does.
    if let Some(d) = h.disk.as_ref().filter(|d| !d.replaced.is_empty()) {
        p.note(&format!(
            "set aside (replaced data; `dbctl host prune {}` removes it):",
            h.name
        ));
        let rows = d
            .replaced
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.instance.clone(),
                    r.engine.clone(),
                    r.replaced_at.clone(),
                    mib(r.bytes),
                    r.removed_after.clone(),
                    r.reason.clone(),
                ]
            })
            .collect();
        p.table(
            &[
                "SET ASIDE",
                "INSTANCE",
                "ENGINE",
                "AT",
                "SIZE",
                "REMOVED AFTER",
                "WHY",
            ],
            rows,
        );
    }
}

/// Sizes as they are (21 KiB is not 1 MiB), as every other table shows them.
fn mib(bytes: u64) -> String {
    crate::cli::output::size(Some(bytes))
}

pub fn run(env: &Env, a: &ShowArgs) -> Result<()> {
    let ctx = env.open()?;
    print_host(
        &env.printer,
        &crate::control::hosts::registry::show(&ctx, &a.name)?,
    );
    Ok(())
}
