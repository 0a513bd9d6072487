//! Secrets dbctl keeps (instance admin passwords, repository keys): 0600 files under a 0700
//! folder.

use anyhow::{Context, Result};
use rand::distributions::Alphanumeric;
use rand::Rng;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub struct Secrets {
    dir: PathBuf,
}

/// A new random password: 32 alphanumeric characters (no quoting needed anywhere).
pub fn generate() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

impl Secrets {
    pub fn new(home: &Path) -> Self {
        Self {
            dir: home.join("secrets"),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.password"))
    }

    /// Where the secret file `file` is (a repository key, which a user copies to another
    /// control machine).
    pub fn file(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Writes the secret file `file` (0600), never over one that exists.
    ///
    /// # Errors
    /// It exists, or the folder or file cannot be written.
    pub fn create_file(&self, file: &str, value: &str) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        self.make_dir()?;
        let p = self.file(file);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&p)
            .with_context(|| format!("creating {}", p.display()))?;
        f.write_all(value.as_bytes())?;
        f.sync_all()?;
        Ok(())
    }

    fn make_dir(&self) -> Result<()> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        Ok(())
    }

    /// # Errors
    /// The folder or file cannot be written.
    pub fn put(&self, key: &str, value: &str) -> Result<()> {
        self.make_dir()?;
        crate::fsutil::write_atomic(&self.path(key), value.as_bytes(), 0o600)
    }

    /// # Errors
    /// No secret is stored under `key`.
    pub fn get(&self, key: &str) -> Result<String> {
        let p = self.path(key);
        std::fs::read_to_string(&p).with_context(|| format!("reading the secret {}", p.display()))
    }

    pub fn remove(&self, key: &str) {
        let _ = std::fs::remove_file(self.path(key));
    }
}
