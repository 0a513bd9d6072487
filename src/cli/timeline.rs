//! The restorable window drawn for a person at a terminal: snapshots as ticks on a row per
//! tier, what can be restored as a bar, holes marked, now at the right edge.

use crate::control::restore::pitr::Timeline;
use time::OffsetDateTime;

/// Left margin: the rows' names.
const LABEL: usize = 12;

fn short(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The picture, `width` columns for the time axis, from the oldest point drawn to `now`; no
/// lines when there is nothing to draw.
pub fn draw(t: &Timeline, now: OffsetDateTime, width: usize) -> Vec<String> {
    let width = width.max(20);
    let Some(start) = t
        .spans
        .iter()
        .map(|s| s.0)
        .chain(t.host.iter().copied())
        .chain(t.repository.iter().copied())
        .min()
    else {
        return Vec::new();
    };
    let total = (now - start).as_seconds_f64().max(1.0);
    let column = |at: OffsetDateTime| -> usize {
        let f = (at - start).as_seconds_f64() / total;
        ((f * width as f64) as usize).min(width - 1)
    };
    // The time a column stands for: its middle.
    let middle =
        |c: usize| start + time::Duration::seconds_f64(total * (c as f64 + 0.5) / width as f64);
    let ticks = |points: &[OffsetDateTime]| -> String {
        let mut row = vec![' '; width];
        for p in points {
            row[column(*p)] = '|';
        }
        row.into_iter().collect()
    };
    let earliest = t.spans.first().map(|s| s.0);
    let latest = t.spans.last().map(|s| s.1);
    let bar: String = (0..width)
        .map(|c| {
            let at = middle(c);
            if t.spans.iter().any(|(a, b)| *a <= at && at <= *b) {
                '█'
            } else if earliest.is_some_and(|e| at >= e) && latest.is_some_and(|l| at <= l) {
                'x'
            } else if latest.is_some_and(|l| at > l) {
                '░'
            } else {
                ' '
            }
        })
        .collect();
    let first = short(start);
    let last = format!("now {}", short(now));
    let gap = width.saturating_sub(first.len() + last.len()).max(1);
    let mut out = vec![format!("{:LABEL$}{first}{}{last}", "", " ".repeat(gap))];
    out.push(format!("{:LABEL$}{}", "host", ticks(&t.host)));
    if !t.repository.is_empty() {
        out.push(format!("{:LABEL$}{}", "repository", ticks(&t.repository)));
    }
    out.push(format!("{:LABEL$}{bar}", "restorable"));
    let behind = latest.map(|l| crate::control::instances::lifetimes::brief(now - l));
    out.push(format!(
        "{:LABEL$}| snapshot   █ restorable   x not restorable (a hole){}",
        "",
        behind
            .map(|b| format!("   ░ not yet archived ({b})"))
            .unwrap_or_default()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> OffsetDateTime {
        OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn ticks_spans_holes_and_the_loss_window_fall_where_their_times_are() {
        let t = Timeline {
            host: vec![at("2026-11-26T00:00:00Z"), at("2026-11-26T06:00:00Z")],
            repository: vec![at("2026-11-26T00:00:00Z")],
            spans: vec![
                (at("2026-11-26T00:00:00Z"), at("2026-11-26T04:00:00Z")),
                (at("2026-11-26T06:00:00Z"), at("2026-11-26T09:00:00Z")),
            ],
        };
        let lines = draw(&t, at("2026-11-26T10:00:00Z"), 20);
        assert!(
            lines[0].contains("2026-11-26 00:00") && lines[0].ends_with("now 2026-11-26 10:00")
        );
        let row = |name: &str| -> Vec<char> {
            let l = lines.iter().find(|l| l.starts_with(name)).unwrap();
            l.chars().skip(LABEL).collect()
        };
        // 20 columns over 10 hours: two a hour.
        let host = row("host");
        assert_eq!(host[0], '|');
        assert_eq!(host[12], '|');
        assert_eq!(host.iter().filter(|c| **c == '|').count(), 2);
        assert_eq!(row("repository").iter().filter(|c| **c == '|').count(), 1);
        let bar = row("restorable");
        assert!(bar[..8].iter().all(|c| *c == '█'));
        assert!(bar[8..12].iter().all(|c| *c == 'x'));
        assert!(bar[12..18].iter().all(|c| *c == '█'));
        assert!(bar[18..].iter().all(|c| *c == '░'));
        assert!(lines.last().unwrap().contains("not yet archived (1h)"));
        assert!(draw(&Timeline::default(), at("2026-11-26T10:00:00Z"), 20).is_empty());
    }
}
