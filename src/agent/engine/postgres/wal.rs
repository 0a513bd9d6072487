//! PostgreSQL's write-ahead log as the log archive sees it: 16 MiB segments named by
//! timeline, log and segment number (24 hex digits), positions written "X/Y" (LSNs), commit
//! times read with pg_waldump.

use crate::agent::logs::{Commit, LogFormat};
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// PostgreSQL's default (and dbhost's only) segment size.
const SEGMENT_BYTES: u64 = 16 << 20;

/// The WAL format, with pg_waldump when it is installed.
pub struct Wal {
    pub waldump: Option<PathBuf>,
}

/// An LSN "X/Y" (hex) as a number.
pub fn lsn_value(p: &str) -> Option<u64> {
    let (hi, lo) = p.split_once('/')?;
    if hi.is_empty() || lo.is_empty() || hi.len() > 8 || lo.len() > 8 {
        return None;
    }
    Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
}

fn lsn_text(v: u64) -> String {
    format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF)
}

/// A WAL segment file name: 24 hex digits (timeline, log, segment).
pub fn is_segment(name: &str) -> bool {
    name.len() == 24 && name.chars().all(|c| c.is_ascii_hexdigit())
}

/// (timeline, log, segment) of a segment name.
fn parts(name: &str) -> Option<(u32, u64, u64)> {
    if !is_segment(name) {
        return None;
    }
    Some((
        u32::from_str_radix(&name[..8], 16).ok()?,
        u64::from_str_radix(&name[8..16], 16).ok()?,
        u64::from_str_radix(&name[16..24], 16).ok()?,
    ))
}

/// The segment file name holding `lsn` on `timeline`.
pub fn segment_of(lsn: &str, timeline: u32) -> Option<String> {
    let seg = lsn_value(lsn)? / SEGMENT_BYTES;
    Some(format!("{timeline:08X}{:08X}{:08X}", seg / 256, seg % 256))
}

/// The segment holding the last byte before `lsn` on `timeline`: the last one a record that
/// ends at `lsn` needs.
pub fn last_segment_for(lsn: &str, timeline: u32) -> Option<String> {
    let before = lsn_value(lsn)?.checked_sub(1)?;
    segment_of(&lsn_text(before), timeline)
}

fn next_segment(name: &str) -> Option<String> {
    let (tl, log, seg) = parts(name)?;
    let (log, seg) = if seg == 0xFF {
        (log + 1, 0)
    } else {
        (log, seg + 1)
    };
    Some(format!("{tl:08X}{log:08X}{seg:08X}"))
}

fn prev_segment(name: &str) -> Option<String> {
    let (tl, log, seg) = parts(name)?;
    let (log, seg) = match (log, seg) {
        (0, 0) => return None,
        (l, 0) => (l - 1, 0xFF),
        (l, s) => (l, s - 1),
    };
    Some(format!("{tl:08X}{log:08X}{seg:08X}"))
}

/// "... lsn: 0/03000060, prev ..." -> "0/3000060".
fn record_lsn(line: &str) -> Option<String> {
    let rest = &line[line.find("lsn: ")? + 5..];
    lsn_value(rest.split(',').next()?.trim()).map(lsn_text)
}

/// "... desc: COMMIT 2026-11-24 20:40:01.123456 UTC; ..." -> "2026-11-24T20:40:01.123456Z".
fn commit_time(line: &str) -> Option<String> {
    let rest = &line[line.find("desc: COMMIT ")? + "desc: COMMIT ".len()..];
    let stamp = rest.split(" UTC").next()?;
    let (date, time) = stamp.split_once(' ')?;
    (date.len() == 10 && time.len() >= 8).then(|| format!("{date}T{time}Z"))
}

impl LogFormat for Wal {
    fn parse_position(&self, s: &str) -> Option<String> {
        lsn_value(s.trim()).map(|_| s.trim().to_uppercase())
    }

    fn position_hint(&self) -> &'static str {
        "write it as PostgreSQL does, e.g. 0/3000060"
    }

    fn compare(&self, a: &str, b: &str) -> Ordering {
        lsn_value(a).cmp(&lsn_value(b))
    }

    fn in_chain(&self, file: &str) -> bool {
        is_segment(file)
    }

    fn file_of(&self, position: &str, branch: u32) -> Option<String> {
        segment_of(position, branch)
    }

    fn branch_of(&self, file: &str) -> Option<u32> {
        parts(file).map(|(tl, _, _)| tl)
    }

    fn next_file(&self, file: &str) -> Option<String> {
        next_segment(file)
    }

    fn prev_file(&self, file: &str) -> Option<String> {
        prev_segment(file)
    }

    fn file_start(&self, file: &str) -> Option<String> {
        let (_, log, seg) = parts(file)?;
        Some(lsn_text((log << 32) | (seg * SEGMENT_BYTES)))
    }

    fn file_order(&self, file: &str) -> Option<String> {
        // Log and segment number: the place in the WAL, whatever the timeline. A partial
        // segment (left by a promotion) has its segment's place; a history file has none.
        let segment = file.get(..24).filter(|s| is_segment(s))?;
        Some(segment[8..].to_string())
    }

    /// The last record may continue into a segment not archived yet: pg_waldump then stops
    /// with an error after printing what it could, which is all there is.
    fn commits(&self, dir: &Path, from: &str, to: &str) -> Option<Vec<Commit>> {
        let out = std::process::Command::new(self.waldump.as_ref()?)
            .arg("-p")
            .arg(dir)
            .args(["-r", "Transaction", from, to])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        Some(
            text.lines()
                .filter_map(|l| {
                    Some(Commit {
                        time: commit_time(l)?,
                        position: record_lsn(l)?,
                        id: None,
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_segments_and_reads_commit_times() {
        let w = Wal { waldump: None };
        assert_eq!(
            segment_of("0/3000028", 1).unwrap(),
            "000000010000000000000003"
        );
        assert_eq!(
            segment_of("1/FF000000", 2).unwrap(),
            "0000000200000001000000FF"
        );
        assert_eq!(
            w.next_file("0000000100000001000000FF").unwrap(),
            "000000010000000200000000"
        );
        assert_eq!(
            w.prev_file("000000010000000200000000").unwrap(),
            "0000000100000001000000FF"
        );
        assert_eq!(w.prev_file("000000010000000000000000"), None);
        assert_eq!(
            last_segment_for("0/3000028", 1).unwrap(),
            "000000010000000000000003"
        );
        assert_eq!(
            last_segment_for("0/4000000", 1).unwrap(),
            "000000010000000000000003"
        );
        assert_eq!(
            w.file_start("000000010000000000000005").unwrap(),
            "0/5000000"
        );
        assert_eq!(w.branch_of("000000020000000000000005"), Some(2));
        assert!(!w.in_chain("00000002.history"));
        assert_eq!(w.file_order("00000002.history"), None);
        assert_eq!(
            w.file_order("000000010000000000000005.partial").as_deref(),
            Some("0000000000000005")
        );
        let line = "rmgr: Transaction len (rec/tot):     34/    34, tx:        735, lsn: 0/03000060, prev 0/03000028, desc: COMMIT 2026-11-24 20:40:01.123456 UTC";
        assert_eq!(commit_time(line).unwrap(), "2026-11-24T20:40:01.123456Z");
        assert_eq!(record_lsn(line).unwrap(), "0/3000060");
        assert!(commit_time("rmgr: Heap desc: INSERT").is_none());
    }

    #[test]
    fn positions_parse_and_order() {
        let w = Wal { waldump: None };
        assert_eq!(w.compare("0/3000060", "1/0"), Ordering::Less);
        assert_eq!(w.compare("0/A", "0/a"), Ordering::Equal);
        assert_eq!(w.parse_position("0/3a").as_deref(), Some("0/3A"));
        for bad in ["zz", "0/", "12-34", "123456789/0"] {
            assert!(w.parse_position(bad).is_none(), "{bad}");
        }
    }
}
