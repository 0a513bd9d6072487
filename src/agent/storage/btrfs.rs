//! The btrfs backend: data directories are subvolumes, snapshots are read-only snapshots,
//! clones are writable snapshots (constant time in the data size).

use super::plain::capture_copy;
use super::walk::copy_all;
use super::{CaptureStats, Previous, Storage};
use crate::agent::osuser::run_checked;
use anyhow::{Context, Result};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

pub struct Btrfs;

/// A btrfs subvolume's root directory always has inode number 256.
fn is_subvolume(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir() && m.ino() == 256)
}

fn btrfs(args: &[&std::ffi::OsStr], what: &str) -> Result<()> {
    run_checked(Command::new("btrfs").args(args), what).map(|_| ())
}

fn delete_subvolume(path: &Path) -> Result<()> {
    // A sealed snapshot is read-only; it must be made writable before it can be deleted.
    let _ = btrfs(
        &[
            "property".as_ref(),
            "set".as_ref(),
            "-ts".as_ref(),
            path.as_os_str(),
            "ro".as_ref(),
            "false".as_ref(),
        ],
        "btrfs property set",
    );
    btrfs(
        &["subvolume".as_ref(), "delete".as_ref(), path.as_os_str()],
        "btrfs subvolume delete",
    )
}

/// Removes every entry below `dir` that `skip` names (`rel` is `dir`'s path in the tree).
fn prune(dir: &Path, rel: &str, skip: &dyn Fn(&str) -> bool) -> Result<()> {
    for e in std::fs::read_dir(dir)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let is_dir = e.file_type()?.is_dir();
        if skip(&child) {
            if is_dir {
                std::fs::remove_dir_all(e.path())?;
            } else {
                std::fs::remove_file(e.path())?;
            }
        } else if is_dir {
            prune(&e.path(), &child, skip)?;
        }
    }
    Ok(())
}

impl Storage for Btrfs {
    fn name(&self) -> &'static str {
        "btrfs"
    }

    fn create_volume(&self, path: &Path) -> Result<()> {
        btrfs(
            &["subvolume".as_ref(), "create".as_ref(), path.as_os_str()],
            "btrfs subvolume create",
        )
    }

    fn remove_tree(&self, path: &Path) -> Result<()> {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return Ok(());
        };
        if !meta.is_dir() {
            return std::fs::remove_file(path)
                .with_context(|| format!("removing {}", path.display()));
        }
        if is_subvolume(path) {
            return delete_subvolume(path);
        }
        for e in std::fs::read_dir(path)?.flatten() {
            self.remove_tree(&e.path())?;
        }
        std::fs::remove_dir(path).with_context(|| format!("removing {}", path.display()))
    }

    fn capture(
        &self,
        source: &Path,
        target: &Path,
        skip: &dyn Fn(&str) -> bool,
        previous: Option<Previous>,
    ) -> Result<CaptureStats> {
        if !is_subvolume(source) {
            // Made before the root was on btrfs: copy, as the plain backend would.
            return capture_copy(source, target, skip, previous);
        }
        btrfs(
            &[
                "subvolume".as_ref(),
                "snapshot".as_ref(),
                source.as_os_str(),
                target.as_os_str(),
            ],
            "btrfs subvolume snapshot",
        )?;
        // The snapshot is atomic; what the engine says to leave out (files and whole
        // directories, such as a replication slot's) is removed from it after.
        prune(target, "", skip)?;
        let mut stats = CaptureStats::default();
        for rel in crate::agent::tree::files_under(target)? {
            stats.files += 1;
            stats.bytes += std::fs::metadata(target.join(&rel))
                .map(|m| m.len())
                .unwrap_or(0);
        }
        Ok(stats)
    }

    fn seal(&self, path: &Path) -> Result<()> {
        if is_subvolume(path) {
            btrfs(
                &[
                    "property".as_ref(),
                    "set".as_ref(),
                    "-ts".as_ref(),
                    path.as_os_str(),
                    "ro".as_ref(),
                    "true".as_ref(),
                ],
                "btrfs property set ro",
            )?;
        }
        Ok(())
    }

    fn clone_tree(&self, source: &Path, target: &Path) -> Result<()> {
        if is_subvolume(source) {
            return btrfs(
                &[
                    "subvolume".as_ref(),
                    "snapshot".as_ref(),
                    source.as_os_str(),
                    target.as_os_str(),
                ],
                "btrfs subvolume snapshot",
            );
        }
        self.create_volume(target)?;
        copy_all(source, target)
    }

    fn captures_atomically(&self, source: &Path) -> bool {
        is_subvolume(source)
    }

    fn clones_share_blocks(&self) -> bool {
        true
    }
}
