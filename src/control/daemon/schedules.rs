//! Schedules: snapshot, backup, hibernate, resume, stop or start an instance at the times of
//! a standard 5-field cron expression (UTC), or once. `sweep` (and so cron) fires what is
//! due; of several at once, exactly one fires each run (the catalog's compare-and-set).

use crate::catalog::instances as irows;
use crate::catalog::schedules::{self as rows, ScheduleRow};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;

use anyhow::Result;
use serde::Serialize;
use std::str::FromStr;

/// The actions a schedule can take.
pub const ACTIONS: [&str; 8] = [
    "snapshot",
    "backup",
    "hibernate",
    "resume",
    "stop",
    "start",
    "drill",
    // A drill from the repository tier (`schedule add NAME drill --from repository`).
    DRILL_FROM_REPOSITORY,
];

/// The stored action of a drill from the repository tier.
pub const DRILL_FROM_REPOSITORY: &str = "drill:repository";

fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_ts(t: &str) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_str(t).ok()
}

/// A cron expression of exactly five fields, read.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] saying what form it takes.
pub fn parse_cron(expr: &str) -> Result<croner::Cron> {
    let fields = expr.split_whitespace().count();
    let bad = |why: String| {
        invalid(
            format!("`{expr}` is not a cron expression: {why}"),
            "give five fields, MIN HOUR DOM MON DOW in UTC, e.g. \"0 2 * * *\" (02:00 daily) or \"*/15 * * * *\"",
        )
    };
    if fields != 5 {
        return Err(bad(format!("it has {fields} fields, not 5")));
    }
    if let Some(why) = field_problem(expr) {
        return Err(bad(why));
    }
    croner::Cron::from_str(expr).map_err(|e| {
        let text = e.to_string();
        let text = text
            .rsplit(": ")
            .next()
            .unwrap_or(&text)
            .trim_end_matches('.');
        bad(text.to_lowercase())
    })
}

/// What is wrong with a field of a five-field cron expression, named: a number outside its
/// range, a step of 0, or something that is not a number, name, range, step or list.
fn field_problem(expr: &str) -> Option<String> {
    const FIELDS: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day-of-month", 1, 31),
        ("month", 1, 12),
        ("day-of-week", 0, 7),
    ];
    for (field, (name, lo, hi)) in expr.split_whitespace().zip(FIELDS) {
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            if let Some(step) = step {
                match step.parse::<u32>() {
                    Ok(0) => return Some(format!("the {name} field's step `/{step}` is 0")),
                    Ok(_) => {}
                    Err(_) => {
                        return Some(format!("the {name} field's step `/{step}` is not a number"))
                    }
                }
            }
            for v in range.split('-') {
                if v == "*"
                    || v == "?"
                    || v.chars().all(|c| c.is_ascii_alphabetic()) && v.len() == 3
                {
                    continue;
                }
                match v.parse::<u32>() {
                    Ok(n) if (lo..=hi).contains(&n) => {}
                    Ok(n) => return Some(format!("the {name} field's {n} is outside {lo}-{hi}")),
                    Err(_) => {
                        return Some(format!(
                            "the {name} field's `{part}` is not a number, range, step or list"
                        ))
                    }
                }
            }
        }
    }
    None
}

/// The first time after `after` (UTC) that `cron` names.
///
/// # Errors
/// None comes (an impossible date).
pub fn next_after(cron: &croner::Cron, after: jiff::Timestamp) -> Result<jiff::Timestamp> {
    let z = after.to_zoned(jiff::tz::TimeZone::UTC);
    Ok(cron
        .find_next_occurrence(&z, false)
        .map_err(|_| anyhow::anyhow!("no date matches it (a day the month never has?)"))?
        .timestamp())
}

/// A schedule as people read it.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    #[serde(flatten)]
    pub row: ScheduleRow,
    pub instance: String,
}

fn view(ctx: &Ctx, row: ScheduleRow) -> Result<ScheduleView> {
    let instance = irows::get(ctx.catalog.conn(), row.instance_id)?.name;
    Ok(ScheduleView { row, instance })
}

/// Adds a schedule: `action` on `name` at `cron`'s times or once `at`.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown instance or action, a bad cron expression or
/// time, or both or neither given.
pub fn add(
    ctx: &Ctx,
    name: &str,
    action: &str,
    cron: Option<&str>,
    at: Option<&str>,
) -> Result<ScheduleView> {
    let inst = crate::control::base::lookup::instance(ctx, name)?;
    if !ACTIONS.contains(&action) {
        return Err(invalid(
            format!("`{action}` is not an action a schedule takes"),
            format!("give one of {}", ACTIONS.join(", ")),
        ));
    }
    let now = jiff::Timestamp::now();
    let (cron, at, next) = match (cron, at) {
        (Some(c), None) => {
            let parsed = parse_cron(c)?;
            let next = next_after(&parsed, now).map_err(|e| {
                invalid(
                    format!("`{c}` never fires: {e}"),
                    "give days every named month has, e.g. \"0 4 28 2 *\"",
                )
            })?;
            (Some(c.trim().to_string()), None, next)
        }
        (None, Some(t)) => {
            let when =
                crate::control::restore::targets::parse_time(t, time::OffsetDateTime::now_utc())?;
            let when = jiff::Timestamp::from_second(when.unix_timestamp())?;
            if when < now - jiff::SignedDuration::from_secs(60) {
                return Err(invalid(
                    format!("{} has passed", rfc3339(when)),
                    "give a time to come (--at \"2026-12-24 18:00:00\" is UTC)",
                ));
            }
            (None, Some(rfc3339(when)), when)
        }
        _ => return Err(invalid(
            "a schedule needs --cron or --at, one of them",
            "give --cron \"MIN HOUR DOM MON DOW\" (UTC) for a repeating one, or --at TIME for once",
        )),
    };
    let mut row = ScheduleRow {
        id: 0,
        instance_id: inst.id,
        action: action.into(),
        cron,
        at,
        paused: false,
        next_run: Some(rfc3339(next)),
        last_run: None,
        last_workflow: None,
        last_error: None,
        created_at: crate::catalog::now(),
    };
    row.id = rows::insert(ctx.catalog.conn(), &row)?;
    view(ctx, row)
}

/// Schedules, optionally of one instance name.
///
/// # Errors
/// The catalog fails.
pub fn list(ctx: &Ctx, name: Option<&str>) -> Result<Vec<ScheduleView>> {
    let mut out = Vec::new();
    for r in rows::list(ctx.catalog.conn())? {
        let v = view(ctx, r)?;
        if name.is_none_or(|n| n == v.instance) {
            out.push(v);
        }
    }
    Ok(out)
}

fn get(ctx: &Ctx, id: i64) -> Result<ScheduleRow> {
    rows::find(ctx.catalog.conn(), id)?.ok_or_else(|| {
        invalid(
            format!("no schedule {id}"),
            "`dbctl schedule list` shows the schedules",
        )
    })
}

/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown id.
pub fn remove(ctx: &Ctx, id: i64) -> Result<ScheduleView> {
    let row = get(ctx, id)?;
    rows::delete(ctx.catalog.conn(), id)?;
    view(ctx, row)
}

/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown id.
pub fn pause(ctx: &Ctx, id: i64, paused: bool) -> Result<ScheduleView> {
    get(ctx, id)?;
    rows::set_paused(ctx.catalog.conn(), id, paused)?;
    view(ctx, get(ctx, id)?)
}

/// A run a sweep fired.
#[derive(Debug, Clone, Serialize)]
pub struct Fired {
    pub schedule: i64,
    pub instance: String,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Fires every schedule due at `now`: queues its action's workflow (the sweep then runs it).
/// A run that cannot be queued (the instance busy, or not in a state the action starts
/// from) is recorded with why, and the schedule goes on to its next time.
///
/// # Errors
/// The catalog cannot be read.
pub fn fire_due(ctx: &mut Ctx, now: jiff::Timestamp) -> Result<Vec<Fired>> {
    let mut out = Vec::new();
    for s in rows::list(ctx.catalog.conn())? {
        let Some(due) = s.next_run.clone() else {
            continue;
        };
        if s.paused || parse_ts(&due).is_none_or(|d| d > now) {
            continue;
        }
        let next = match &s.cron {
            Some(c) => Some(rfc3339(next_after(&parse_cron(c)?, now)?)),
            None => None,
        };
        if !rows::claim(
            ctx.catalog.conn(),
            s.id,
            &due,
            next.as_deref(),
            &rfc3339(now),
        )? {
            continue;
        }
        let inst = irows::get(ctx.catalog.conn(), s.instance_id)?;
        if s.action.starts_with("drill") {
            out.push(drill(ctx, &s, &inst)?);
            continue;
        }
        let queued = queue(ctx, &inst.name, &s.action);
        let (workflow_id, error) = match queued {
            Ok(wf) => (wf, None),
            Err(e) => (None, Some(format!("{e:#}"))),
        };
        rows::record(ctx.catalog.conn(), s.id, workflow_id, error.as_deref())?;
        let msg = match (&workflow_id, &error) {
            (Some(wf), _) => format!(
                "schedule {} queued {} of {} (workflow {wf})",
                s.id, s.action, inst.name
            ),
            (None, e) => format!(
                "schedule {} could not queue {} of {}: {}",
                s.id,
                s.action,
                inst.name,
                e.as_deref().unwrap_or("")
            ),
        };
        let kind = if error.is_some() {
            "schedule_failed"
        } else {
            "scheduled"
        };
        crate::catalog::events::add(
            ctx.catalog.conn(),
            Some((inst.id, &inst.name)),
            workflow_id,
            kind,
            &msg,
        )?;
        out.push(Fired {
            schedule: s.id,
            instance: inst.name,
            action: s.action,
            workflow_id,
            error,
        });
    }
    Ok(out)
}

/// Runs a scheduled drill to its end (its scratch restore and removal are workflows of
/// their own) and records how it went.
fn drill(ctx: &mut Ctx, s: &ScheduleRow, inst: &irows::InstanceRow) -> Result<Fired> {
    let ran = crate::control::data::drills::run(
        ctx,
        &crate::control::data::drills::DrillOpts {
            instance: inst.name.clone(),
            from_repository: s.action == DRILL_FROM_REPOSITORY,
            ..Default::default()
        },
        &crate::workflow::progress::Silent,
    );
    // A drill that ran and failed is the drill's news (its own event and hook); one that
    // could not start is the schedule's.
    let error = ran.as_ref().err().map(|e| format!("{e:#}"));
    rows::record(ctx.catalog.conn(), s.id, None, error.as_deref())?;
    let (kind, msg) = match &ran {
        Ok(r) => (
            "scheduled",
            format!(
                "schedule {} ran drill {} of {}: {}",
                s.id,
                r.id,
                inst.name,
                if r.passed { "passed" } else { "failed" }
            ),
        ),
        Err(e) => (
            "schedule_failed",
            format!("schedule {} could not drill {}: {e:#}", s.id, inst.name),
        ),
    };
    crate::catalog::events::add(
        ctx.catalog.conn(),
        Some((inst.id, &inst.name)),
        None,
        kind,
        &msg,
    )?;
    Ok(Fired {
        schedule: s.id,
        instance: inst.name.clone(),
        action: s.action.clone(),
        workflow_id: None,
        error: error.or_else(|| {
            ran.ok()
                .filter(|r| !r.passed)
                .map(|r| crate::control::data::drills::describe(&r))
        }),
    })
}

/// Writes the workflow `action` on `name` is.
fn queue(ctx: &mut Ctx, name: &str, action: &str) -> Result<Option<i64>> {
    use crate::control::instances::lifecycle::Power;
    let plan = match action {
        "snapshot" => {
            crate::control::restore::snapshots::plan_create(ctx, name, Some("scheduled"), false)?
        }
        "backup" => crate::control::offsite::backups::plan_create(
            ctx,
            &crate::control::offsite::backups::BackupOpts {
                instance: name.into(),
                ..Default::default()
            },
            false,
        )?,
        "hibernate" => crate::control::instances::hibernation::plan_hibernate(ctx, name, false)?,
        "resume" => {
            crate::control::instances::hibernation::plan_resume(ctx, name, None, None, false)?
        }
        "stop" => crate::control::instances::lifecycle::plan(ctx, name, Power::Stop, false)?,
        "start" => crate::control::instances::lifecycle::plan(ctx, name, Power::Start, false)?,
        other => anyhow::bail!("unknown scheduled action {other}"),
    };
    Ok(plan.workflow_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_fields_out_of_range_are_named() {
        assert_eq!(
            field_problem("61 * * * *").as_deref(),
            Some("the minute field's 61 is outside 0-59")
        );
        assert_eq!(
            field_problem("0 25 * * *").as_deref(),
            Some("the hour field's 25 is outside 0-23")
        );
        assert_eq!(
            field_problem("*/0 * * * *").as_deref(),
            Some("the minute field's step `/0` is 0")
        );
        assert!(field_problem("a b c d e")
            .unwrap()
            .contains("minute field's `a`"));
        assert_eq!(field_problem("0 4 * jan-mar mon,sun"), None);
        assert_eq!(field_problem("*/15 1-5/2 1,15 * 0-7"), None);
    }

    #[test]
    fn five_fields_in_utc_and_the_next_time_they_name() {
        let c = parse_cron("30 2 * * *").unwrap();
        let t = jiff::Timestamp::from_str("2026-11-26T03:00:00Z").unwrap();
        assert_eq!(rfc3339(next_after(&c, t).unwrap()), "2026-11-27T02:30:00Z");
        let c = parse_cron("*/15 * * * *").unwrap();
        assert_eq!(rfc3339(next_after(&c, t).unwrap()), "2026-11-26T03:15:00Z");
        for bad in ["* * * *", "0 0 0 * * *", "61 * * * *", "x * * * *", ""] {
            assert!(parse_cron(bad).is_err(), "{bad}");
        }
    }
}
