//! MariaDB's binary log as the log archive sees it: chain files `binlog.NNNNNN` (numbered
//! from 1, six digits or more), positions `binlog.NNNNNN:OFFSET` (the file and the byte
//! where an event starts). A server restored in place goes on in the same archive on a new
//! branch, as PostgreSQL takes a new timeline: its files are `binlog2.NNNNNN`, then
//! `binlog3...`, numbered from 1 again, so they can never be taken for the abandoned
//! branch's files of the same number. A copy with an archive of its own starts at branch 1.

use crate::agent::logs::{Commit, LogFormat};
use std::cmp::Ordering;
use std::path::Path;

/// The base name of the binary log files of branch 1; branch N's is `binlogN`.
pub const BASE: &str = "binlog";
/// Where the first event of a file starts (after its four magic bytes).
const FIRST_EVENT: u64 = 4;

#[derive(Default)]
pub struct Binlog {
    /// mariadb-binlog, which reads the commits in a file (None: they are not read).
    pub reader: Option<std::path::PathBuf>,
}

/// Commit times, GTIDs and end positions in the text `mariadb-binlog` prints for one file
/// (run with TZ=UTC): each event's header line is
/// `#YYMMDD HH:MM:SS server id N  end_log_pos P CRC32 0x..  <event>`. A transaction (a GTID
/// group) commits with its Xid event, its `COMMIT` query, or, for DDL, its one statement;
/// the position given is the end of that event, where replay of everything up to and
/// including the commit stops.
pub fn parse_commits(text: &str) -> Vec<(String, String, u64)> {
    struct Event<'a> {
        time: String,
        end: u64,
        what: &'a str,
        body: Vec<&'a str>,
    }
    let mut events: Vec<Event> = Vec::new();
    for line in text.lines() {
        if let Some(e) = header(line) {
            events.push(e);
        } else if !line.starts_with('#') {
            if let Some(e) = events.last_mut() {
                e.body.push(line.trim());
            }
        }
    }
    fn header(line: &str) -> Option<Event<'_>> {
        let rest = line.strip_prefix('#')?;
        let (date, rest) = rest.split_once(char::is_whitespace)?;
        let rest = rest.trim_start();
        let (clock, rest) = rest.split_once(' ')?;
        if date.len() != 6 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (_, rest) = rest.split_once("end_log_pos ")?;
        let (end, rest) = rest.split_once(char::is_whitespace)?;
        let what = rest.split_once('\t').map_or("", |(_, w)| w.trim());
        let mut hms = clock.split(':').map(|p| p.parse::<u32>().ok());
        let (Some(Some(h)), Some(Some(m)), Some(Some(sec))) = (hms.next(), hms.next(), hms.next())
        else {
            return None;
        };
        let time = format!(
            "20{}-{}-{}T{h:02}:{m:02}:{sec:02}Z",
            &date[..2],
            &date[2..4],
            &date[4..6]
        );
        Some(Event {
            time,
            end: end.parse().ok()?,
            what,
            body: Vec::new(),
        })
    }
    let mut out = Vec::new();
    // Within a group: its GTID, whether it is one DDL statement, whether a BEGIN opened it.
    let mut group: Option<(&str, bool, bool)> = None;
    for e in &events {
        if let Some(rest) = e.what.strip_prefix("GTID ") {
            let gtid = rest.split_whitespace().next().unwrap_or("");
            group = Some((gtid, e.what.ends_with(" ddl"), false));
            continue;
        }
        let Some((gtid, ddl, begun)) = group else {
            continue;
        };
        let said = |w: &str| e.body.iter().any(|l| l.eq_ignore_ascii_case(w));
        let commit = if e.what.starts_with("Xid") {
            true
        } else if e.what.starts_with("Query") {
            if said("BEGIN") {
                group = Some((gtid, ddl, true));
                false
            } else {
                said("COMMIT") || !begun
            }
        } else {
            false
        };
        if commit {
            out.push((e.time.clone(), gtid.to_string(), e.end));
            group = None;
        }
    }
    out
}

/// The branch and number of chain file `file`.
fn number(file: &str) -> Option<(u32, u64)> {
    let (base, digits) = file.split_once('.')?;
    let branch = match base.strip_prefix(BASE)? {
        "" => 1,
        // One spelling per branch: no "binlog1", no leading zeros.
        b if !b.starts_with('0') && b.bytes().all(|c| c.is_ascii_digit()) => {
            b.parse().ok().filter(|n| *n >= 2)?
        }
        _ => return None,
    };
    (digits.len() >= 6 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok().map(|n| (branch, n)))
        .flatten()
}

/// The base name of branch `branch`'s files (the server's `log_bin`).
pub fn base(branch: u32) -> String {
    if branch <= 1 {
        BASE.to_string()
    } else {
        format!("{BASE}{branch}")
    }
}

/// The chain file numbered `n` on `branch`.
pub fn file_name((branch, n): (u32, u64)) -> String {
    format!("{}.{n:06}", base(branch))
}

/// A GTID's domain and sequence number (the server id between them does not order it).
fn gtid(s: &str) -> Option<(u32, u64)> {
    let mut parts = s.split('-');
    let (Some(d), Some(_), Some(n), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some((d.parse().ok()?, n.parse().ok()?))
}

/// Whether archived file `f` may hold GTID `wanted`: in one domain, sequence numbers only
/// grow (gtid_strict_mode), so a file whose first and last GTIDs are both of that domain
/// holds only the numbers between them; a file with no GTIDs indexed may hold any.
fn may_hold(f: &crate::agent::logs::LogFile, (domain, seq): (u32, u64)) -> bool {
    match (
        f.first_transaction.as_deref().and_then(gtid),
        f.last_transaction.as_deref().and_then(gtid),
    ) {
        (Some((d1, first)), Some((d2, last))) if d1 == domain && d2 == domain => {
            (first..=last).contains(&seq)
        }
        // Another domain at either end: it may interleave with this one.
        (Some((d1, _)), Some((d2, _))) if d1 != d2 => true,
        (Some(_), Some(_)) => false,
        // Indexed and empty, or not indexed: scanned when not known empty.
        _ => !(f.scanned && f.last_commit.is_none()),
    }
}

/// A position's file (branch, number) and offset.
fn split(position: &str) -> Option<((u32, u64), u64)> {
    let (file, offset) = position.rsplit_once(':')?;
    Some((number(file)?, offset.parse().ok()?))
}

impl Binlog {
    /// The commits (time, GTID, end offset) in binary log `path`, stored plain or compressed
    /// (fed to mariadb-binlog on its standard input then); None when it cannot be read.
    fn read(&self, path: &Path) -> Option<Vec<(String, String, u64)>> {
        use std::io::Write;
        let reader = self.reader.as_ref()?;
        let mut child = std::process::Command::new(reader)
            .arg("--no-defaults")
            // Event headers and statements only: the rows' base64 (most of a busy file's
            // text) says nothing about where its commits are.
            .arg("--base64-output=decode-rows")
            .arg("-")
            .env_clear()
            .env("TZ", "UTC")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let mut stdin = child.stdin.take()?;
        let packed = crate::agent::storage::content::is_packed(path);
        let mut content = crate::agent::storage::content::open(path, packed).ok()?;
        let feeding = std::thread::spawn(move || {
            std::io::copy(&mut content, &mut stdin).and_then(|_| stdin.flush())
        });
        let printed = child.wait_with_output().ok()?;
        let fed = feeding.join().ok()?.is_ok();
        if !printed.status.success() || !fed {
            return None;
        }
        Some(parse_commits(&String::from_utf8_lossy(&printed.stdout)))
    }
}

impl LogFormat for Binlog {
    fn parse_position(&self, s: &str) -> Option<String> {
        let (n, offset) = split(s.trim())?;
        Some(format!("{}:{offset}", file_name(n)))
    }

    fn position_hint(&self) -> &'static str {
        "a binary log file and offset, e.g. binlog.000003:1234, or a GTID, e.g. 0-1-42"
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
        number(file).map(|(b, _)| b)
    }

    fn next_file(&self, file: &str) -> Option<String> {
        number(file).map(|(b, n)| file_name((b, n + 1)))
    }

    fn prev_file(&self, file: &str) -> Option<String> {
        let (b, n) = number(file)?;
        n.checked_sub(1)
            .filter(|n| *n > 0)
            .map(|n| file_name((b, n)))
    }

    fn file_start(&self, file: &str) -> Option<String> {
        number(file).map(|n| format!("{}:{FIRST_EVENT}", file_name(n)))
    }

    fn file_order(&self, file: &str) -> Option<String> {
        number(file).map(|(b, n)| format!("{b:010}{n:020}"))
    }

    fn commits(&self, dir: &Path, from: &str, to: &str) -> Option<Vec<Commit>> {
        let ((branch, first), (last_branch, last)) = (number(from)?, number(to)?);
        if branch != last_branch {
            return None;
        }
        let mut out = Vec::new();
        for n in first..=last {
            let file = file_name((branch, n));
            for (time, gtid, end) in self.read(&dir.join(&file))? {
                out.push(Commit {
                    time,
                    position: format!("{file}:{end}"),
                    id: Some(gtid),
                });
            }
        }
        Some(out)
    }

    /// The server rotates the binary log only between transactions.
    fn records_span_files(&self) -> bool {
        false
    }

    fn is_transaction_id(&self, s: &str) -> bool {
        let parts: Vec<&str> = s.split('-').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    }

    /// The end of the commit of GTID `id`, read from the archived files of the newest branch
    /// first (a branch an in-place restore abandoned may hold the same GTID for another
    /// transaction), each branch's oldest first. Only files whose indexed first and last
    /// GTIDs can enclose it are read (every file, where the index does not say).
    fn find_transaction(&self, dir: &Path, id: &str) -> Option<String> {
        let wanted = gtid(id)?;
        let mut files: Vec<String> = crate::agent::logs::list_dir(dir)
            .into_iter()
            .filter(|f| self.in_chain(&f.name))
            .filter(|f| may_hold(f, wanted))
            .map(|f| f.name)
            .collect();
        files.sort_by_key(|n| number(n).map(|(b, n)| (std::cmp::Reverse(b), n)));
        files.into_iter().find_map(|file| {
            let commits = self.read(&dir.join(&file))?;
            let (_, _, end) = commits.into_iter().find(|(_, g, _)| g == id)?;
            Some(format!("{file}:{end}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_read_from_what_mariadb_binlog_prints() {
        let text = "# at 325
#261126  3:12:04 server id 1  end_log_pos 367 CRC32 0x4f2e \tGTID 0-1-1 ddl
# at 367
#261126  3:12:04 server id 1  end_log_pos 452 CRC32 0x17b1 \tQuery\tthread_id=7\txid=0
SET TIMESTAMP=1795662724/*!*/;
create database app
/*!*/;
# at 605
#261126  3:12:05 server id 1  end_log_pos 647 CRC32 0x7423 \tGTID 0-1-3 trans
START TRANSACTION
# at 741
#261126  3:12:05 server id 1  end_log_pos 779 CRC32 0x7f00 \tWrite_rows: table id 18 flags: STMT_END_F
# at 779
#261126  3:12:06 server id 1  end_log_pos 810 CRC32 0xe0f0 \tXid = 9
COMMIT/*!*/;
# at 810
#261126  3:12:07 server id 1  end_log_pos 850 CRC32 0xe0f1 \tGTID 0-1-4
# at 850
#261126  3:12:07 server id 1  end_log_pos 900 CRC32 0xe0f2 \tQuery\tthread_id=7
BEGIN
/*!*/;
# at 900
#261126  3:12:08 server id 1  end_log_pos 950 CRC32 0xe0f3 \tQuery\tthread_id=7
insert into a values (1)
/*!*/;
# at 950
#261126 13:12:09 server id 1  end_log_pos 990 CRC32 0xe0f4 \tQuery\tthread_id=7
COMMIT
/*!*/;
# at 990
#261126 13:12:10 server id 1  end_log_pos 1034 CRC32 0xbd20 \tRotate to binlog.000003  pos: 4
";
        let gtids: Vec<String> = parse_commits(text).into_iter().map(|(_, g, _)| g).collect();
        assert_eq!(gtids, ["0-1-1", "0-1-3", "0-1-4"]);
        let found: Vec<(String, u64)> = parse_commits(text)
            .into_iter()
            .map(|(t, _, end)| (t, end))
            .collect();
        assert_eq!(
            found,
            [
                ("2026-11-26T03:12:04Z".to_string(), 452),
                ("2026-11-26T03:12:06Z".to_string(), 810),
                ("2026-11-26T13:12:09Z".to_string(), 990),
            ]
        );
    }

    #[test]
    fn files_and_positions_order_by_number_then_offset() {
        let b = Binlog::default();
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

    #[test]
    fn only_files_whose_indexed_gtids_enclose_one_are_read_for_it() {
        let f =
            |first: Option<&str>, last: Option<&str>, commits: bool| crate::agent::logs::LogFile {
                first_transaction: first.map(str::to_string),
                last_transaction: last.map(str::to_string),
                last_commit: commits.then(|| "2026-11-26T00:00:00Z".to_string()),
                scanned: true,
                ..Default::default()
            };
        let want = gtid("0-77-15").unwrap();
        assert_eq!(want, (0, 15));
        assert!(gtid("0-1").is_none() && gtid("0-1-2-3").is_none() && gtid("a-1-2").is_none());
        // The server id does not matter: sequence numbers of a domain only grow.
        assert!(may_hold(&f(Some("0-1-10"), Some("0-9-20"), true), want));
        assert!(!may_hold(&f(Some("0-1-16"), Some("0-1-20"), true), want));
        assert!(!may_hold(&f(Some("0-1-1"), Some("0-1-14"), true), want));
        assert!(!may_hold(&f(Some("1-1-1"), Some("1-1-99"), true), want));
        assert!(may_hold(&f(Some("1-1-1"), Some("0-1-3"), true), want));
        // Not indexed: read; known to hold no commit: not.
        assert!(may_hold(&f(None, None, true), want));
        assert!(!may_hold(&f(None, None, false), want));
    }

    #[test]
    fn a_branch_has_names_of_its_own_and_its_chain_never_leaves_it() {
        let b = Binlog::default();
        assert_eq!(base(1), "binlog");
        assert_eq!(base(2), "binlog2");
        assert_eq!(b.branch_of("binlog.000004"), Some(1));
        assert_eq!(b.branch_of("binlog12.000004"), Some(12));
        for bad in [
            "binlog1.000001",
            "binlog02.000001",
            "binlogx.000001",
            "binlog2",
        ] {
            assert!(!b.in_chain(bad), "{bad}");
        }
        assert_eq!(
            b.next_file("binlog2.000009").as_deref(),
            Some("binlog2.000010")
        );
        assert_eq!(b.prev_file("binlog2.000001"), None);
        assert_eq!(
            b.file_of("binlog3.000002:77", 3).as_deref(),
            Some("binlog3.000002")
        );
        // Every position of a later branch sorts after the earlier branch's.
        assert_eq!(
            b.compare("binlog.000099:99999", "binlog2.000001:4"),
            Ordering::Less
        );
        assert!(b.file_order("binlog2.000001") > b.file_order("binlog.000099"));
        assert_eq!(
            b.parse_position("binlog2.000003:1234").as_deref(),
            Some("binlog2.000003:1234")
        );
    }
}
