//! Printing: data to stdout as a table or JSON; notes and errors to stderr.

use clap::ValueEnum;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub struct Printer {
    pub format: Format,
}

impl Printer {
    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// Pretty JSON on stdout.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value).unwrap_or_default();
        let _ = writeln!(std::io::stdout(), "{text}");
    }

    /// A table with a header row on stdout.
    pub fn table(&self, header: &[&str], rows: Vec<Vec<String>>) {
        let mut t = Table::new();
        let how = arrangement(&t);
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(how)
            .set_header(header.to_vec());
        for r in rows {
            t.add_row(r.into_iter().map(|c| seconds(&c)).collect::<Vec<_>>());
        }
        let _ = writeln!(std::io::stdout(), "{t}");
    }

    /// Field/value pairs as a two-column table on stdout.
    pub fn fields(&self, pairs: Vec<(&str, String)>) {
        let mut t = Table::new();
        let how = arrangement(&t);
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(how);
        for (k, v) in pairs {
            t.add_row(vec![k.to_string(), seconds(&v)]);
        }
        let _ = writeln!(std::io::stdout(), "{t}");
    }

    /// One line of plain data on stdout (ids, URLs).
    pub fn line(&self, text: &str) {
        let _ = writeln!(std::io::stdout(), "{text}");
    }

    /// A note for the person at the terminal, on stderr.
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr(), "{}", seconds(text));
    }
}

/// Wraps columns to the terminal's width, unless it reports one too narrow to be real (a
/// terminal of 0 columns would print one character per line): then no wrapping at all.
fn arrangement(t: &Table) -> ContentArrangement {
    match t.width() {
        Some(w) if w < 40 => ContentArrangement::Disabled,
        _ => ContentArrangement::Dynamic,
    }
}

/// Times as tables and messages show every time: UTC to the second, with a Z (the catalog
/// and the hosts keep finer ones; JSON output has them as recorded), whether a cell is a time
/// or a sentence holding some ("recovered from snapshot 4 at 2026-...Z"). The rest as it is.
pub fn seconds(text: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let whole = |t: &str| -> Option<String> {
        crate::times::parse(t)?
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .ok()?
            .format(&Rfc3339)
            .ok()
    };
    if let Some(t) = whole(text) {
        return t;
    }
    // A time inside a sentence starts with a digit and ends before a space or punctuation
    // that cannot be part of one.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let len = from
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+')))
            .unwrap_or(from.len());
        let token = &from[..len];
        let (token, tail) = match token.strip_suffix('.') {
            Some(t) => (t, "."),
            None => (token, ""),
        };
        match whole(token) {
            Some(t) => out.push_str(&t),
            None => out.push_str(token),
        }
        out.push_str(tail);
        rest = &from[len..];
    }
    out.push_str(rest);
    out
}

/// A size as it is, in binary units ("21.00 KiB", "1.50 GiB"); `None` as "-".
pub fn size(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".into(), |b| indicatif::HumanBytes(b).to_string())
}

/// `Some(x)` as text, `None` as "-".
pub fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_show_as_they_are() {
        assert_eq!(super::size(Some(21 * 1024)), "21.00 KiB");
        assert_eq!(super::size(Some(512)), "512 B");
        assert_eq!(super::size(Some(3 << 30)), "3.00 GiB");
        assert_eq!(super::size(None), "-");
    }

    #[test]
    fn times_show_to_the_second_in_utc() {
        assert_eq!(
            super::seconds("2026-11-25T20:13:42.527037849Z"),
            "2026-11-25T20:13:42Z"
        );
        assert_eq!(
            super::seconds("2026-11-25T21:13:42.5+01:00"),
            "2026-11-25T20:13:42Z"
        );
        assert_eq!(super::seconds("prod"), "prod");
        assert_eq!(
            super::seconds("recovered from snapshot 4 at 2026-11-25T20:13:42.527037849Z."),
            "recovered from snapshot 4 at 2026-11-25T20:13:42Z."
        );
        assert_eq!(
            super::seconds("up to 2026-11-25T21:13:42.5+01:00, 1.50 GiB on 127.0.0.1:5432"),
            "up to 2026-11-25T20:13:42Z, 1.50 GiB on 127.0.0.1:5432"
        );
    }
}
