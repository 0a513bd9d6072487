//! Small filesystem helpers shared by both halves: atomic writes, free space, fs type.

use anyhow::{Context, Result};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Writes `data` to `path` through a temporary file, fsyncs it and renames it into place.
///
/// # Errors
/// Any I/O failure, with the path named.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
    sync_parent(path);
    Ok(())
}

/// Makes the entry naming `path` durable (after a rename into place), as far as the
/// filesystem lets a directory be synced.
pub fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent() {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
}

/// Replaces whatever is at `path` (a file, or a link someone planted) with a new file of
/// `mode` holding `data`. Never follows a link: the file is created with O_EXCL|O_NOFOLLOW, so
/// a link put back in between makes it fail instead of writing through it.
///
/// # Errors
/// The old entry cannot be removed or the new file cannot be created or written.
pub fn replace_file(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_dir()) {
        std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(data)
        .with_context(|| format!("writing {}", path.display()))?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Creates `path` (0600, never over anything there, never through a link) holding `data`,
/// synced: a secret written out for a person to keep.
///
/// # Errors
/// Something is at `path`, or it cannot be written.
pub fn create_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Reads a file that must not be a link (a file in a directory another user controls).
///
/// # Errors
/// The file is missing, is a link, or cannot be read.
pub fn read_no_follow(path: &Path) -> Result<String> {
    read_small_no_follow(path, u64::MAX)
}

/// Reads a regular file of at most `max` bytes without following a link or blocking on a
/// FIFO: what root reads from a directory another user controls.
///
/// # Errors
/// The file is missing, is not a regular file, is larger than `max`, or cannot be read.
pub fn read_small_no_follow(path: &Path, max: u64) -> Result<String> {
    use std::io::Read;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("opening {} (links are not followed)", path.display()))?;
    let meta = f.metadata()?;
    if !meta.is_file() || meta.len() > max {
        anyhow::bail!(
            "{} is not a regular file of at most {max} bytes",
            path.display()
        );
    }
    let mut text = String::new();
    f.take(max)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(text)
}

/// Free space, in whole GiB, on the filesystem holding `path`.
///
/// # Errors
/// statvfs fails on the path.
pub fn free_gb(path: &Path) -> Result<u64> {
    Ok(free_bytes(path)? / (1 << 30))
}

/// Bytes free for an unprivileged user on the filesystem holding `path`.
///
/// # Errors
/// statvfs fails on the path.
pub fn free_bytes(path: &Path) -> Result<u64> {
    let st =
        nix::sys::statvfs::statvfs(path).with_context(|| format!("statvfs {}", path.display()))?;
    #[allow(clippy::unnecessary_cast)]
    Ok(st.blocks_available() as u64 * st.fragment_size() as u64)
}

/// The filesystem type name of `path` ("btrfs", "ext4", ...), from /proc/self/mounts.
pub fn fs_type(path: &Path) -> String {
    let Ok(canon) = path.canonicalize() else {
        return "unknown".into();
    };
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else {
        return "unknown".into();
    };
    let mut best: (usize, String) = (0, "unknown".into());
    for line in mounts.lines() {
        let mut parts = line.split_whitespace();
        let (_, Some(mnt), Some(ty)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let mnt = mnt.replace("\\040", " ");
        if canon.starts_with(&mnt) && mnt.len() >= best.0 {
            best = (mnt.len(), ty.to_string());
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_a_planted_link_never_writes_through_it() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let link = d.path().join("pg_hba.conf");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(read_no_follow(&link).is_err());
        replace_file(&link, b"new", 0o600).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(&link).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(read_no_follow(&link).unwrap(), "new");
    }
}
