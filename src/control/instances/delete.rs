//! Deleting an instance: its final snapshot, its server and data, its record.

use crate::catalog::hosts;
use crate::catalog::instances::{self, status};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::base::lookup;
use crate::control::planning;
use crate::control::planning::check_not_busy;
use crate::control::planning::Plan;
use crate::workflow::actions::{self, ActionKind};
use anyhow::Result;

/// Plans `delete` (after a final snapshot unless `skip_final_snapshot`); writes it unless
/// `dry_run`.
///
/// # Errors
/// Unknown or busy instance; the catalog fails.
pub fn plan_delete(
    ctx: &mut Ctx,
    name: &str,
    skip_final_snapshot: bool,
    dry_run: bool,
) -> Result<Plan> {
    let inst = lookup::instance(ctx, name)?;
    check_not_busy(ctx, &inst)?;
    let host = match inst.host_id {
        Some(id) => hosts::get(ctx.catalog.conn(), id)?,
        None => {
            return Err(invalid(
                format!("instance `{name}` has no host in the catalog"),
                "re-add its host",
            ))
        }
    };
    // A final snapshot needs a running server; an instance that never came up has no data
    // worth keeping.
    let take_final = !skip_final_snapshot && inst.status == status::AVAILABLE;
    let mut final_snap = take_final.then(|| {
        planning::new_snapshot_row(&inst, host.id, crate::catalog::snapshots::kind::FINAL, None)
    });
    // Its automatic snapshots (the base one among them) go with it, as a cloud service's
    // automated backups do; the ones people took stay, with the logs they need.
    let (automatic, kept): (Vec<_>, Vec<_>) =
        crate::catalog::snapshots::list(ctx.catalog.conn(), Some(name))?
            .into_iter()
            .filter(|s| {
                s.instance_id == inst.id
                    && s.host_id == Some(host.id)
                    && s.status == crate::catalog::snapshots::status::AVAILABLE
            })
            .partition(|s| crate::catalog::snapshots::kind::expires(&s.kind));
    let kept: Vec<String> = kept.into_iter().map(|s| s.uid).collect();
    let steps_for = |s: Option<&crate::catalog::snapshots::SnapshotRow>| {
        actions::delete::steps(&inst, host.id, s, &kept, &automatic)
    };
    let plan = Plan::new(
        ActionKind::Delete,
        name,
        &host.name,
        format!("on host {}", host.name),
        steps_for(final_snap.as_ref()),
    );
    planning::submit(ctx, plan, dry_run, |tx| {
        let written = match final_snap.as_mut() {
            Some(snap) => {
                planning::write_with_snapshot(tx, ActionKind::Delete, &inst, snap, &|s| {
                    steps_for(Some(s))
                })?
            }
            None => {
                let steps = steps_for(None);
                (
                    planning::write_workflow(tx, ActionKind::Delete, &inst, &steps)?,
                    steps,
                )
            }
        };
        instances::set_status(tx, inst.id, status::DELETING)?;
        Ok(written)
    })
}
