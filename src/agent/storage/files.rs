//! Copying and walking files as root without following links: open with the owner checked,
//! create like another, reflink when the filesystem can, walk a tree into file jobs.

use anyhow::{Context, Result};
use std::fs::{File, Metadata, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;

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

pub(super) fn copy_dir_meta(src: &Path, dst: &Path) -> Result<()> {
    let meta = std::fs::metadata(src)?;
    // The top may already exist (a btrfs subvolume made to receive the copy).
    if !dst.is_dir() {
        std::fs::create_dir(dst).with_context(|| format!("creating {}", dst.display()))?;
    }
    std::fs::set_permissions(dst, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let _ = nix::unistd::chown(dst, Some(meta.uid().into()), Some(meta.gid().into()));
    Ok(())
}
