//! Backup policies: the repository an instance's backups and logs go to, the window in which
//! sweep takes its periodic backup, and what expiry keeps (a point-in-time window of N days,
//! plus daily, weekly and monthly backups), as an RDS user sets them on create and changes
//! them later.

use crate::catalog::backup_policies::{self, Policy};
use crate::catalog::instances::InstanceRow;
use crate::catalog::repositories;
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use anyhow::Result;
use serde::Serialize;

/// What a command asks of a policy; None leaves a setting as it is (or its default).
#[derive(Debug, Clone, Default)]
pub struct PolicyOpts {
    pub repository: Option<String>,
    /// `HH:MM-HH:MM` (UTC), or `none` for no periodic backup.
    pub window: Option<String>,
    pub retention_days: Option<u32>,
    pub keep_daily: Option<u32>,
    pub keep_weekly: Option<u32>,
    pub keep_monthly: Option<u32>,
}

impl PolicyOpts {
    /// Whether anything was asked.
    pub fn any(&self) -> bool {
        self.repository.is_some()
            || self.window.is_some()
            || self.retention_days.is_some()
            || self.keep_daily.is_some()
            || self.keep_weekly.is_some()
            || self.keep_monthly.is_some()
    }
}

/// The defaults an RDS user expects: a backup a day in a quiet hour, a week of
/// point-in-time recovery.
const DEFAULT_WINDOW: &str = "02:00-03:00";
const DEFAULT_RETENTION_DAYS: u32 = 7;
const DEFAULT_KEEP: (u32, u32, u32) = (7, 4, 0);

/// A policy as people read it.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    pub instance: String,
    pub repository: String,
    pub backup_window: Option<String>,
    pub retention_days: u32,
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
}

/// Minutes since midnight of `HH:MM`.
fn minutes(hm: &str) -> Option<u32> {
    let (h, m) = hm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// A window's start and end in minutes since midnight UTC (the end may be past midnight,
/// then it is less than the start).
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for anything but `HH:MM-HH:MM` of at least 30 minutes.
pub fn parse_window(w: &str) -> Result<(u32, u32)> {
    let bad = || {
        invalid(
            format!("`{w}` is not a backup window"),
            "give HH:MM-HH:MM in UTC, at least 30 minutes long (e.g. 02:00-03:00), or `none`",
        )
    };
    let (a, b) = w.split_once('-').ok_or_else(bad)?;
    let (a, b) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
    let len = (b + 24 * 60 - a) % (24 * 60);
    if len < 30 {
        return Err(bad());
    }
    Ok((a, b))
}

fn check(o: &PolicyOpts) -> Result<()> {
    if let Some(w) = &o.window {
        if w != "none" {
            parse_window(w)?;
        }
    }
    if o.retention_days.is_some_and(|d| d > 35) {
        return Err(invalid(
            format!(
                "--backup-retention-days {} is out of range",
                o.retention_days.unwrap_or_default()
            ),
            "give 0 to 35 days (0: no point-in-time recovery from the repository)",
        ));
    }
    for (flag, v) in [
        ("--keep-daily", o.keep_daily),
        ("--keep-weekly", o.keep_weekly),
        ("--keep-monthly", o.keep_monthly),
    ] {
        if v.is_some_and(|n| n > 1000) {
            return Err(invalid(
                format!("{flag} {} is out of range", v.unwrap_or_default()),
                "give 0 to 1000",
            ));
        }
    }
    Ok(())
}

/// The policy `o` makes for `inst`, over `old` (or the defaults), checked; None when no
/// repository is named or kept.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for a bad setting or an unknown repository.
pub fn resolve(
    ctx: &Ctx,
    inst_id: i64,
    old: Option<&Policy>,
    o: &PolicyOpts,
) -> Result<Option<Policy>> {
    check(o)?;
    let repository_id = match (&o.repository, old) {
        (Some(name), _) => {
            repositories::get(ctx.catalog.conn(), name)?
                .ok_or_else(|| {
                    invalid(
                        format!("no repository named `{name}`"),
                        "see `dbctl repository list`, or add one with `dbctl repository add`",
                    )
                })?
                .id
        }
        (None, Some(p)) => p.repository_id,
        (None, None) if o.any() => {
            return Err(invalid(
                "a backup policy needs a repository",
                "give --backup-repository NAME (`dbctl repository list`)",
            ))
        }
        (None, None) => return Ok(None),
    };
    let window = match (&o.window, old) {
        (Some(w), _) if w == "none" => None,
        (Some(w), _) => Some(w.clone()),
        (None, Some(p)) => p.backup_window.clone(),
        (None, None) => Some(DEFAULT_WINDOW.into()),
    };
    let pick = |new: Option<u32>, old: Option<u32>, default: u32| new.or(old).unwrap_or(default);
    Ok(Some(Policy {
        instance_id: inst_id,
        repository_id,
        backup_window: window,
        retention_days: pick(
            o.retention_days,
            old.map(|p| p.retention_days),
            DEFAULT_RETENTION_DAYS,
        ),
        keep_daily: pick(o.keep_daily, old.map(|p| p.keep_daily), DEFAULT_KEEP.0),
        keep_weekly: pick(o.keep_weekly, old.map(|p| p.keep_weekly), DEFAULT_KEEP.1),
        keep_monthly: pick(o.keep_monthly, old.map(|p| p.keep_monthly), DEFAULT_KEEP.2),
    }))
}

fn view(ctx: &Ctx, inst: &InstanceRow, p: &Policy) -> Result<PolicyView> {
    let repository = repositories::list(ctx.catalog.conn())?
        .into_iter()
        .find(|r| r.id == p.repository_id)
        .map(|r| r.name)
        .unwrap_or_default();
    Ok(PolicyView {
        instance: inst.name.clone(),
        repository,
        backup_window: p.backup_window.clone(),
        retention_days: p.retention_days,
        keep_daily: p.keep_daily,
        keep_weekly: p.keep_weekly,
        keep_monthly: p.keep_monthly,
    })
}

/// Changes (or, with nothing asked, shows) `name`'s policy.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown instance, a bad setting, or no policy to show.
pub fn set(ctx: &Ctx, name: &str, o: &PolicyOpts) -> Result<PolicyView> {
    let inst = crate::control::base::lookup::instance(ctx, name)?;
    let old = backup_policies::get(ctx.catalog.conn(), inst.id)?;
    let Some(p) = resolve(ctx, inst.id, old.as_ref(), o)? else {
        return Err(invalid(
            format!("`{name}` has no backup policy"),
            format!("set one with `dbctl backup policy {name} --backup-repository R`"),
        ));
    };
    if o.any() {
        backup_policies::put(ctx.catalog.conn(), &p)?;
    }
    view(ctx, &inst, &p)
}

/// `inst`'s policy, if it has one.
///
/// # Errors
/// The catalog fails.
pub fn of(ctx: &Ctx, inst: &InstanceRow) -> Result<Option<PolicyView>> {
    backup_policies::get(ctx.catalog.conn(), inst.id)?
        .map(|p| view(ctx, inst, &p))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_utc_hours_and_minutes_of_at_least_half_an_hour() {
        assert_eq!(parse_window("02:00-03:00").unwrap(), (120, 180));
        assert_eq!(parse_window("23:30-00:30").unwrap(), (1410, 30));
        for bad in ["2:00-3:00", "02:00-02:10", "25:00-26:00", "02:00", "x"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }
}
