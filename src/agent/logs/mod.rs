//! The host's log archive, engine-neutral: files an engine's server hands over (or dbhost
//! collects), stored durably with their checksums and commit-time ranges, handed back to
//! replay only when they still match. What a file name or a position means is the engine's
//! ([`LogFormat`]); this module only stores, lists, checks and moves files.
//!
//! Archiving runs as the instance's OS user (its server calls it), so it touches only the
//! instance's own archive directory.

mod coverage;
mod damage;
mod marks;
mod prune;
mod ship;
mod store;

pub use coverage::{commits_after, coverage};
pub use damage::{check as check_files, damaged};
pub use marks::{add_mark, marks, Mark};
pub use prune::{doomed, drop_all, prune, prune_keeping};
pub use ship::{export, import, place, place_side_files};
pub use store::archive;

use crate::agent::layout::Layout;
use anyhow::{bail, Context, Result};
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// How an engine's log is laid out: all the archive needs to know about its files and
/// positions. Positions are the engine's own strings; only this orders them.
pub trait LogFormat {
    /// A position as users and the engine write it, normalized; None when `s` is not one.
    fn parse_position(&self, s: &str) -> Option<String>;

    /// How a position is written, for the message refusing a malformed one.
    fn position_hint(&self) -> &'static str;

    /// Orders two positions (ones that do not parse sort first).
    fn compare(&self, a: &str, b: &str) -> Ordering;

    /// Whether `file` is one of the log's chain files (which replay reads one after another).
    fn in_chain(&self, file: &str) -> bool;

    /// The chain file holding `position` on log branch `branch`.
    fn file_of(&self, position: &str, branch: u32) -> Option<String>;

    /// The branch a chain file belongs to.
    fn branch_of(&self, file: &str) -> Option<u32>;

    /// The chain file after `file` on its branch.
    fn next_file(&self, file: &str) -> Option<String>;

    /// The chain file before `file` on its branch.
    fn prev_file(&self, file: &str) -> Option<String>;

    /// Where a chain file starts, as a position.
    fn file_start(&self, file: &str) -> Option<String>;

    /// A key that orders files by where they are in the log, whatever their branch: chain
    /// files and others that belong to a place (a partial file); None for side files (a
    /// branch history), which are always kept and always shipped.
    fn file_order(&self, file: &str) -> Option<String>;

    /// Every commit from the start of chain file `from` through chain file `to`, both in
    /// `dir`; None when the engine's log reader cannot run.
    fn commits(&self, dir: &Path, from: &str, to: &str) -> Option<Vec<Commit>>;

    /// Whether a commit record can begin in one file and end in the next (PostgreSQL's WAL
    /// records cross segment boundaries); then a file's commits are read with its
    /// predecessor's.
    fn records_span_files(&self) -> bool {
        true
    }

    /// Whether `s` names a transaction (MariaDB's GTID) rather than a position.
    fn is_transaction_id(&self, _s: &str) -> bool {
        false
    }

    /// The position right after the commit of transaction `id`, read from the archived
    /// files in `dir`; None when no file holds it.
    fn find_transaction(&self, _dir: &Path, _id: &str) -> Option<String> {
        None
    }
}

/// One commit, as an engine's log reader finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// When it committed (RFC 3339, UTC).
    pub time: String,
    /// Its position: where its record starts (PostgreSQL) or ends (MariaDB), as the engine's
    /// replay takes it to include the commit.
    pub position: String,
    /// The transaction's own name where the engine gives it one (MariaDB's GTID).
    pub id: Option<String>,
}

pub use crate::wire::logs::LogFile;

/// The instance's archive directory.
pub fn dir(layout: &Layout, instance: &str) -> PathBuf {
    layout.logs_root().join(instance)
}

fn sidecar(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

fn valid_file_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
        && !name.starts_with('.');
    if !ok {
        bail!("not a log file name: {name:?}");
    }
    Ok(())
}

pub(crate) fn now() -> String {
    crate::times::now()
}

/// A sidecar as the archive's owner wrote it: read as root, so never through a link, from
/// a FIFO, or larger than any sidecar is.
fn read_sidecar(d: &Path, name: &str) -> Result<LogFile> {
    let p = sidecar(d, name);
    serde_json::from_str(&crate::fsutil::read_small_no_follow(&p, 64 << 10)?)
        .with_context(|| format!("parsing {}", p.display()))
}

/// Every archived file of an instance that replay and shipping may use, in name order: not
/// the ones found damaged ([`damaged`]), which are holes.
///
/// # Errors
/// The archive cannot be listed.
pub fn list(layout: &Layout, instance: &str) -> Result<Vec<LogFile>> {
    let d = dir(layout, instance);
    let bad = damage::damaged_in(&d);
    let mut files = list_dir(&d);
    files.retain(|f| !bad.contains(&f.name));
    Ok(files)
}

/// Every archived file of an instance, damaged ones too (what takes names and space).
///
/// # Errors
/// The archive cannot be listed.
pub fn list_held(layout: &Layout, instance: &str) -> Result<Vec<LogFile>> {
    Ok(list_dir(&dir(layout, instance)))
}

/// The archive's record of file `name` of `instance`, if it holds that file (one sidecar
/// read, where [`list`] reads them all).
pub fn held(layout: &Layout, instance: &str, name: &str) -> Option<LogFile> {
    archived(&dir(layout, instance), name)
}

/// Whether the archive of `instance` holds the file `name`.
pub fn holds(layout: &Layout, instance: &str, name: &str) -> bool {
    held(layout, instance, name).is_some()
}

/// The archived file `name` in `d`. A sidecar counts only for a file that is there, and only
/// under its own name: a file deleted by hand is a hole, and a sidecar can never name
/// another path.
fn archived(d: &Path, name: &str) -> Option<LogFile> {
    valid_file_name(name).ok()?;
    let f = read_sidecar(d, name).ok()?;
    let present = std::fs::symlink_metadata(d.join(name)).is_ok_and(|m| m.is_file());
    (f.name == name && present).then_some(f)
}

/// What a running server would lose with its data now, from its newest commit (its time, or
/// the engine's name for it) against the newest the archive of `instance` holds; None when
/// the server said neither. Reads the sidecars of the archive's newest files only.
pub fn exposure(
    layout: &Layout,
    instance: &str,
    newest_time: Option<&str>,
    newest_transaction: Option<&str>,
) -> Option<crate::wire::Exposure> {
    if newest_time.is_none() && newest_transaction.is_none() {
        return None;
    }
    let d = dir(layout, instance);
    let mut names: Vec<String> = std::fs::read_dir(&d)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    names.sort();
    // The newest commit among the last files archived.
    let newest = names
        .iter()
        .rev()
        .take(16)
        .filter_map(|n| archived(&d, n))
        .filter(|f| f.last_commit.is_some())
        .max_by(|a, b| a.last_commit.cmp(&b.last_commit));
    let archived_through = newest.as_ref().and_then(|f| f.last_commit.clone());
    let behind = match (newest_transaction, newest_time) {
        // Where the engine names transactions, the archive holds the server's newest one
        // or it does not (an empty position: it committed nothing yet).
        (Some(t), _) => {
            !t.is_empty() && newest.as_ref().and_then(|f| f.last_transaction.as_deref()) != Some(t)
        }
        // Nothing committed since it started: what it committed before is the archive's.
        (None, Some("")) => false,
        (None, Some(t)) => match &archived_through {
            Some(a) => later_than(t, a),
            None => true,
        },
        (None, None) => false,
    };
    Some(crate::wire::Exposure {
        at_risk_since: behind.then(|| {
            archived_through
                .clone()
                .unwrap_or_else(|| newest_time.unwrap_or_default().to_string())
        }),
        archived_through,
    })
}

/// Whether RFC 3339 time `a` is later than `b` (unreadable times: not later).
pub(crate) fn later_than(a: &str, b: &str) -> bool {
    let p = |t: &str| crate::times::parse(t);
    matches!((p(a), p(b)), (Some(x), Some(y)) if x > y)
}

/// The files described by sidecars in `d`, in name order.
pub(crate) fn list_dir(d: &Path) -> Vec<LogFile> {
    let Ok(entries) = std::fs::read_dir(d) else {
        return Vec::new();
    };
    let mut out: Vec<LogFile> = entries
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            archived(d, n.strip_suffix(".json")?)
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The chain file a snapshot's replay starts from.
fn start_file(format: &dyn LogFormat, from: &crate::wire::logs::SnapshotStart) -> Result<String> {
    format
        .file_of(&from.position, from.branch)
        .with_context(|| {
            format!(
                "bad position {:?} for snapshot {}",
                from.position, from.snapshot
            )
        })
}

#[cfg(test)]
pub(crate) mod testing {
    //! A made-up log format for the archive's unit tests: chain files "B.NNNN" (branch,
    //! number) of 100 positions each, positions plain numbers; no real engine's.
    use super::{dir, sidecar, LogFile, LogFormat};
    use crate::agent::layout::Layout;
    use std::cmp::Ordering;
    use std::path::{Path, PathBuf};

    pub struct Numbered;

    /// A root with instance "db"'s archive directory made.
    pub fn archive() -> (tempfile::TempDir, Layout, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path());
        let d = dir(&layout, "db");
        std::fs::create_dir_all(&d).unwrap();
        (root, layout, d)
    }

    /// Puts a file in archive directory `d` with `f` as its sidecar (`present`: the file
    /// itself too).
    pub fn put(d: &Path, f: &LogFile, present: bool) {
        if present {
            std::fs::write(d.join(&f.name), b"x").unwrap();
        }
        std::fs::write(sidecar(d, &f.name), serde_json::to_vec(f).unwrap()).unwrap();
    }

    fn pos(s: &str) -> Option<u64> {
        s.parse().ok()
    }

    impl LogFormat for Numbered {
        fn parse_position(&self, s: &str) -> Option<String> {
            pos(s).map(|p| p.to_string())
        }
        fn position_hint(&self) -> &'static str {
            "a number"
        }
        fn compare(&self, a: &str, b: &str) -> Ordering {
            pos(a).cmp(&pos(b))
        }
        fn in_chain(&self, file: &str) -> bool {
            file.len() == 6
                && file.as_bytes()[1] == b'.'
                && file[2..].bytes().all(|b| b.is_ascii_digit())
        }
        fn file_of(&self, position: &str, branch: u32) -> Option<String> {
            Some(format!("{branch}.{:04}", pos(position)? / 100))
        }
        fn branch_of(&self, file: &str) -> Option<u32> {
            file.get(..1)?.parse().ok()
        }
        fn next_file(&self, file: &str) -> Option<String> {
            let n: u64 = file.get(2..)?.parse().ok()?;
            Some(format!("{}.{:04}", self.branch_of(file)?, n + 1))
        }
        fn prev_file(&self, file: &str) -> Option<String> {
            let n: u64 = file.get(2..)?.parse().ok()?;
            Some(format!(
                "{}.{:04}",
                self.branch_of(file)?,
                n.checked_sub(1)?
            ))
        }
        fn file_start(&self, file: &str) -> Option<String> {
            let n: u64 = file.get(2..)?.parse().ok()?;
            Some((n * 100).to_string())
        }
        fn file_order(&self, file: &str) -> Option<String> {
            let n = file.get(2..6)?;
            n.bytes().all(|b| b.is_ascii_digit()).then(|| n.to_string())
        }
        fn commits(&self, _: &Path, _: &str, _: &str) -> Option<Vec<super::Commit>> {
            None
        }
    }
}

#[cfg(test)]
mod exposure_tests {
    use super::testing::{archive, put};
    use super::*;

    fn file(name: &str, last: Option<&str>, gtid: Option<&str>) -> LogFile {
        LogFile {
            name: name.into(),
            size: 1,
            sha256: String::new(),
            archived_at: "2026-12-01T00:00:00Z".into(),
            first_commit: last.map(str::to_string),
            last_commit: last.map(str::to_string),
            last_commit_position: None,
            scanned: true,
            first_transaction: None,
            last_transaction: gtid.map(str::to_string),
        }
    }

    #[test]
    fn what_losing_the_data_now_would_lose() {
        let (_root, layout, d) = archive();
        put(
            &d,
            &file("1.0001", Some("2026-12-01T10:00:00Z"), None),
            true,
        );
        put(
            &d,
            &file("1.0002", Some("2026-12-01T10:05:00Z"), Some("0-1-9")),
            true,
        );
        put(&d, &file("1.0003", None, None), true);
        let e = |t: Option<&str>, g: Option<&str>| exposure(&layout, "db", t, g);
        // The server cannot say: unknown.
        assert_eq!(e(None, None), None);
        // Its newest commit is the archive's: nothing at risk, however old.
        let idle = e(Some("2026-12-01T10:05:00Z"), None).unwrap();
        assert_eq!(idle.at_risk_since, None);
        assert_eq!(
            idle.archived_through.as_deref(),
            Some("2026-12-01T10:05:00Z")
        );
        // Nothing committed since it started.
        assert_eq!(e(Some(""), None).unwrap().at_risk_since, None);
        // A later commit: at risk since the archive's newest.
        assert_eq!(
            e(Some("2026-12-01T10:07:00Z"), None)
                .unwrap()
                .at_risk_since
                .as_deref(),
            Some("2026-12-01T10:05:00Z")
        );
        // By transaction name: the archive holds the newest, or it does not.
        assert_eq!(e(None, Some("0-1-9")).unwrap().at_risk_since, None);
        assert!(e(None, Some("0-1-12")).unwrap().at_risk_since.is_some());
        assert_eq!(e(None, Some("")).unwrap().at_risk_since, None);
    }
}
