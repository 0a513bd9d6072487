//! The plain backend: copies, reflinked where the filesystem can, with unchanged files
//! hard-linked from the previous snapshot.

use super::walk::{copy_all, copy_tree};
use super::{CaptureStats, Previous, Storage};
use anyhow::{Context, Result};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub struct Plain;

/// A capture by copying: only files of the live tree's own user, unchanged ones shared with
/// `previous`.
///
/// # Errors
/// A file is not the tree's owner's, or cannot be copied.
pub fn capture_copy(
    source: &Path,
    target: &Path,
    skip: &dyn Fn(&str) -> bool,
    previous: Option<Previous>,
) -> Result<CaptureStats> {
    let mut stats = CaptureStats::default();
    let owner = std::fs::metadata(source)?.uid();
    copy_tree(
        source,
        target,
        "",
        skip,
        previous.as_ref(),
        &mut stats,
        Some(owner),
    )?;
    Ok(stats)
}

impl Storage for Plain {
    fn name(&self) -> &'static str {
        "plain"
    }

    fn create_volume(&self, path: &Path) -> Result<()> {
        std::fs::create_dir(path).with_context(|| format!("creating {}", path.display()))
    }

    fn remove_tree(&self, path: &Path) -> Result<()> {
        match std::fs::remove_dir_all(path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", path.display()))
            }
            _ => Ok(()),
        }
    }

    /// Compressed: see [`super::packed`].
    fn capture(
        &self,
        source: &Path,
        target: &Path,
        skip: &dyn Fn(&str) -> bool,
        previous: Option<Previous>,
    ) -> Result<CaptureStats> {
        super::packed::capture(source, target, skip, previous)
    }

    /// Nothing to make read-only here: a sealed snapshot is one whose every byte is on disk
    /// (most are by now: writeback started as each file was written).
    fn seal(&self, path: &Path) -> Result<()> {
        super::durable::sync_tree(path)
    }

    fn clone_tree(&self, source: &Path, target: &Path) -> Result<()> {
        // Never hard links here: a clone's files must not be the snapshot's files.
        copy_all(source, target)
    }

    /// One pass: each file copied and hashed on the way (on several threads), so the
    /// snapshot is read once.
    fn clone_checked(
        &self,
        source: &Path,
        target: &Path,
        m: &crate::agent::manifest::Manifest,
    ) -> Result<Vec<String>> {
        Ok(super::checked::copy_checked(source, target, m)?.problems)
    }

    fn clones_share_blocks(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::manifest::{Entry, Manifest};

    #[test]
    fn shares_unchanged_files_and_copies_changed_ones() {
        let live = tempfile::tempdir().unwrap();
        std::fs::create_dir(live.path().join("base")).unwrap();
        std::fs::write(live.path().join("base/same"), b"aaaa").unwrap();
        std::fs::write(live.path().join("base/changed"), b"bbbb").unwrap();
        std::fs::write(live.path().join("postmaster.pid"), b"1").unwrap();
        let snaps = tempfile::tempdir().unwrap();
        let first = snaps.path().join("one");
        let skip = |rel: &str| rel == "postmaster.pid";
        let s1 = Plain.capture(live.path(), &first, &skip, None).unwrap();
        assert_eq!((s1.files, s1.shared), (2, 0));
        assert!(!first.join("postmaster.pid").exists());
        let mut m = Manifest::default();
        for rel in ["base/same", "base/changed"] {
            let meta = std::fs::metadata(live.path().join(rel)).unwrap();
            let p = &s1.packed[rel];
            m.files.insert(
                rel.into(),
                Entry {
                    size: meta.len(),
                    sha256: p.sha256.clone(),
                    source_mtime_ns: i128::from(meta.mtime()) * 1_000_000_000
                        + i128::from(meta.mtime_nsec()),
                    compressed: Some(p.stored),
                },
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(live.path().join("base/changed"), b"cccc").unwrap();
        let second = snaps.path().join("two");
        let prev = Previous {
            data: &first,
            manifest: &m,
            captured_at_ns: i128::MAX / 2,
        };
        let s2 = Plain
            .capture(live.path(), &second, &skip, Some(prev))
            .unwrap();
        assert_eq!((s2.files, s2.shared), (2, 1));
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert_eq!(
            ino(&first.join("base/same")),
            ino(&second.join("base/same"))
        );
        assert_ne!(
            ino(&first.join("base/changed")),
            ino(&second.join("base/changed"))
        );
        // Stored compressed, with what the capture learned on the way.
        let p = &s2.packed["base/changed"];
        assert_eq!(p.size, 4);
        let mut back = Vec::new();
        std::io::Read::read_to_end(
            &mut super::super::content::open(&second.join("base/changed"), true).unwrap(),
            &mut back,
        )
        .unwrap();
        assert_eq!(back, b"cccc");
        // A copy in the previous snapshot damaged after it was taken is never shared: the
        // next snapshot stores the live file afresh, and reads back whole.
        let stored = first.join("base/same");
        let mut bytes = std::fs::read(&stored).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::remove_file(&stored).unwrap();
        std::fs::write(&stored, &bytes).unwrap();
        let third = snaps.path().join("three");
        let s3 = Plain
            .capture(live.path(), &third, &skip, Some(prev))
            .unwrap();
        assert_eq!(s3.shared, 0);
        assert_ne!(ino(&first.join("base/same")), ino(&third.join("base/same")));
        let mut back = Vec::new();
        std::io::Read::read_to_end(
            &mut super::super::content::open(&third.join("base/same"), true).unwrap(),
            &mut back,
        )
        .unwrap();
        assert_eq!(back, b"aaaa");
        // A clone never shares inodes with the snapshot.
        let clone = snaps.path().join("clone");
        Plain.clone_tree(&second, &clone).unwrap();
        assert_ne!(
            ino(&clone.join("base/same")),
            ino(&second.join("base/same"))
        );
    }
}
