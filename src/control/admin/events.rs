//! The history: reading it by instance, time and kind, and keeping it bounded.

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use anyhow::Result;
use time::OffsetDateTime;

/// The moment `--since` names: a span back from `now` (`90s`, `10m`, `2h`, `3d`, `1w`) or
/// any time `--at` takes; as RFC 3339 UTC.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] naming the forms.
pub fn since(text: &str, now: OffsetDateTime) -> Result<String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let secs = match unit {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        "w" => Some(7 * 86_400),
        _ => None,
    };
    let at = match (n.parse::<i64>(), secs) {
        (Ok(n), Some(s)) => now - time::Duration::seconds(n * s),
        _ => crate::control::restore::targets::parse_time(t, now).map_err(|_| {
            invalid(
                format!("cannot read `{text}` as a time or a span"),
                "give a span back from now (90s, 10m, 2h, 3d, 1w) or a time (2026-11-24T10:15:00Z, \"10 minutes ago\")",
            )
        })?,
    };
    // Events are stamped to the millisecond: a finer `since` would pass over one stamped
    // in its own millisecond (PostgreSQL compares the fractions it is given exactly).
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at
        .replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(at);
    Ok(at.format(&time::format_description::well_known::Rfc3339)?)
}

/// Removes the events older than the configured retention (`[events] retention_days`,
/// default 90); returns how many went.
///
/// # Errors
/// The catalog fails.
pub fn prune(ctx: &Ctx, now: OffsetDateTime) -> Result<usize> {
    let days = i64::from(ctx.config.events.retention_days);
    let before = (now - time::Duration::days(days))
        .format(&time::format_description::well_known::Rfc3339)?;
    crate::catalog::events::prune(ctx.catalog.conn(), &before)
}

/// Refuses an event kind dbctl never records (nor ever did in this catalog): a typo would
/// otherwise list nothing, as if nothing had happened.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown kind; the catalog fails.
pub fn check_kind(ctx: &Ctx, kind: &str) -> Result<()> {
    use crate::catalog::events::{kind_recorded, KINDS};
    if KINDS.contains(&kind) || kind_recorded(ctx.catalog.conn(), kind)? {
        return Ok(());
    }
    let near: Vec<&str> = KINDS
        .iter()
        .copied()
        .filter(|k| k.contains(kind) || kind.contains(k))
        .collect();
    let fix = if near.is_empty() {
        format!("the kinds are: {}", KINDS.join(", "))
    } else {
        format!(
            "did you mean {}? (all kinds: dbctl events --help)",
            near.join(" or ")
        )
    };
    Err(invalid(format!("no event is of kind `{kind}`"), fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_times_both_read() {
        let now = OffsetDateTime::parse(
            "2026-11-26T12:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(since("2h", now).unwrap(), "2026-11-26T10:00:00Z");
        assert_eq!(since("3d", now).unwrap(), "2026-11-23T12:00:00Z");
        assert_eq!(
            since("10 minutes ago", now).unwrap(),
            "2026-11-26T11:50:00Z"
        );
        assert_eq!(
            since("2026-11-26T11:00:00.123456789Z", now).unwrap(),
            "2026-11-26T11:00:00.123Z"
        );
        for bad in ["2x", "yesterday", "h"] {
            assert!(since(bad, now).is_err(), "{bad}");
        }
    }
}
