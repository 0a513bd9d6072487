//! Data that recoveries and in-place restores replaced, set aside on its host (dbhost's
//! `replaced/`): listed by `host show`, removed only by a person (`dbctl host prune`) or,
//! once older than `[replaced] keep_days`, by the daemon's retention. Nothing else deletes
//! it, so an automatic rebuild can never destroy the only good copy of a database.

use crate::control::base::home::Ctx;

use crate::catalog::hosts::HostRow;
use crate::catalog::{events, instances};
use crate::wire::{Op, ReplacedData, ReplacedRemoveSpec};
use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

/// One set-aside entry, as people see it.
#[derive(Debug, Clone, Serialize)]
pub struct Replaced {
    pub host: String,
    /// Its name on the host (what `host prune` takes).
    pub name: String,
    /// The instance whose data it was (its name in the catalog, or the host's name for it).
    pub instance: String,
    pub engine: String,
    pub replaced_at: String,
    pub reason: String,
    pub bytes: u64,
    /// When the retention removes it.
    pub removed_after: String,
}

/// What `h` holds set aside.
///
/// # Errors
/// The host does not answer, or the catalog fails.
pub fn on_host(ctx: &Ctx, h: &HostRow) -> Result<Vec<Replaced>> {
    let listed: Vec<ReplacedData> = serde_json::from_value(
        crate::control::hosts::reach::call(h, Op::ReplacedList)
            .map_err(|e| crate::control::hosts::reach::explain_for(h, e))?,
    )?;
    let names: std::collections::HashMap<String, String> = instances::list_all(ctx.catalog.conn())?
        .into_iter()
        .map(|i| (i.uid, i.name))
        .collect();
    let keep = time::Duration::days(i64::from(ctx.config.replaced.keep_days));
    Ok(listed
        .into_iter()
        .map(|r| {
            let removed_after = OffsetDateTime::parse(
                &r.replaced_at,
                &time::format_description::well_known::Rfc3339,
            )
            .map(|t| crate::times::format(t + keep))
            .unwrap_or_default();
            Replaced {
                host: h.name.clone(),
                instance: names.get(&r.instance).cloned().unwrap_or(r.instance),
                name: r.name,
                engine: r.engine,
                replaced_at: r.replaced_at,
                reason: r.reason,
                bytes: r.bytes,
                removed_after,
            }
        })
        .collect())
}

/// What `host prune` is asked to remove.
#[derive(Debug, Clone)]
pub struct PruneOpts {
    pub host: String,
    /// These entries; empty: every one (older than `older_than_days`, when given).
    pub names: Vec<String>,
    pub older_than_days: Option<u32>,
    pub dry_run: bool,
}

/// Removes set-aside data on a host as a person asked (`--dry-run`: says what would go).
///
/// # Errors
/// Unknown host or entry ([`crate::control::base::error::Invalid`]), a host that does not answer.
pub fn prune(ctx: &Ctx, o: &PruneOpts) -> Result<Vec<Replaced>> {
    let h = crate::control::base::lookup::host(ctx, &o.host)?;
    let all = on_host(ctx, &h)?;
    for n in &o.names {
        if !all.iter().any(|r| &r.name == n) {
            return Err(crate::control::base::error::invalid(
                format!("host `{}` has no set-aside data named `{n}`", o.host),
                format!("`dbctl host show {}` lists what it has", o.host),
            ));
        }
    }
    let now = OffsetDateTime::now_utc();
    let chosen: Vec<Replaced> = all
        .into_iter()
        .filter(|r| o.names.is_empty() || o.names.contains(&r.name))
        .filter(|r| {
            o.older_than_days.is_none_or(|d| {
                OffsetDateTime::parse(
                    &r.replaced_at,
                    &time::format_description::well_known::Rfc3339,
                )
                .is_ok_and(|t| now - t >= time::Duration::days(i64::from(d)))
            })
        })
        .collect();
    if o.dry_run || chosen.is_empty() {
        return Ok(chosen);
    }
    remove(ctx, &h, &chosen, "by hand (`dbctl host prune`)")?;
    Ok(chosen)
}

/// Removes `entries` from `h` and records each removal.
fn remove(ctx: &Ctx, h: &HostRow, entries: &[Replaced], how: &str) -> Result<()> {
    let names = entries.iter().map(|r| r.name.clone()).collect();
    crate::control::hosts::reach::call(h, Op::ReplacedRemove(ReplacedRemoveSpec { names }))
        .map_err(|e| crate::control::hosts::reach::explain_for(h, e))?;
    let conn = ctx.catalog.conn();
    for r in entries {
        let inst = instances::live_by_name(conn, &r.instance)?;
        events::add(
            conn,
            inst.as_ref().map(|i| (i.id, i.name.as_str())),
            None,
            "replaced_data_removed",
            &format!(
                "the data {} set aside on host {} at {} ({}, {}) was removed {how}",
                r.instance,
                h.name,
                r.replaced_at,
                r.reason,
                // As it is (21 KiB is not 1 MiB), as the tables show sizes.
                indicatif::HumanBytes(r.bytes)
            ),
        )?;
    }
    Ok(())
}

/// How often the retention asks the hosts (one question each).
const RETENTION_EVERY_SECS: u32 = 3600;

/// The daemon's retention: removes set-aside data older than `[replaced] keep_days` on every
/// host that answers, at most once an hour across every daemon sharing the catalog. Returns
/// what it removed, as "HOST/NAME".
///
/// # Errors
/// The catalog fails (a host that does not answer is passed over until the next round).
pub fn expire_due(ctx: &Ctx, now: OffsetDateTime) -> Result<Vec<String>> {
    // A holder of its own each time: the lease is taken only once it has lapsed.
    let me = format!("retention-{:016x}", rand::random::<u64>());
    if !crate::catalog::leases::take(
        ctx.catalog.conn(),
        "replaced-retention",
        &me,
        RETENTION_EVERY_SECS,
    )? {
        return Ok(Vec::new());
    }
    let keep = time::Duration::days(i64::from(ctx.config.replaced.keep_days));
    let mut removed = Vec::new();
    for h in crate::catalog::hosts::list(ctx.catalog.conn())? {
        let Ok(all) = on_host(ctx, &h) else {
            continue;
        };
        let due: Vec<Replaced> = all
            .into_iter()
            .filter(|r| {
                OffsetDateTime::parse(
                    &r.replaced_at,
                    &time::format_description::well_known::Rfc3339,
                )
                .is_ok_and(|t| now - t >= keep)
            })
            .collect();
        if due.is_empty() {
            continue;
        }
        let how = format!(
            "by the retention ([replaced] keep_days = {})",
            ctx.config.replaced.keep_days
        );
        if remove(ctx, &h, &due, &how).is_ok() {
            removed.extend(due.iter().map(|r| format!("{}/{}", h.name, r.name)));
        }
    }
    Ok(removed)
}
