//! The repository tier's storage format: a restic-format repository (through rustic_core),
//! encrypted with a key dbctl generates, compressed (zstd) and deduplicated by content, every
//! object named by its own SHA-256. It is written object by object and never rewritten in
//! place, so a write-once bucket can hold it, and restic or rustic can read it in a disaster.

use anyhow::{Context, Result};
use rustic_core::repofile::MasterKey;
use rustic_core::{
    ConfigOptions, Credentials, KeyOptions, Repository, RepositoryBackends, RepositoryOptions,
};
use std::path::Path;
use std::sync::Arc;

/// rustic's error in one line: its most specific message (its errors print several
/// paragraphs: what failed, a message, details and causes, each with its own).
pub fn brief(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .iter()
        .rposition(|l| *l == "Message:")
        .and_then(|i| lines[i + 1..].iter().find(|l| !l.is_empty()))
        .or_else(|| lines.iter().find(|l| !l.is_empty()))
        .map_or_else(String::new, |l| l.to_string())
}

/// Whether directory `path` holds a repository (its config object).
pub fn is_repository_dir(path: &Path) -> bool {
    path.join("config").is_file()
}

/// A repository's key, as kept in the home's secrets (JSON).
pub fn new_key() -> Result<String> {
    Ok(serde_json::to_string(&MasterKey::new())?)
}

fn backends_for_dir(path: &Path) -> Result<RepositoryBackends> {
    let be = rustic_backend::LocalBackend::new(path.to_string_lossy(), [])
        .with_context(|| format!("opening {}", path.display()))?;
    Ok(RepositoryBackends::new(Arc::new(be), None))
}

fn credentials(key: &str) -> Result<Credentials> {
    let k: MasterKey = serde_json::from_str(key).context("the repository key is not readable")?;
    Ok(Credentials::Masterkey(k))
}

/// Makes a new, empty repository in directory `path` (created) with `key`; returns its id.
///
/// # Errors
/// The directory holds a repository already, or cannot be written.
pub fn init_dir(path: &Path, key: &str) -> Result<String> {
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    let repo = Repository::new(
        &RepositoryOptions::default().no_cache(true),
        &backends_for_dir(path)?,
    )?
    .init(
        &credentials(key)?,
        &KeyOptions::default(),
        &ConfigOptions::default(),
    )?;
    Ok(repo.config().id.to_string())
}

/// Opens the repository in directory `path` with `key`; returns its id and format version.
///
/// # Errors
/// No repository there, or the key does not open it.
pub fn open_dir(path: &Path, key: &str) -> Result<(String, u32)> {
    let repo = Repository::new(
        &RepositoryOptions::default().no_cache(true),
        &backends_for_dir(path)?,
    )?
    .open(&credentials(key)?)?;
    Ok((repo.config().id.to_string(), repo.config().version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_repository_opens_with_its_key_and_no_other() {
        let d = tempfile::tempdir().unwrap();
        let key = new_key().unwrap();
        let id = init_dir(&d.path().join("r"), &key).unwrap();
        let (again, version) = open_dir(&d.path().join("r"), &key).unwrap();
        assert_eq!((again, version), (id, 2));
        assert!(open_dir(&d.path().join("r"), &new_key().unwrap()).is_err());
        assert!(init_dir(&d.path().join("r"), &key).is_err());
    }

    #[test]
    fn a_rustic_error_is_told_by_its_last_message() {
        let e = anyhow::anyhow!(
            "`rustic_core` failed.\n\nMessage:\nerror processing Config\n\nCaused by:\nx\n\nMessage:\nMAC check failed.\n"
        );
        assert_eq!(brief(&e), "MAC check failed.");
        assert_eq!(brief(&anyhow::anyhow!("plain")), "plain");
    }
}
