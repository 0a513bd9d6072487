//! The points people name: a time as they write it (RFC 3339, "YYYY-MM-DD HH:MM:SS", "now",
//! "N units ago"), a log position or a transaction, checked before anything is planned.

use crate::catalog::instances::{self as irows};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::wire::Target;
use anyhow::Result;
use time::OffsetDateTime;

/// A time as users write it: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC), "now", or "N units ago".
///
/// # Errors
/// [`crate::control::base::error::Invalid`] saying which forms are accepted.
pub fn parse_time(s: &str, now: OffsetDateTime) -> Result<OffsetDateTime> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(v) = crate::times::parse(t) {
        return Ok(v);
    }
    if let Some(v) = crate::times::parse(&format!("{}Z", t.replacen(' ', "T", 1))) {
        return Ok(v);
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    if let [n, unit, "ago"] = words.as_slice() {
        if let Ok(n) = n.parse::<i64>() {
            let secs = match unit.trim_end_matches('s') {
                "second" | "sec" => Some(1),
                "minute" | "min" => Some(60),
                "hour" => Some(3600),
                "day" => Some(86400),
                "week" => Some(7 * 86400),
                _ => None,
            };
            if let Some(s) = secs {
                return Ok(now - time::Duration::seconds(n * s));
            }
        }
    }
    Err(invalid(
        format!("cannot read the time `{s}`"),
        "use RFC 3339 (2026-11-24T10:15:00Z), \"2026-11-24 10:15:00\" (UTC), \"now\" or \"N minutes ago\"",
    ))
}

/// The target the user asked for, resolved (times to absolute UTC). A position is the
/// engine's to read: dbhost checks and orders it when the target is placed.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for unreadable times.
pub fn parse_target(
    at: Option<&str>,
    position: Option<&str>,
    latest: bool,
) -> Result<Option<Target>> {
    Ok(match (at, position, latest) {
        (Some(t), None, false) => Some(Target::Time(crate::times::format(parse_time(
            t,
            OffsetDateTime::now_utc(),
        )?))),
        (None, Some(p), false) if p.trim().is_empty() => {
            return Err(invalid(
                "--position is empty",
                "give a log position as the engine writes it (PostgreSQL: e.g. 0/3000060)",
            ))
        }
        (None, Some(p), false) => Some(Target::Position(p.trim().to_string())),
        (None, None, true) => Some(Target::Latest),
        (None, None, false) => None,
        _ => {
            return Err(invalid(
                "--at, --position and --latest exclude each other",
                "give one of them",
            ))
        }
    })
}

/// `--lsn` names PostgreSQL's positions: on an instance of another engine it is refused,
/// naming that engine's own form, rather than read as whatever that engine calls a position.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] when `lsn_given` and `instance` does not run PostgreSQL; the
/// instance's own lookup errors.
pub fn check_lsn_spelling(ctx: &Ctx, instance: &str, lsn_given: bool) -> Result<()> {
    if !lsn_given {
        return Ok(());
    }
    let inst = match irows::lost_by_name(ctx.catalog.conn(), instance)? {
        Some(lost) if irows::live_by_name(ctx.catalog.conn(), instance)?.is_none() => lost,
        _ => crate::control::base::lookup::instance(ctx, instance)?,
    };
    if inst.engine == "postgres" {
        return Ok(());
    }
    let engine = crate::control::base::engines::get(&inst.engine)?;
    Err(invalid(
        format!("--lsn is PostgreSQL's; `{instance}` runs {}", inst.engine),
        format!("give --position with {}", engine.position_example),
    ))
}
