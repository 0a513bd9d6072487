//! How far an unbroken chain of archived files reaches after each snapshot, in positions and
//! in commit times, and where a position target lies against it.

use super::{dir, marks, start_file, LogFile, LogFormat, Mark};
use crate::agent::layout::Layout;
use crate::wire::logs::{Coverage, CoverageSpec, Place, SnapshotReach};
use anyhow::{Context, Result};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn max_time<'a>(times: impl Iterator<Item = &'a String>) -> Option<String> {
    times
        .filter_map(|t| crate::times::parse(t).map(|p| (p, t)))
        .max_by_key(|(p, _)| *p)
        .map(|(_, t)| t.clone())
}

/// For each snapshot, how far an unbroken chain of archived files reaches after it.
///
/// # Errors
/// A position is malformed (the target's is bad input).
pub fn coverage(layout: &Layout, spec: &CoverageSpec, format: &dyn LogFormat) -> Result<Coverage> {
    match &spec.given {
        Some(given) => coverage_in(
            &given.files,
            None,
            &BTreeSet::new(),
            &given.marks,
            spec,
            format,
        ),
        None => {
            let d = dir(layout, &spec.instance);
            coverage_in(
                &super::list(layout, &spec.instance)?,
                Some(&d),
                &super::damaged(layout, &spec.instance),
                &marks(layout, &spec.instance),
                spec,
                format,
            )
        }
    }
}

/// Coverage of the archived `files` (in directory `d`, when they are on this host), less
/// the `damaged` ones: holes, even with nothing archived past them, since what they held
/// was committed.
fn coverage_in(
    files: &[LogFile],
    d: Option<&Path>,
    damaged: &BTreeSet<String>,
    marks: &[Mark],
    spec: &CoverageSpec,
    format: &dyn LogFormat,
) -> Result<Coverage> {
    let invalid = |message: String| {
        anyhow::Error::new(crate::wire::WireError {
            code: crate::wire::ErrorCode::InvalidInput,
            message,
            hint: Some(format.position_hint().into()),
        })
    };
    let target = match &spec.target {
        Some(t) if format.is_transaction_id(t) => {
            let Some(d) = d else {
                return Err(invalid(format!(
                    "transaction {t} can be found only in a host's log archive, not in a repository's records"
                )));
            };
            // A transaction is where its commit ends, as the archive holds it.
            Some(format.find_transaction(d, t).ok_or_else(|| {
                invalid(format!(
                    "transaction {t} is not in the log archive of {}",
                    spec.instance
                ))
            })?)
        }
        Some(t) => Some(
            format
                .parse_position(t)
                .ok_or_else(|| invalid(format!("`{t}` is not a log position")))?,
        ),
        None => None,
    };
    let by_name: BTreeMap<&str, &LogFile> = files
        .iter()
        .filter(|f| format.in_chain(&f.name))
        .map(|f| (f.name.as_str(), f))
        .collect();
    let newest_branch = by_name.keys().filter_map(|n| format.branch_of(n)).max();
    let mut reaches = Vec::new();
    for q in &spec.snapshots {
        let (covered, cur) = chain_from(&by_name, format, q)?;
        let (branch, order) = (format.branch_of(&cur), format.file_order(&cur));
        let later_exists = by_name
            .keys()
            .any(|n| format.branch_of(n) == branch && format.file_order(n) > order);
        let until_position = match covered.last() {
            Some(last) => format
                .next_file(&last.name)
                .and_then(|n| format.file_start(&n))
                .unwrap_or_default(),
            None => q.position.clone(),
        };
        let place = target.as_ref().map(|t| {
            if format.compare(t, &q.position) == Ordering::Less {
                Place::Before
            } else if format.compare(t, &until_position) == Ordering::Greater {
                Place::After
            } else {
                Place::Within
            }
        });
        reaches.push(SnapshotReach {
            snapshot: q.snapshot.clone(),
            until_time: max_time(covered.iter().filter_map(|f| f.last_commit.as_ref())),
            until_commit_position: covered
                .iter()
                .rev()
                .find_map(|f| f.last_commit_position.clone()),
            unscanned: covered.iter().find(|f| !f.scanned).map(|f| f.name.clone()),
            complete_until: max_time(
                marks
                    .iter()
                    .filter(|m| covered.iter().any(|f| f.name == m.segment))
                    .map(|m| &m.before),
            ),
            until_position,
            gap: (later_exists || damaged.contains(&cur)).then_some(cur),
            on_newest_branch: newest_branch.is_none_or(|b| q.branch >= b),
            target: place,
        });
    }
    let first_time = files
        .iter()
        .filter_map(|f| f.first_commit.as_ref())
        .filter_map(|t| crate::times::parse(t).map(|p| (p, t)))
        .min_by_key(|(p, _)| *p)
        .map(|(_, t)| t.clone());
    Ok(Coverage {
        snapshots: reaches,
        segments: by_name.len() as u64,
        first_segment: by_name.keys().next().map(|s| s.to_string()),
        last_segment: by_name.keys().last().map(|s| s.to_string()),
        first_time,
        last_time: max_time(files.iter().filter_map(|f| f.last_commit.as_ref())),
        target,
    })
}

/// The unbroken chain of files from snapshot `q`'s position on, and the first file it lacks.
pub(super) fn chain_from<'a>(
    by_name: &BTreeMap<&str, &'a LogFile>,
    format: &dyn LogFormat,
    q: &crate::wire::logs::SnapshotStart,
) -> Result<(Vec<&'a LogFile>, String)> {
    let mut cur = start_file(format, q)?;
    let mut covered = Vec::new();
    while let Some(f) = by_name.get(cur.as_str()) {
        covered.push(*f);
        cur = format.next_file(&cur).context("log file arithmetic")?;
    }
    Ok((covered, cur))
}

/// How many commits the unbroken chain from snapshot `q` holds after time `after`: what a
/// restore to `after` leaves in the archive. Read with the engine's own log reader from
/// plain copies in a private scratch directory (the archive keeps older files compressed);
/// None when a file does not decode or the reader cannot run.
pub fn commits_after(
    layout: &Layout,
    instance: &str,
    q: &crate::wire::logs::SnapshotStart,
    format: &dyn LogFormat,
    after: &str,
) -> Option<u64> {
    let files = super::list(layout, instance).ok()?;
    let by_name: BTreeMap<&str, &LogFile> = files
        .iter()
        .filter(|f| format.in_chain(&f.name))
        .map(|f| (f.name.as_str(), f))
        .collect();
    let (covered, _) = chain_from(&by_name, format, q).ok()?;
    let later = |t: &Option<String>| t.as_deref().is_some_and(|t| super::later_than(t, after));
    // (Asked only when the chain's end is past `after`: a chain here without a later commit
    // is not the one replayed, so it says nothing.)
    let first = covered.iter().position(|f| later(&f.last_commit))?;
    // A commit record may start in the file before (its time is then no later than `after`
    // only if it belongs before it: the time decides, not the file).
    let from = if format.records_span_files() {
        first.saturating_sub(1)
    } else {
        first
    };
    let d = dir(layout, instance);
    let scratch = tempfile::Builder::new()
        .prefix(".counting-")
        .tempdir_in(layout.logs_root())
        .ok()?;
    for f in &covered[from..] {
        match crate::agent::storage::content::read_any(
            &d.join(&f.name),
            Some(&scratch.path().join(&f.name)),
        )
        .ok()?
        {
            crate::agent::storage::content::Content::Read(..) => {}
            crate::agent::storage::content::Content::Damaged(_) => return None,
        }
    }
    let last = covered.last()?;
    let commits = format.commits(scratch.path(), &covered[from].name, &last.name)?;
    Some(
        commits
            .iter()
            .filter(|c| super::later_than(&c.time, after))
            .count() as u64,
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::{archive, put, Numbered};
    use super::super::{add_mark, list_dir};
    use super::*;
    use crate::wire::logs::SnapshotStart;

    #[test]
    fn coverage_follows_the_chain_and_names_the_first_gap() {
        let (_root, layout, d) = archive();
        for (n, t) in [
            ("1.0003", "2026-11-24T10:00:00Z"),
            ("1.0004", "2026-11-24T10:05:00.5Z"),
            ("1.0006", "2026-11-24T10:15:00Z"),
        ] {
            let f = LogFile {
                name: n.into(),
                last_commit: Some(t.into()),
                ..Default::default()
            };
            put(&d, &f, true);
        }
        // A sidecar whose file was deleted is no file.
        let gone = LogFile {
            name: "1.0005".into(),
            ..Default::default()
        };
        put(&d, &gone, false);
        add_mark(&layout, "db", "1.0004", "2026-11-24T10:06:00Z").unwrap();
        add_mark(&layout, "db", "1.0006", "2026-11-24T10:16:00Z").unwrap();
        let spec = |target: Option<&str>| CoverageSpec {
            instance: "db".into(),
            engine: "test".into(),
            snapshots: vec![SnapshotStart {
                snapshot: "s1".into(),
                position: "310".into(),
                branch: 1,
            }],
            target: target.map(str::to_string),
            given: None,
        };
        let c = coverage(&layout, &spec(None), &Numbered).unwrap();
        let r = &c.snapshots[0];
        assert_eq!(r.until_time.as_deref(), Some("2026-11-24T10:05:00.5Z"));
        assert_eq!(r.complete_until.as_deref(), Some("2026-11-24T10:06:00Z"));
        assert_eq!(r.until_position, "500");
        assert_eq!(r.gap.as_deref(), Some("1.0005"));
        assert!(r.on_newest_branch);
        assert_eq!(c.segments, 3);
        assert_eq!(c.last_time.as_deref(), Some("2026-11-24T10:15:00Z"));
        // A position target is placed against the chain by the engine's order.
        for (t, place) in [
            ("300", Place::Before),
            ("499", Place::Within),
            ("501", Place::After),
        ] {
            let c = coverage(&layout, &spec(Some(t)), &Numbered).unwrap();
            assert_eq!(c.snapshots[0].target, Some(place), "{t}");
        }
        let bad = coverage(&layout, &spec(Some("x/y")), &Numbered).unwrap_err();
        assert!(format!("{bad:#}").contains("not a log position"), "{bad:#}");

        // Records given instead of an archive (a repository's copy) reach as far, with no
        // archive on this host at all.
        let empty = tempfile::tempdir().unwrap();
        let elsewhere = Layout::new(empty.path());
        let mut given = spec(None);
        given.given = Some(crate::wire::logs::LogListing {
            files: list_dir(&d),
            marks: marks(&layout, "db"),
        });
        let g = coverage(&elsewhere, &given, &Numbered).unwrap();
        assert_eq!(g, c);
    }
}
