//! The weekly maintenance window (`ddd:HH:MM-ddd:HH:MM`, UTC, as RDS writes it): when changes
//! that need a restart are made, and the check that it does not overlap the daily backup
//! window.

use crate::control::base::error::invalid;
use anyhow::Result;
use time::OffsetDateTime;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEK: u32 = 7 * 24 * 60;
const DAY: u32 = 24 * 60;

/// A weekly window as minutes since Monday 00:00 UTC; the end is less than the start when
/// it runs past Sunday midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weekly {
    pub start: u32,
    pub end: u32,
}

fn point(s: &str) -> Option<u32> {
    let mut parts = s.splitn(3, ':');
    let (d, h, m) = (parts.next()?, parts.next()?, parts.next()?);
    let day = DAYS.iter().position(|x| x.eq_ignore_ascii_case(d))? as u32;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(day * DAY + h * 60 + m)
}

/// # Errors
/// [`crate::control::base::error::Invalid`] for anything but `ddd:HH:MM-ddd:HH:MM` of 30 minutes to 24 hours.
pub fn parse_maintenance(w: &str) -> Result<Weekly> {
    let bad = || {
        invalid(
            format!("`{w}` is not a maintenance window"),
            "give ddd:HH:MM-ddd:HH:MM in UTC, 30 minutes to 24 hours long (e.g. sun:03:00-sun:04:00), or `none`",
        )
    };
    let (a, b) = w.split_once('-').ok_or_else(bad)?;
    let (start, end) = (point(a).ok_or_else(bad)?, point(b).ok_or_else(bad)?);
    let len = (end + WEEK - start) % WEEK;
    if !(30..=DAY).contains(&len) {
        return Err(bad());
    }
    Ok(Weekly { start, end })
}

/// Minutes since Monday 00:00 UTC of `t`.
fn week_minute(t: OffsetDateTime) -> u32 {
    u32::from(t.weekday().number_days_from_monday()) * DAY
        + u32::from(t.hour()) * 60
        + u32::from(t.minute())
}

impl Weekly {
    /// Whether `t` falls inside the window.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        let m = week_minute(t);
        if self.start < self.end {
            self.start <= m && m < self.end
        } else {
            m >= self.start || m < self.end
        }
    }

    /// The window as up to two plain spans of the week.
    fn spans(&self) -> Vec<(u32, u32)> {
        if self.start < self.end {
            vec![(self.start, self.end)]
        } else {
            vec![(self.start, WEEK), (0, self.end)]
        }
    }
}

/// Whether the weekly window `m` overlaps any day's occurrence of the daily window `daily`
/// (minutes since midnight; the end less than the start when it runs past midnight).
pub fn overlaps_daily(m: &Weekly, daily: (u32, u32)) -> bool {
    let (a, b) = daily;
    let len = (b + DAY - a) % DAY;
    // Each day's occurrence, and the one from Sunday running into Monday.
    let occurrences = (0..7)
        .map(|d| (d * DAY + a, d * DAY + a + len))
        .flat_map(|(s, e)| {
            if e > WEEK {
                vec![(s, WEEK), (0, e - WEEK)]
            } else {
                vec![(s, e)]
            }
        });
    let spans = m.spans();
    occurrences
        .into_iter()
        .any(|(s, e)| spans.iter().any(|&(ms, me)| s < me && ms < e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> OffsetDateTime {
        OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn maintenance_windows_parse_as_rds_writes_them() {
        let w = parse_maintenance("sun:03:00-sun:04:00").unwrap();
        assert_eq!(w.start, 6 * DAY + 180);
        // 2026-11-29 is a Sunday.
        assert!(w.contains(at("2026-11-29T03:30:00Z")));
        assert!(!w.contains(at("2026-11-29T04:00:00Z")));
        assert!(!w.contains(at("2026-11-28T03:30:00Z")));
        let wrap = parse_maintenance("sun:23:30-mon:00:30").unwrap();
        assert!(wrap.contains(at("2026-11-30T00:10:00Z")));
        assert!(wrap.contains(at("2026-11-29T23:45:00Z")));
        for bad in [
            "sun:03:00",
            "sun:03:00-sun:03:10",
            "xyz:03:00-sun:04:00",
            "sun:3:00-sun:04:00",
            "mon:00:00-wed:00:00",
            "sun:24:00-mon:01:00",
        ] {
            assert!(parse_maintenance(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_with_the_daily_backup_window_is_found_on_any_day() {
        let m = parse_maintenance("wed:02:30-wed:03:30").unwrap();
        assert!(overlaps_daily(&m, (120, 180)));
        assert!(!overlaps_daily(&m, (210, 270)));
        // A backup window past midnight meets a maintenance window early on Monday.
        let monday = parse_maintenance("mon:00:00-mon:00:30").unwrap();
        assert!(overlaps_daily(&monday, (1410, 30)));
        assert!(!overlaps_daily(&monday, (60, 120)));
    }
}
