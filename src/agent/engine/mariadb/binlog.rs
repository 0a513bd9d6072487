//! MariaDB's binary log as the log archive sees it: chain files `binlog.NNNNNN` (numbered
//! from 1, six digits or more), positions `binlog.NNNNNN:OFFSET` (the file and the byte
//! where an event starts). The log never branches: a restored copy starts binary logs of
//! its own, in an archive of its own.

use crate::agent::logs::LogFormat;
use std::cmp::Ordering;
use std::path::Path;

/// The base name of every instance's binary log files.
pub const BASE: &str = "binlog";
/// Where the first event of a file starts (after its four magic bytes).
const FIRST_EVENT: u64 = 4;

pub struct Binlog;

/// The number of chain file `file`.
fn number(file: &str) -> Option<u64> {
    let digits = file.strip_prefix(BASE)?.strip_prefix('.')?;
    (digits.len() >= 6 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The chain file numbered `n`.
pub fn file_name(n: u64) -> String {
    format!("{BASE}.{n:06}")
}

/// A position's file number and offset.
fn split(position: &str) -> Option<(u64, u64)> {
    let (file, offset) = position.rsplit_once(':')?;
    Some((number(file)?, offset.parse().ok()?))
}

impl LogFormat for Binlog {
    fn parse_position(&self, s: &str) -> Option<String> {
        let (n, offset) = split(s.trim())?;
        Some(format!("{}:{offset}", file_name(n)))
    }

    fn position_hint(&self) -> &'static str {
        "a binary log file and offset, e.g. binlog.000003:1234"
    }

    fn compare(&self, a: &str, b: &str) -> Ordering {
        split(a).cmp(&split(b))
    }

    fn in_chain(&self, file: &str) -> bool {
        number(file).is_some()
    }

    fn file_of(&self, position: &str, _branch: u32) -> Option<String> {
        split(position).map(|(n, _)| file_name(n))
    }

    fn branch_of(&self, file: &str) -> Option<u32> {
        number(file).map(|_| 1)
    }

    fn next_file(&self, file: &str) -> Option<String> {
        number(file).map(|n| file_name(n + 1))
    }

    fn prev_file(&self, file: &str) -> Option<String> {
        number(file)?
            .checked_sub(1)
            .filter(|n| *n > 0)
            .map(file_name)
    }

    fn file_start(&self, file: &str) -> Option<String> {
        number(file).map(|n| format!("{}:{FIRST_EVENT}", file_name(n)))
    }

    fn file_order(&self, file: &str) -> Option<String> {
        number(file).map(|n| format!("{n:020}"))
    }

    fn commits(&self, _dir: &Path, _from: &str, _to: &str) -> Option<Vec<(String, String)>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_positions_order_by_number_then_offset() {
        let b = Binlog;
        assert_eq!(
            b.parse_position(" binlog.000003:1234 ").as_deref(),
            Some("binlog.000003:1234")
        );
        for bad in [
            "binlog.3:1",
            "binlog.000003",
            "relay.000003:4",
            "binlog.000003:x",
        ] {
            assert_eq!(b.parse_position(bad), None, "{bad}");
        }
        assert_eq!(
            b.compare("binlog.000009:99999", "binlog.000010:4"),
            Ordering::Less
        );
        assert_eq!(
            b.compare("binlog.000010:400", "binlog.000010:4"),
            Ordering::Greater
        );
        assert_eq!(
            b.next_file("binlog.999999").as_deref(),
            Some("binlog.1000000")
        );
        assert!(b.in_chain("binlog.1000000") && !b.in_chain("binlog.index"));
        assert_eq!(b.prev_file("binlog.000001"), None);
        assert_eq!(
            b.file_of("binlog.000002:77", 1).as_deref(),
            Some("binlog.000002")
        );
        assert_eq!(
            b.file_start("binlog.000002").as_deref(),
            Some("binlog.000002:4")
        );
        assert!(b.file_order("binlog.000010") > b.file_order("binlog.000009"));
    }
}
