//! What a host's own listing of its snapshot store says of the catalog's snapshots there.
//! `host refresh` (and `host list --refresh`) marks those the host no longer holds lost, so
//! the restorable window and every restore stop counting on them, and those it holds again
//! available. Only on a person's refresh, never on the monitor's pass: a store briefly
//! unmounted must not make the automation forget snapshots (and then prune the logs that
//! only they needed).

use crate::catalog::hosts::HostRow;
use crate::catalog::snapshots::{self, status};
use crate::control::base::home::Ctx;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeSet;

/// The snapshots whose status a refresh changed.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Reconciled {
    /// Available in the catalog, not on the host: now lost.
    pub lost: Vec<i64>,
    /// Lost in the catalog, on the host again: available.
    pub found: Vec<i64>,
}

/// Marks `h`'s snapshots by what its store `held` (snapshot names) says; records an event
/// per snapshot changed.
///
/// # Errors
/// The catalog fails.
pub fn reconcile(ctx: &mut Ctx, h: &HostRow, held: &[String]) -> Result<Reconciled> {
    let held: BTreeSet<&str> = held.iter().map(String::as_str).collect();
    let rows = snapshots::on_host(ctx.catalog.conn(), h.id)?;
    let changes = decide(&rows, &held);
    ctx.catalog.write(|tx| {
        for (s, to) in &changes {
            snapshots::set_status(tx, s.id, to)?;
            let (kind, message) = if *to == status::LOST {
                (
                    "snapshot_lost",
                    format!(
                        "snapshot {} of {} is no longer on host {}: marked lost; the restorable window no longer starts from it",
                        s.id, s.instance_name, h.name
                    ),
                )
            } else {
                (
                    "snapshot_found",
                    format!(
                        "snapshot {} of {} is on host {} again: available",
                        s.id, s.instance_name, h.name
                    ),
                )
            };
            crate::catalog::events::add(
                tx,
                Some((s.instance_id, &s.instance_name)),
                None,
                kind,
                &message,
            )?;
        }
        Ok(())
    })?;
    let ids = |to: &str| {
        changes
            .iter()
            .filter(|(_, t)| *t == to)
            .map(|(s, _)| s.id)
            .collect()
    };
    Ok(Reconciled {
        lost: ids(status::LOST),
        found: ids(status::AVAILABLE),
    })
}

/// Which of `rows` change status, and to what: a snapshot being made or deleted is left to
/// its workflow.
fn decide<'a>(
    rows: &'a [snapshots::SnapshotRow],
    held: &BTreeSet<&str>,
) -> Vec<(&'a snapshots::SnapshotRow, &'static str)> {
    rows.iter()
        .filter_map(|s| {
            let there = held.contains(s.uid.as_str());
            match s.status.as_str() {
                status::AVAILABLE if !there => Some((s, status::LOST)),
                status::LOST if there => Some((s, status::AVAILABLE)),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, uid: &str, status: &str) -> snapshots::SnapshotRow {
        snapshots::SnapshotRow {
            id,
            uid: uid.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    #[test]
    fn only_finished_snapshots_follow_what_the_host_holds() {
        let rows = [
            row(1, "a", status::AVAILABLE),
            row(2, "b", status::AVAILABLE),
            row(3, "c", status::LOST),
            row(4, "d", status::LOST),
            row(5, "e", status::CREATING),
            row(6, "f", status::DELETING),
        ];
        let held: BTreeSet<&str> = ["a", "c"].into();
        let changed: Vec<(i64, &str)> = decide(&rows, &held)
            .into_iter()
            .map(|(s, to)| (s.id, to))
            .collect();
        assert_eq!(changed, [(2, status::LOST), (3, status::AVAILABLE)]);
    }
}
