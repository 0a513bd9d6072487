//! Finding what a command names: an instance or a host by its name, or one ever named so,
//! with the one error a wrong name gets. A leaf: it reads the catalog and nothing else here.

use super::error::invalid;
use super::home::Ctx;
use crate::catalog::hosts::{self, HostRow};
use crate::catalog::instances::{self, InstanceRow};
use anyhow::Result;

/// The host named `name`.
///
/// # Errors
/// [`super::error::Invalid`] naming the known hosts.
pub fn host(ctx: &Ctx, name: &str) -> Result<HostRow> {
    hosts::by_name(ctx.catalog.conn(), name)?.ok_or_else(|| {
        let known: Vec<String> = hosts::list(ctx.catalog.conn())
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.name)
            .collect();
        invalid(
            format!("unknown host `{name}`"),
            if known.is_empty() {
                "add one with `dbctl host add` (or run `dbctl init` for this machine)".to_string()
            } else {
                format!(
                    "use one of: {} (or add it with `dbctl host add`)",
                    known.join(", ")
                )
            },
        )
    })
}

/// The live instance named `name`.
///
/// # Errors
/// [`super::error::Invalid`] when no live instance has that name.
pub fn instance(ctx: &Ctx, name: &str) -> Result<InstanceRow> {
    instances::live_by_name(ctx.catalog.conn(), name)?.ok_or_else(|| {
        invalid(
            format!("no instance named `{name}`"),
            "`dbctl list` shows the instances",
        )
    })
}

/// For listings of an instance's history (events, snapshots, backups), which outlive it:
/// an empty listing is an answer for a name that ever was, and a typo for one that never was.
///
/// # Errors
/// [`super::error::Invalid`] when no instance, live or deleted, ever had that name.
pub fn check_ever_named(ctx: &Ctx, name: &str) -> Result<()> {
    if instances::ever_named(ctx.catalog.conn(), name)? {
        return Ok(());
    }
    Err(invalid(
        format!("no instance was ever named `{name}`"),
        "`dbctl list` shows the instances; `dbctl events` the history of deleted ones",
    ))
}
