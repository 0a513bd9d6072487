//! The plain backend: copies, reflinked where the filesystem can, with unchanged files
//! hard-linked from the previous snapshot.

use super::{CaptureStats, Previous, Storage};
use anyhow::{Context, Result};
use std::fs::{File, Metadata, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

pub struct Plain;

pub fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec())
}

/// FICLONE: share the source's blocks (btrfs, XFS); fails elsewhere and we copy instead.
const FICLONE: nix::libc::c_ulong = 0x4004_9409;

/// Copies one file (reflink when possible), keeping mode and owner. Ok(None) when the source
/// vanished (a live database drops files while it is copied).
pub fn copy_file(src: &Path, dst: &Path) -> Result<Option<u64>> {
    copy_file_owned(src, dst, None)
}

/// [`copy_file`] of a file that must belong to `owner` (when given): a tree another user
/// controls may have a link or another's file swapped in, and root copies only that user's
/// own files out of it. Anything but a regular file is skipped.
///
/// # Errors
/// The file belongs to someone else, or cannot be copied.
pub fn copy_file_owned(src: &Path, dst: &Path, owner: Option<u32>) -> Result<Option<u64>> {
    let Some((mut s, meta)) = open_owned(src, owner)? else {
        return Ok(None);
    };
    let mut d = create_like(dst, &meta)?;
    // SAFETY: both descriptors are open for the duration of the call.
    let cloned = unsafe { nix::libc::ioctl(d.as_raw_fd(), FICLONE as _, s.as_raw_fd()) } == 0;
    let bytes = if cloned {
        meta.len()
    } else {
        std::io::copy(&mut s, &mut d)?
    };
    Ok(Some(bytes))
}

/// Opens `src` to copy it: never through a link (one swapped in after a listing belongs to
/// whoever controls the tree). Ok(None) when it vanished (a live database drops files while
/// it is copied) or is not a regular file; with `owner`, it must be that user's.
///
/// # Errors
/// The file belongs to someone else, or cannot be opened.
pub fn open_owned(src: &Path, owner: Option<u32>) -> Result<Option<(File, Metadata)>> {
    let s = match OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(src)
    {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("opening {}", src.display())),
    };
    let meta = s.metadata()?;
    if !meta.is_file() {
        return Ok(None);
    }
    if owner.is_some_and(|o| o != meta.uid()) {
        anyhow::bail!(
            "{} belongs to uid {}, not the instance's: refusing to copy it",
            src.display(),
            meta.uid()
        );
    }
    Ok(Some((s, meta)))
}

/// Creates `dst` (never over an existing file or link) with the mode and owner in `meta`.
///
/// # Errors
/// The file cannot be created.
pub fn create_like(dst: &Path, meta: &Metadata) -> Result<File> {
    let d = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dst)
        .with_context(|| format!("creating {}", dst.display()))?;
    d.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let _ = nix::unistd::fchown(
        d.as_raw_fd(),
        Some(meta.uid().into()),
        Some(meta.gid().into()),
    );
    Ok(d)
}

fn copy_dir_meta(src: &Path, dst: &Path) -> Result<()> {
    let meta = std::fs::metadata(src)?;
    // The top may already exist (a btrfs subvolume made to receive the copy).
    if !dst.is_dir() {
        std::fs::create_dir(dst).with_context(|| format!("creating {}", dst.display()))?;
    }
    std::fs::set_permissions(dst, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let _ = nix::unistd::chown(dst, Some(meta.uid().into()), Some(meta.gid().into()));
    Ok(())
}

/// A file a tree walk leaves to its caller to copy.
pub struct FileJob {
    pub src: PathBuf,
    pub dst: PathBuf,
    pub rel: String,
    /// Its size when it was listed.
    pub size: u64,
    /// The previous snapshot's copy of it, when the live file looks unchanged since: shared
    /// by a hard link only once that copy is proven to still hold what its manifest says
    /// ([`reuse_verified`]); a damaged one is never carried into a new snapshot.
    pub reuse: Option<(PathBuf, crate::agent::manifest::Entry)>,
}

/// Links `dst` to the previous snapshot's copy `old` after reading it back against its
/// manifest `entry`; false (nothing made) when it does not match, so the caller copies the
/// live file afresh. A damaged copy in one snapshot must not make every later one fail.
pub fn reuse_verified(old: &Path, entry: &crate::agent::manifest::Entry, dst: &Path) -> bool {
    use super::packed::{read_content, Content};
    let whole = matches!(
        read_content(old, entry.compressed.is_some(), None),
        Ok(Content::Read(size, ref sum)) if size == entry.size && *sum == entry.sha256
    );
    whole && std::fs::hard_link(old, dst).is_ok()
}

/// What became of one file a walk handed over.
pub enum Handled {
    /// Copied: this many bytes.
    Copied(u64),
    /// Shared with the previous snapshot: this many bytes of content.
    Shared(u64),
    /// Not copied: it vanished, or its copy is left for later and counted there.
    Later,
}

/// Recursively copies `src` into `dst` (absent). `rel` is the path below the top. With
/// `owner`, every file copied must belong to that uid (see [`copy_file_owned`]).
pub fn copy_tree(
    src: &Path,
    dst: &Path,
    rel: &str,
    skip: &dyn Fn(&str) -> bool,
    previous: Option<&Previous>,
    stats: &mut CaptureStats,
    owner: Option<u32>,
) -> Result<()> {
    walk_tree(src, dst, rel, skip, previous, stats, &mut |j| {
        if let Some((old, entry)) = &j.reuse {
            if reuse_verified(old, entry, &j.dst) {
                return Ok(Handled::Shared(j.size));
            }
        }
        Ok(copy_file_owned(&j.src, &j.dst, owner)?.map_or(Handled::Later, Handled::Copied))
    })
}

/// Makes `dst` (absent) the tree of `src`: directories and links as they are, and every
/// regular file handed to `copy` (with the previous snapshot's copy to share, when it looks
/// unchanged since `previous`), which says what it did with it.
pub fn walk_tree(
    src: &Path,
    dst: &Path,
    rel: &str,
    skip: &dyn Fn(&str) -> bool,
    previous: Option<&Previous>,
    stats: &mut CaptureStats,
    copy: &mut dyn FnMut(FileJob) -> Result<Handled>,
) -> Result<()> {
    copy_dir_meta(src, dst)?;
    let entries = match std::fs::read_dir(src) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", src.display())),
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let child_rel = if rel.is_empty() {
            name.to_string_lossy().into_owned()
        } else {
            format!("{rel}/{}", name.to_string_lossy())
        };
        if skip(&child_rel) {
            continue;
        }
        let Ok(ft) = e.file_type() else { continue };
        let (s, d) = (e.path(), dst.join(&name));
        if ft.is_dir() {
            walk_tree(&s, &d, &child_rel, skip, previous, stats, copy)?;
        } else if ft.is_file() {
            // Stat before copying: a write during the copy then changes the mtime, and the next
            // snapshot copies the file again instead of sharing a copy that may predate it.
            let Ok(meta) = std::fs::metadata(&s) else {
                continue;
            };
            let mtime = mtime_ns(&meta);
            let reuse = previous
                .filter(|p| p.unchanged(&child_rel, meta.len(), mtime))
                .and_then(|p| {
                    let entry = p.manifest.files.get(&child_rel)?.clone();
                    Some((p.data.join(&child_rel), entry))
                });
            stats.mtimes.insert(child_rel.clone(), mtime);
            let job = FileJob {
                src: s,
                dst: d,
                rel: child_rel,
                size: meta.len(),
                reuse,
            };
            match copy(job)? {
                Handled::Copied(n) => {
                    stats.files += 1;
                    stats.bytes += n;
                }
                Handled::Shared(n) => {
                    stats.files += 1;
                    stats.shared += 1;
                    stats.bytes += n;
                }
                Handled::Later => {}
            }
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&s)?;
            std::os::unix::fs::symlink(target, &d)?;
        }
    }
    Ok(())
}

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

/// A full, independent copy of `src` at `dst` (reflinked where possible, never hard linked).
pub fn copy_all(src: &Path, dst: &Path) -> Result<()> {
    copy_tree(
        src,
        dst,
        "",
        &|_| false,
        None,
        &mut CaptureStats::default(),
        None,
    )
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
            &mut super::super::packed::open(&second.join("base/changed"), true).unwrap(),
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
            &mut super::super::packed::open(&third.join("base/same"), true).unwrap(),
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
