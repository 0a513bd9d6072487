//! The periodic backup: each sweep inside an instance's backup window queues a backup of it,
//! unless one was already taken since the window opened; the same sweep then runs it.

use crate::catalog::backup_policies;
use crate::catalog::backups as rows;
use crate::catalog::instances::{self as irows, status as istatus};
use crate::control::base::home::Ctx;
use crate::control::offsite::backups;
use crate::control::offsite::backups::BackupOpts;
use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

/// A backup a sweep queued, or why it could not.
#[derive(Debug, Clone, Serialize)]
pub struct Queued {
    pub instance: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// When the occurrence of `window` that `now` is inside began; None outside it.
pub fn opened_at(window: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let (a, b) = crate::control::offsite::policies::parse_window(window).ok()?;
    let m = u32::from(now.hour()) * 60 + u32::from(now.minute());
    let inside = if a < b {
        a <= m && m < b
    } else {
        m >= a || m < b
    };
    if !inside {
        return None;
    }
    let midnight = now.replace_time(time::Time::MIDNIGHT);
    let today = midnight + time::Duration::minutes(i64::from(a));
    Some(if m >= a {
        today
    } else {
        today - time::Duration::days(1)
    })
}

/// Queues the backups due now.
///
/// # Errors
/// The catalog cannot be read.
pub fn queue_due(ctx: &mut Ctx, now: OffsetDateTime) -> Result<Vec<Queued>> {
    let mut out = Vec::new();
    for p in backup_policies::all(ctx.catalog.conn())? {
        let Some(opened) = p.backup_window.as_deref().and_then(|w| opened_at(w, now)) else {
            continue;
        };
        let inst = irows::get(ctx.catalog.conn(), p.instance_id)?;
        // Busy now: the next sweep inside the window queues it.
        if inst.status != istatus::AVAILABLE
            || crate::control::planning::check_not_busy(ctx, &inst).is_err()
        {
            continue;
        }
        let taken = rows::list(ctx.catalog.conn())?.into_iter().any(|b| {
            b.instance_id == inst.id
                && time::OffsetDateTime::parse(
                    &b.created_at,
                    &time::format_description::well_known::Rfc3339,
                )
                .is_ok_and(|t| t >= opened)
        });
        if taken {
            continue;
        }
        let o = BackupOpts {
            instance: inst.name.clone(),
            ..Default::default()
        };
        out.extend(queue_once(
            ctx,
            &format!("periodic-backup:{}", inst.id),
            &inst.name,
            |ctx| backups::plan_create(ctx, &o, false).map(|p| p.workflow_id),
        )?);
    }
    Ok(out)
}

/// Plans a workflow the control plane's own pass decided on, under lease `lease` so that of
/// several sweeps or daemons at once one queues it (what decided it and the write that
/// queues it are apart); None when another holds the lease. A planning error is recorded in
/// the result, not returned: the pass goes on with the other instances.
///
/// # Errors
/// The lease cannot be taken or let go.
pub(crate) fn queue_once(
    ctx: &mut Ctx,
    lease: &str,
    instance: &str,
    plan: impl FnOnce(&mut Ctx) -> Result<Option<i64>>,
) -> Result<Option<Queued>> {
    let me = crate::workflow::executor::me();
    if !crate::catalog::leases::take(ctx.catalog.conn(), lease, &me, 60)? {
        return Ok(None);
    }
    let planned = plan(ctx);
    crate::catalog::leases::release(ctx.catalog.conn(), lease, &me)?;
    let (workflow_id, error) = match planned {
        Ok(wf) => (wf, None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    Ok(Some(Queued {
        instance: instance.into(),
        workflow_id,
        error,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> OffsetDateTime {
        OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn a_window_opens_on_its_day_and_one_past_midnight_on_the_day_before() {
        assert_eq!(
            opened_at("02:00-03:00", at("2026-11-26T02:30:00Z")),
            Some(at("2026-11-26T02:00:00Z"))
        );
        assert_eq!(opened_at("02:00-03:00", at("2026-11-26T03:00:00Z")), None);
        assert_eq!(
            opened_at("23:30-00:30", at("2026-11-26T00:10:00Z")),
            Some(at("2026-11-25T23:30:00Z"))
        );
        assert_eq!(
            opened_at("23:30-00:30", at("2026-11-26T23:45:00Z")),
            Some(at("2026-11-26T23:30:00Z"))
        );
    }
}
