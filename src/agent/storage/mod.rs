//! Storage backends: how data directories, snapshots and clones are laid down on disk.

pub mod btrfs;
pub mod checked;
pub mod content;
pub mod durable;
pub mod files;
pub mod packed;
pub mod parallel;
pub mod plain;
pub mod walk;

use super::manifest::Manifest;
use anyhow::Result;
use std::path::Path;

/// What a capture did, for the snapshot's record.
#[derive(Debug, Default, Clone)]
pub struct CaptureStats {
    pub files: u64,
    pub bytes: u64,
    /// Files shared with the previous snapshot instead of copied.
    pub shared: u64,
    /// Each captured file's mtime, read before it was copied.
    pub mtimes: std::collections::HashMap<String, i128>,
    /// The files the capture stored compressed, with what it learned copying them.
    pub packed: std::collections::HashMap<String, packed::Packed>,
}

/// The snapshot an incremental capture may share unchanged files with.
#[derive(Clone, Copy)]
pub struct Previous<'a> {
    pub data: &'a Path,
    pub manifest: &'a Manifest,
    /// When that capture began (ns since the epoch).
    pub captured_at_ns: i128,
}

/// How long a file must have been unchanged before a capture for a later capture to treat it
/// as the same file: mtime granularity could otherwise hide a write made just after a stat.
const QUIET_NS: i128 = 2_000_000_000;

impl Previous<'_> {
    /// Whether the live file at `rel`, of `size` and `mtime_ns` now, is exactly what the
    /// previous capture holds, so that its copy (and checksum) can be shared.
    pub fn unchanged(&self, rel: &str, size: u64, mtime_ns: i128) -> bool {
        self.manifest.files.get(rel).is_some_and(|e| {
            e.size == size
                && e.source_mtime_ns == mtime_ns
                && mtime_ns != 0
                && mtime_ns < self.captured_at_ns - QUIET_NS
        })
    }
}

pub trait Storage {
    fn name(&self) -> &'static str;

    /// Creates the empty directory a data directory will live in (a subvolume on btrfs).
    ///
    /// # Errors
    /// The directory cannot be created.
    fn create_volume(&self, path: &Path) -> Result<()>;

    /// Removes a tree, subvolumes (read-only ones too) included. A missing path is success.
    ///
    /// # Errors
    /// Something in the tree cannot be removed.
    fn remove_tree(&self, path: &Path) -> Result<()>;

    /// Makes `target` (absent) a point-in-time copy of the live `source`, leaving out paths
    /// for which `skip` says so and sharing files unchanged since `previous`.
    ///
    /// # Errors
    /// The copy or snapshot fails.
    fn capture(
        &self,
        source: &Path,
        target: &Path,
        skip: &dyn Fn(&str) -> bool,
        previous: Option<Previous>,
    ) -> Result<CaptureStats>;

    /// Makes a finished snapshot tree read-only where the backend can.
    ///
    /// # Errors
    /// The backend's tool fails.
    fn seal(&self, path: &Path) -> Result<()>;

    /// Makes `target` (absent) a writable copy of the sealed snapshot tree `source`.
    ///
    /// # Errors
    /// The copy or snapshot fails.
    fn clone_tree(&self, source: &Path, target: &Path) -> Result<()>;

    /// Makes `target` (absent) a writable copy of the snapshot tree `source` and checks it
    /// against the snapshot's manifest, reading each byte of the snapshot at most once.
    /// Returns one line per problem (empty: the copy is the snapshot). By default, for
    /// copy-on-write clones, presence and sizes are checked before and after: the
    /// filesystem checksums every block it reads.
    ///
    /// # Errors
    /// The copy fails.
    fn clone_checked(&self, source: &Path, target: &Path, m: &Manifest) -> Result<Vec<String>> {
        let before = m.check(source, false, &[])?;
        if !before.is_empty() {
            return Ok(before);
        }
        self.clone_tree(source, target)?;
        m.check(target, false, &[])
    }

    /// Makes `path` a writable directory that receives a copied tree (a subvolume on btrfs,
    /// so that clones of what lands there are snapshots).
    ///
    /// # Errors
    /// The directory cannot be created.
    fn receive_into(&self, path: &Path) -> Result<()> {
        self.create_volume(path)
    }

    /// Whether a capture of live directory `source` is one atomic copy of it (a btrfs
    /// snapshot of its subvolume), so an engine may suspend writes just for that instant.
    fn captures_atomically(&self, _source: &Path) -> bool {
        false
    }

    /// Whether clones are copy-on-write of the snapshot (then a full re-read of the clone to
    /// check it proves nothing the filesystem's own checksums do not).
    fn clones_share_blocks(&self) -> bool;
}

/// The backend for a root: `configured` is dbhost.toml's `storage` (auto, plain, btrfs).
///
/// # Errors
/// btrfs is asked for where the root is not on btrfs, or the setting is unknown.
pub fn select(root: &Path, configured: &str) -> Result<Box<dyn Storage>> {
    let fs = crate::fsutil::fs_type(root);
    match configured {
        "auto" if fs == "btrfs" => Ok(Box::new(btrfs::Btrfs)),
        "auto" | "plain" => Ok(Box::new(plain::Plain)),
        "btrfs" if fs == "btrfs" => Ok(Box::new(btrfs::Btrfs)),
        "btrfs" => anyhow::bail!(
            "storage btrfs is configured but {} is on {fs}, not btrfs; put the root on a btrfs filesystem or set storage = \"plain\"",
            root.display()
        ),
        other => anyhow::bail!("unknown storage {other:?} in dbhost.toml; use auto, plain or btrfs"),
    }
}
