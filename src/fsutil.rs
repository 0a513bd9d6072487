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
    if let Some(parent) = path.parent() {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Free space, in whole GiB, on the filesystem holding `path`.
///
/// # Errors
/// statvfs fails on the path.
pub fn free_gb(path: &Path) -> Result<u64> {
    let st =
        nix::sys::statvfs::statvfs(path).with_context(|| format!("statvfs {}", path.display()))?;
    #[allow(clippy::unnecessary_cast)]
    let bytes = st.blocks_available() as u64 * st.fragment_size() as u64;
    Ok(bytes / (1 << 30))
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
