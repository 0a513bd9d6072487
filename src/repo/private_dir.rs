//! A directory repository kept private as restic keeps its own: folders 0700, objects 0600.
//! rustic_backend's local backend makes them with the process's umask (0755/0644), so any
//! user on the machine could copy the repository away to attack its key offline. This
//! wraps that backend and narrows each folder it makes and each object it writes.

use bytes::Bytes;
use rustic_core::{BytesList, FileType, Id, ReadBackend, RusticResult, WriteBackend};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct PrivateDir {
    inner: rustic_backend::LocalBackend,
    root: PathBuf,
}

impl PrivateDir {
    /// # Errors
    /// The local backend refuses the path.
    pub fn new(root: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            inner: rustic_backend::LocalBackend::new(root.to_string_lossy(), [])?,
            root: root.to_path_buf(),
        })
    }

    /// Where the local backend keeps object `id` of kind `tpe` (restic's layout).
    fn path(&self, tpe: FileType, id: &Id) -> PathBuf {
        let hex = id.to_hex();
        match tpe {
            FileType::Config => self.root.join("config"),
            FileType::Pack => self.root.join("data").join(&hex[0..2]).join(&*hex),
            _ => self.root.join(tpe.dirname()).join(&*hex),
        }
    }
}

/// Narrows `path` to `mode`, never through a symlink (a link planted in the repository
/// would otherwise turn the chmod onto its target).
fn narrow(path: &Path, mode: u32) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() || meta.permissions().mode() & 0o7777 == mode {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Box<rustic_core::RusticError> {
    rustic_core::RusticError::with_source(
        rustic_core::ErrorKind::InputOutput,
        "Failed to make `{path}` private ({what}).",
        e,
    )
    .attach_context("path", path.display().to_string())
    .attach_context("what", what.to_string())
}

/// Narrows every folder under (and including) `root` to 0700 and every file to 0600.
///
/// # Errors
/// A folder cannot be read or a mode cannot be set.
pub fn narrow_tree(root: &Path) -> std::io::Result<()> {
    narrow(root, 0o700)?;
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            narrow_tree(&entry.path())?;
        } else if kind.is_file() {
            narrow(&entry.path(), 0o600)?;
        }
    }
    Ok(())
}

impl ReadBackend for PrivateDir {
    fn location(&self) -> String {
        self.inner.location()
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        self.inner.list_with_size(tpe)
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        self.inner.read_full(tpe, id)
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        self.inner.read_partial(tpe, id, cacheable, offset, length)
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        self.inner.warmup_path(tpe, id)
    }
}

impl WriteBackend for PrivateDir {
    fn create(&self) -> RusticResult<()> {
        self.inner.create()?;
        narrow_tree(&self.root).map_err(|e| io_error("its folders", &self.root, e))
    }

    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        self.inner.write_bytes(tpe, id, cacheable, content)?;
        let path = self.path(tpe, id);
        narrow(&path, 0o600).map_err(|e| io_error("an object", &path, e))
    }

    fn remove(&self, tpe: FileType, id: &Id, cacheable: bool) -> RusticResult<()> {
        self.inner.remove(tpe, id, cacheable)
    }
}
