//! Archived files found not to match the checksum recorded when they were archived. Each is
//! a hole from then on, as if it were missing: never listed for replay or shipping, never
//! counted in how far the archive reaches, so no point past it is offered as restorable.

use super::{dir, read_sidecar, valid_file_name};
use crate::agent::layout::Layout;
use crate::agent::storage::content::{read_any, Content};
use anyhow::{Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Kept beside (not in) the archive directory, as the switch marks are: that directory
/// belongs to the database's OS user, who must not be able to clear a finding.
fn record_path(archive: &Path) -> Option<PathBuf> {
    let name = archive.file_name()?.to_str()?;
    Some(archive.parent()?.join(format!(".{name}.damaged")))
}

/// The damaged files of the archive in directory `archive`.
pub(crate) fn damaged_in(archive: &Path) -> BTreeSet<String> {
    record_path(archive)
        .and_then(|p| crate::fsutil::read_small_no_follow(&p, 1 << 20).ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// The damaged files of `instance`'s archive.
pub fn damaged(layout: &Layout, instance: &str) -> BTreeSet<String> {
    damaged_in(&dir(layout, instance))
}

/// Reads each of `names` (those the archive holds) back and compares it with its record;
/// records and returns those that do not match (or no longer decode).
///
/// # Errors
/// A name is not a log file's, or the finding cannot be recorded.
pub fn check(layout: &Layout, instance: &str, names: &[String]) -> Result<Vec<String>> {
    let d = dir(layout, instance);
    let mut bad = Vec::new();
    for name in names {
        valid_file_name(name)?;
        let Ok(record) = read_sidecar(&d, name) else {
            continue;
        };
        let path = d.join(name);
        if std::fs::symlink_metadata(&path).map_or(true, |m| !m.is_file()) {
            continue;
        }
        let intact = match read_any(&path, None) {
            Ok(Content::Read(size, sum)) => size == record.size && sum == record.sha256,
            Ok(Content::Damaged(_)) => false,
            Err(e) => return Err(e).with_context(|| format!("reading archived {name}")),
        };
        if !intact {
            bad.push(name.clone());
        }
    }
    if !bad.is_empty() {
        let mut all = damaged_in(&d);
        all.extend(bad.iter().cloned());
        record(&d, &all)?;
    }
    Ok(bad)
}

/// Records `name` in the archive directory `archive` as damaged: found so by a reader that
/// compared it with its record (a restore placing it).
pub(crate) fn mark(archive: &Path, name: &str) -> Result<()> {
    let mut all = damaged_in(archive);
    if all.insert(name.to_string()) {
        record(archive, &all)?;
    }
    Ok(())
}

/// Forgets findings about files no longer in the archive (pruned).
pub(crate) fn forget_gone(archive: &Path) {
    let all = damaged_in(archive);
    let left: BTreeSet<String> = all
        .iter()
        .filter(|n| std::fs::symlink_metadata(archive.join(n)).is_ok())
        .cloned()
        .collect();
    if left.len() != all.len() {
        let _ = record(archive, &left);
    }
}

/// Drops the record of an archive that is gone.
pub(crate) fn drop_record(archive: &Path) {
    if let Some(p) = record_path(archive) {
        let _ = std::fs::remove_file(p);
    }
}

fn record(archive: &Path, all: &BTreeSet<String>) -> Result<()> {
    let p = record_path(archive).context("an archive directory without a name")?;
    if all.is_empty() {
        let _ = std::fs::remove_file(&p);
        return Ok(());
    }
    crate::fsutil::write_atomic(&p, &serde_json::to_vec(all)?, 0o600)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{archive, put, Numbered};
    use super::super::{list, list_held, LogFile};
    use super::*;
    use crate::agent::manifest::sha256_file;

    #[test]
    fn a_file_that_no_longer_matches_its_record_becomes_a_hole() {
        let (_root, layout, d) = archive();
        for n in ["1.0003", "1.0004", "1.0005"] {
            std::fs::write(d.join(n), n.as_bytes()).unwrap();
            let f = LogFile {
                name: n.into(),
                size: n.len() as u64,
                sha256: sha256_file(&d.join(n)).unwrap(),
                ..Default::default()
            };
            put(&d, &f, false);
        }
        let names: Vec<String> = ["1.0003", "1.0004", "1.0005", "1.0009"]
            .map(String::from)
            .to_vec();
        assert!(check(&layout, "db", &names).unwrap().is_empty());
        // One byte changed after archiving.
        std::fs::write(d.join("1.0004"), b"1.0014").unwrap();
        assert_eq!(check(&layout, "db", &names).unwrap(), ["1.0004"]);
        let listed: Vec<String> = list(&layout, "db")
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(listed, ["1.0003", "1.0005"]);
        // Still held (never archived again over it, never left behind by a prune).
        assert_eq!(list_held(&layout, "db").unwrap().len(), 3);
        // The coverage stops before it.
        let spec = crate::wire::logs::CoverageSpec {
            instance: "db".into(),
            engine: "test".into(),
            snapshots: vec![crate::wire::logs::SnapshotStart {
                snapshot: "s".into(),
                position: "300".into(),
                branch: 1,
            }],
            target: None,
            given: None,
        };
        let c = super::super::coverage(&layout, &spec, &Numbered).unwrap();
        assert_eq!(c.snapshots[0].until_position, "400");
        assert_eq!(c.snapshots[0].gap.as_deref(), Some("1.0004"));
        // The newest file damaged is a hole too, with nothing archived past it: what it held
        // was committed, and `latest` must not quietly end before it.
        std::fs::write(d.join("1.0005"), b"1.0015").unwrap();
        mark(&d, "1.0005").unwrap();
        std::fs::write(d.join("1.0004"), b"1.0004").unwrap();
        record(&d, &["1.0005".to_string()].into()).unwrap();
        let c = super::super::coverage(&layout, &spec, &Numbered).unwrap();
        assert_eq!(c.snapshots[0].until_position, "500");
        assert_eq!(c.snapshots[0].gap.as_deref(), Some("1.0005"));
        std::fs::write(d.join("1.0004"), b"1.0014").unwrap();
        record(&d, &["1.0004".to_string(), "1.0005".to_string()].into()).unwrap();
        // A name that is no log file's is refused.
        assert!(check(&layout, "db", &["../x".into()]).is_err());
        // Once the file is gone, so is the finding.
        std::fs::remove_file(d.join("1.0004")).unwrap();
        forget_gone(&d);
        assert_eq!(damaged(&layout, "db"), ["1.0005".to_string()].into());
    }
}
