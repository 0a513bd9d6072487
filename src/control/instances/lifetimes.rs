//! Clones that clean up after themselves: one made with `--expires-in` is deleted when its
//! time is up, one made with `--delete-when-idle` once no client has been connected to it for
//! that long (the monitor sees who is connected), unless someone protects it. The daemon's
//! pass deletes them (without a final snapshot unless one was asked for) and records why.

use crate::catalog::events;
use crate::catalog::instances::{self as irows, status};
use crate::catalog::lifetimes::{self, Lifetime, FOR_GOOD};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::daemon::periodic::queue_once;
use crate::control::daemon::periodic::Queued;
use anyhow::Result;
use time::{Duration, OffsetDateTime};

/// How a new instance is to end, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct LifetimeOpts {
    /// `--expires-in`: e.g. `8h`.
    pub expires_in: Option<String>,
    /// `--delete-when-idle`: e.g. `2h`.
    pub delete_when_idle: Option<String>,
    /// Take a final snapshot before deleting it.
    pub final_snapshot: bool,
}

const DURATION_FORMS: &str = "use a number and a unit: 90s, 30m, 8h, 2d, 1w (or 1h30m)";

/// A duration as users write it: `90s`, `30m`, `8h`, `2d`, `1w`, or several (`1h30m`).
///
/// # Errors
/// [`crate::control::base::error::Invalid`] naming `flag` for anything else, or zero.
pub fn parse_duration(s: &str, flag: &str) -> Result<Duration> {
    let bad = || {
        invalid(
            format!("cannot read `{s}` as a duration for {flag}"),
            DURATION_FORMS,
        )
    };
    let mut total = Duration::ZERO;
    let mut digits = String::new();
    let text = s.trim();
    if text.is_empty() {
        return Err(bad());
    }
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        total += Duration::seconds(n.checked_mul(unit).ok_or_else(bad)?);
    }
    if !digits.is_empty() || total <= Duration::ZERO {
        return Err(bad());
    }
    Ok(total)
}

/// A time as the catalog keeps it, to the second: expiries are not kept finer than people
/// read them.
fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The lifetime `o` gives an instance made `now` (its id filled in when written); None when
/// it lives until deleted.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for a duration that cannot be read.
pub fn from_opts(o: &LifetimeOpts, now: OffsetDateTime) -> Result<Option<Lifetime>> {
    let expires = o
        .expires_in
        .as_deref()
        .map(|d| parse_duration(d, "--expires-in"))
        .transpose()?;
    let idle = o
        .delete_when_idle
        .as_deref()
        .map(|d| parse_duration(d, "--delete-when-idle"))
        .transpose()?;
    if expires.is_none() && idle.is_none() {
        if o.final_snapshot {
            return Err(invalid(
                "--final-snapshot-on-expiry is for an instance that expires",
                "add --expires-in or --delete-when-idle",
            ));
        }
        return Ok(None);
    }
    Ok(Some(Lifetime {
        instance_id: 0,
        expires_at: expires.map(|d| rfc3339(now + d)),
        idle_limit_secs: idle.map(|d| d.whole_seconds() as u64),
        final_snapshot: o.final_snapshot,
        protected_until: None,
        last_active_at: rfc3339(now),
    }))
}

/// Why `l` says its instance is to go now; None while it lives (or is protected).
pub fn due(l: &Lifetime, now: OffsetDateTime) -> Option<String> {
    if l.protected_until
        .as_deref()
        .and_then(crate::times::parse)
        .is_some_and(|t| t > now)
    {
        return None;
    }
    if let Some(at) = l.expires_at.as_deref().and_then(crate::times::parse) {
        if at <= now {
            return Some(format!("it expired at {}", rfc3339(at)));
        }
    }
    let idle_since = crate::times::parse(&l.last_active_at)?;
    let limit = Duration::seconds(l.idle_limit_secs? as i64);
    (now - idle_since >= limit).then(|| {
        format!(
            "no client has connected since {} (idle limit {})",
            rfc3339(idle_since),
            brief(limit)
        )
    })
}

/// `1d2h`, `3h5m`, `40s`: a duration in its two largest units.
pub fn brief(d: Duration) -> String {
    let s = d.whole_seconds().max(0);
    let (days, hours, mins, secs) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!(
            "{m}m{}",
            if secs > 0 {
                format!("{secs}s")
            } else {
                String::new()
            }
        ),
        (0, h, m) => format!(
            "{h}h{}",
            if m > 0 {
                format!("{m}m")
            } else {
                String::new()
            }
        ),
        (d, h, _) => format!(
            "{d}d{}",
            if h > 0 {
                format!("{h}h")
            } else {
                String::new()
            }
        ),
    }
}

/// What `list` shows of an instance's lifetime: `in 7h59m`, `idle 2h`, `protected`, or
/// nothing for one that lives until deleted.
pub fn summary(l: &Lifetime, now: OffsetDateTime) -> String {
    if let Some(t) = l.protected_until.as_deref() {
        if crate::times::parse(t).is_some_and(|t| t > now) {
            return if t == FOR_GOOD {
                "protected".into()
            } else {
                format!("protected until {t}")
            };
        }
    }
    let mut parts = Vec::new();
    if let Some(at) = l.expires_at.as_deref().and_then(crate::times::parse) {
        parts.push(format!("in {}", brief(at - now)));
    }
    if let Some(secs) = l.idle_limit_secs {
        parts.push(format!("idle {}", brief(Duration::seconds(secs as i64))));
    }
    parts.join(", ")
}

/// Protects instance `name` from its expiry until `until` (for good when None), or, with
/// `off`, takes the protection away. Returns its lifetime now.
///
/// # Errors
/// Unknown instance; a time that cannot be read or is past.
pub fn protect(ctx: &mut Ctx, name: &str, until: Option<&str>, off: bool) -> Result<Lifetime> {
    let inst = crate::control::base::lookup::instance(ctx, name)?;
    let now = OffsetDateTime::now_utc();
    let until = match (until, off) {
        (_, true) => None,
        (None, false) => Some(FOR_GOOD.to_string()),
        (Some(t), false) => {
            let at = match parse_duration(t, "--until") {
                Ok(d) => now + d,
                Err(_) => crate::control::restore::targets::parse_time(t, now).map_err(|_| {
                    invalid(
                        format!("cannot read the time `{t}` for --until"),
                        "use RFC 3339 (2026-12-01T09:00:00Z), \"2026-12-01 09:00:00\" (UTC), or a duration from now (8h, 2d)",
                    )
                })?,
            };
            if at <= now {
                return Err(invalid(
                    format!("--until {t} is not in the future"),
                    "give a later time",
                ));
            }
            Some(rfc3339(at))
        }
    };
    let ends = lifetimes::get(ctx.catalog.conn(), inst.id)?
        .is_some_and(|l| l.expires_at.is_some() || l.idle_limit_secs.is_some());
    if !ends {
        return Err(invalid(
            format!("`{name}` never expires: nothing deletes it by itself"),
            "protect is for instances made with --expires-in or --delete-when-idle",
        ));
    }
    ctx.catalog.write(|tx| {
        let mut l = lifetimes::get(tx, inst.id)?.unwrap_or(Lifetime {
            instance_id: inst.id,
            last_active_at: rfc3339(now),
            ..Default::default()
        });
        l.protected_until = until.clone();
        lifetimes::put(tx, &l)?;
        let message = match &until {
            None => format!("{name} is no longer protected from its expiry"),
            Some(t) if t == FOR_GOOD => format!("{name} is protected from its expiry"),
            Some(t) => format!("{name} is protected from its expiry until {t}"),
        };
        events::add(
            tx,
            Some((inst.id, name)),
            None,
            "instance_protected",
            &message,
        )?;
        Ok(l)
    })
}

/// Queues the deletion of every instance whose lifetime is over (expired, or idle past its
/// limit, and not protected), recording why; a busy one waits for the next pass.
///
/// # Errors
/// The catalog cannot be read.
pub fn expire_due(ctx: &mut Ctx, now: OffsetDateTime) -> Result<Vec<Queued>> {
    let mut out = Vec::new();
    for l in lifetimes::all(ctx.catalog.conn())? {
        let Some(why) = due(&l, now) else { continue };
        let Ok(inst) = irows::get(ctx.catalog.conn(), l.instance_id) else {
            continue;
        };
        // Hibernated ones have nothing running to delete here; being made, deleted, or
        // replaced: not now.
        if inst.status != status::AVAILABLE && inst.status != status::STOPPED {
            continue;
        }
        if crate::control::planning::check_not_busy(ctx, &inst).is_err() {
            continue;
        }
        let name = inst.name.clone();
        out.extend(queue_once(
            ctx,
            &format!("expire-instance:{}", inst.id),
            &name,
            |ctx| {
                let plan = crate::control::instances::delete::plan_delete(
                    ctx,
                    &name,
                    !l.final_snapshot,
                    false,
                )?;
                ctx.catalog.write(|tx| {
                    events::add(
                        tx,
                        Some((inst.id, &name)),
                        plan.workflow_id,
                        "instance_expired",
                        &format!("{name} is being deleted: {why}"),
                    )
                })?;
                Ok(plan.workflow_id)
            },
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> OffsetDateTime {
        crate::times::parse(t).unwrap()
    }

    #[test]
    fn durations_are_read_in_units_and_refused_otherwise() {
        assert_eq!(parse_duration("8h", "x").unwrap(), Duration::hours(8));
        assert_eq!(parse_duration("1h30m", "x").unwrap(), Duration::minutes(90));
        assert_eq!(parse_duration("2d", "x").unwrap(), Duration::days(2));
        assert_eq!(parse_duration("45s", "x").unwrap(), Duration::seconds(45));
        for bad in [
            "",
            "8",
            "h",
            "0h",
            "8 hours",
            "-1h",
            "3y",
            "99999999999999999w",
        ] {
            assert!(parse_duration(bad, "--expires-in").is_err(), "{bad}");
        }
    }

    #[test]
    fn due_when_expired_or_idle_and_never_while_protected() {
        let now = at("2026-11-26T12:00:00Z");
        let mut l = Lifetime {
            expires_at: Some("2026-11-26T11:59:00Z".into()),
            last_active_at: "2026-11-26T11:00:00Z".into(),
            ..Default::default()
        };
        assert!(due(&l, now)
            .unwrap()
            .contains("expired at 2026-11-26T11:59:00Z"));
        l.protected_until = Some(FOR_GOOD.into());
        assert_eq!(due(&l, now), None);
        assert_eq!(summary(&l, now), "protected");
        l.protected_until = Some("2026-11-26T11:30:00Z".into()); // lapsed
        assert!(due(&l, now).is_some());
        let idle = Lifetime {
            idle_limit_secs: Some(7200),
            last_active_at: "2026-11-26T10:30:00Z".into(),
            ..Default::default()
        };
        assert_eq!(due(&idle, now), None);
        assert_eq!(summary(&idle, now), "idle 2h");
        let idle_long = Lifetime {
            last_active_at: "2026-11-26T09:59:59Z".into(),
            ..idle
        };
        assert!(due(&idle_long, now).unwrap().contains("idle limit 2h"));
        let later = Lifetime {
            expires_at: Some("2026-11-26T19:59:00Z".into()),
            last_active_at: "2026-11-26T12:00:00Z".into(),
            ..Default::default()
        };
        assert_eq!(summary(&later, now), "in 7h59m");
        assert_eq!(due(&later, now), None);
    }
}
