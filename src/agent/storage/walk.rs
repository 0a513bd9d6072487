//! Walking a tree to capture or copy it: each regular file handed on as a job (with the previous
//! snapshot's copy to share once it is proven the same), directories and links as they are.

use super::files::{copy_dir_meta, copy_file_owned, mtime_ns};
use super::{CaptureStats, Previous};
use anyhow::{Context, Result};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

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

/// Links `dst` to the previous snapshot's copy `old` after reading it back against its
/// manifest `entry`; false (nothing made) when it does not match, so the caller copies the
/// live file afresh. A damaged copy in one snapshot must not make every later one fail.
pub fn reuse_verified(old: &Path, entry: &crate::agent::manifest::Entry, dst: &Path) -> bool {
    use super::content::{read_content, Content};
    let whole = matches!(
        read_content(old, entry.compressed.is_some(), None),
        Ok(Content::Read(size, ref sum)) if size == entry.size && *sum == entry.sha256
    );
    whole && std::fs::hard_link(old, dst).is_ok()
}
