//! `dbctl host list`.

use crate::cli::Env;

use anyhow::Result;
use clap::Args;

/// List hosts with their capacity and engines.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Ask every host for its facts first (many at once: `[monitor] concurrency`), showing
    /// which answered and how fast.
    #[arg(long)]
    pub refresh: bool,
    /// Only those carrying this label KEY=VALUE (repeatable: all of them).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
}

pub fn run(env: &Env, a: &ListArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let all = crate::control::hosts::registry::list_labelled(&mut ctx, &a.labels, a.refresh)?;
    let p = &env.printer;
    for h in &all {
        super::show::note_reconciled(p, h);
    }
    if p.is_json() {
        p.json(&all);
        return Ok(());
    }
    // Per host shown, its instances without a recent passing restore drill.
    let shown: Vec<&str> = all.iter().map(|h| h.name.as_str()).collect();
    let mut per_host: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (inst, _) in crate::control::data::drills::overdue(&ctx)? {
        let Some(id) = inst.host_id else { continue };
        let host = crate::catalog::hosts::get(ctx.catalog.conn(), id)?.name;
        if shown.contains(&host.as_str()) {
            per_host.entry(host).or_default().push(inst.name);
        }
    }
    let warnings: Vec<String> = per_host
        .into_iter()
        .map(|(host, names)| {
            format!(
                "warning: host {host}: {} instance(s) without a passing restore drill in {} days: {}",
                names.len(),
                ctx.config.drills.warn_after_days,
                names.join(", ")
            )
        })
        .collect();
    let silent: Vec<String> = all
        .iter()
        .filter(|h| h.answering == Some(false))
        .map(|h| {
            format!(
                "warning: host {} did not answer: {}",
                h.name,
                h.not_answering.as_deref().unwrap_or("")
            )
        })
        .collect();
    p.table(
        &[
            "name",
            "transport",
            "address",
            "dbhost",
            "cpus",
            "memory",
            "disk free",
            "engines",
            "instances",
            "labels",
            "last contact",
            "rtt",
        ],
        all.into_iter()
            .map(|h| {
                vec![
                    h.name,
                    h.transport,
                    if h.port == 0 {
                        h.address
                    } else {
                        format!("{}:{}", h.address, h.port)
                    },
                    h.dbhost_version,
                    h.cpus.to_string(),
                    format!("{} MiB", h.memory_mb),
                    format!("{} GiB", h.disk_free_gb),
                    h.engines.join(", "),
                    h.instances.to_string(),
                    super::show::labels_text(&h.labels),
                    h.last_contact_at.clone().unwrap_or_else(|| "-".into()),
                    match h.answering {
                        Some(false) => "NOT ANSWERING".into(),
                        _ => h
                            .rtt_ms
                            .map(|ms| format!("{ms} ms"))
                            .unwrap_or_else(|| "-".into()),
                    },
                ]
            })
            .collect(),
    );
    for w in silent {
        p.note(&w);
    }
    for w in warnings {
        p.note(&w);
    }
    Ok(())
}
