//! Times as dbctl writes and reads them everywhere (the catalog, the wire, sidecars, events):
//! RFC 3339, in UTC when written. One place for both directions, so no reader is stricter or
//! looser than another.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// `s` as an RFC 3339 time (None: it is not one).
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// `t` in RFC 3339, in UTC.
pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Now, in RFC 3339 UTC.
pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_what_it_writes_and_writes_utc() {
        let t = super::parse("2026-12-07T10:00:00.5+01:00").unwrap();
        assert_eq!(super::format(t), "2026-12-07T09:00:00.5Z");
        assert_eq!(super::parse(&super::format(t)), Some(t));
        assert!(super::parse("yesterday").is_none());
        assert!(super::parse(&super::now()).is_some());
    }
}
