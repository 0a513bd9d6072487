//! Making a written tree durable without paying for it at the end. A snapshot or a clone is
//! only what it claims once its bytes are on disk: a host that loses power after a snapshot
//! was recorded would otherwise keep a manifest over empty files. Writing back is started
//! while each file is written (a few megabytes at a time, as PostgreSQL's own
//! `checkpoint_flush_after` does), so the disk works while the copy still decodes and
//! hashes, and the fsync of every file at the end mostly finds it already clean.

use super::parallel::in_parallel;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Writeback is started after every this many bytes written.
const FLUSH_AFTER: u64 = 8 << 20;

/// A file being written whose pages the kernel starts writing back as it goes (and the rest
/// when it is dropped): asked for, never waited on.
pub struct Written {
    file: File,
    written: u64,
    flushed: u64,
}

impl Written {
    /// Wraps a file opened for writing at its start.
    pub fn new(file: File) -> Self {
        Written {
            file,
            written: 0,
            flushed: 0,
        }
    }

    /// The file.
    pub fn file(&self) -> &File {
        &self.file
    }

    fn start_writeback(&mut self) {
        if self.written > self.flushed {
            // SAFETY: the descriptor is open for the call; the flag only starts I/O.
            unsafe {
                nix::libc::sync_file_range(
                    self.file.as_raw_fd(),
                    self.flushed as nix::libc::off64_t,
                    (self.written - self.flushed) as nix::libc::off64_t,
                    nix::libc::SYNC_FILE_RANGE_WRITE,
                );
            }
            self.flushed = self.written;
        }
    }
}

impl Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.flushed >= FLUSH_AFTER {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        self.start_writeback();
    }
}

/// Makes every file and directory under `root` durable (fsync, on several threads), the
/// directories after what they hold, and `root`'s parent last so that `root` itself is
/// there. Links are never followed: their entries are made durable with their directory.
///
/// # Errors
/// A file or directory cannot be opened or synced.
pub fn sync_tree(root: &Path) -> Result<()> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    list(root, &mut files, &mut dirs)?;
    in_parallel(&files, |p| sync_path(p))?;
    // Deepest first: a directory's entries are synced before the entry that names it.
    dirs.reverse();
    for d in &dirs {
        sync_path(d)?;
    }
    if let Some(parent) = root.parent() {
        sync_path(parent)?;
    }
    Ok(())
}

fn list(dir: &Path, files: &mut Vec<PathBuf>, dirs: &mut Vec<PathBuf>) -> Result<()> {
    dirs.push(dir.to_path_buf());
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let e = e?;
        let ft = e.file_type()?;
        if ft.is_dir() {
            list(&e.path(), files, dirs)?;
        } else if ft.is_file() {
            files.push(e.path());
        }
    }
    Ok(())
}

pub fn sync_path(p: &Path) -> Result<()> {
    File::options()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(p)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_through_and_syncs_a_tree_without_following_links() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("t");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        let mut w = Written::new(File::create(root.join("a/b/f")).unwrap());
        let body = vec![3u8; (FLUSH_AFTER as usize) * 2 + 5];
        for piece in body.chunks(1 << 20) {
            w.write_all(piece).unwrap();
        }
        assert_eq!(w.flushed, FLUSH_AFTER * 2, "writeback starts as it goes");
        drop(w);
        assert_eq!(std::fs::read(root.join("a/b/f")).unwrap(), body);
        // A dangling link is an entry of its directory, never opened.
        std::os::unix::fs::symlink("/nonexistent/target", root.join("a/l")).unwrap();
        sync_tree(&root).unwrap();
        assert!(sync_tree(&d.path().join("missing")).is_err());
    }
}
