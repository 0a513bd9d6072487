//! Snapshot manifests: every file's size and SHA-256, and checking a tree against them.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

pub const FILE_NAME: &str = "manifest.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Relative path (from the snapshot's data directory) to entry.
    pub files: BTreeMap<String, Entry>,
    /// Symbolic links (relative path to target), each resolving inside the tree.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub links: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// Bytes of the content.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: String,
    /// The live file's mtime when it was captured: an unchanged file is shared with the next
    /// snapshot instead of copied again.
    #[serde(default)]
    pub source_mtime_ns: i128,
    /// Set when the file is stored compressed (see `storage::packed`): the bytes on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed: Option<u64>,
}

impl Entry {
    /// Bytes the file takes in the tree.
    pub fn stored(&self) -> u64 {
        self.compressed.unwrap_or(self.size)
    }
}

/// Hex SHA-256 of a file.
///
/// # Errors
/// The file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

impl Manifest {
    /// # Errors
    /// The manifest file is missing or unreadable.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// The manifest of a tree holding the same content uncompressed (a copy made from it).
    pub fn as_plain(&self) -> Manifest {
        let mut m = self.clone();
        for e in m.files.values_mut() {
            e.compressed = None;
        }
        m
    }

    pub fn total_bytes(&self) -> u64 {
        self.files.values().map(|e| e.size).sum()
    }

    /// Checks `dir` against the manifest. `full` reads and hashes every file; otherwise only
    /// presence and sizes are checked. Returns one line per problem (empty: all good).
    ///
    /// # Errors
    /// The directory cannot be listed.
    pub fn check(&self, dir: &Path, full: bool, skip: &[&str]) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let present = crate::agent::tree::files_under(dir)?;
        for rel in &present {
            if !self.files.contains_key(rel) && !skip.contains(&rel.as_str()) {
                problems.push(format!("{rel}: not in the manifest"));
            }
        }
        let links = crate::agent::links::links_under(dir)?;
        for (rel, to) in &links {
            match self.links.get(rel) {
                None => problems.push(format!("{rel}: a link not in the manifest")),
                Some(want) if Path::new(want) != to.as_path() => problems.push(format!(
                    "{rel}: a link to {} instead of {want}",
                    to.display()
                )),
                Some(_) => {}
            }
        }
        for rel in self.links.keys() {
            if !links.iter().any(|(r, _)| r == rel) {
                problems.push(format!("{rel}: link missing"));
            }
        }
        for (rel, e) in &self.files {
            if skip.contains(&rel.as_str()) {
                continue;
            }
            let p = dir.join(rel);
            let Ok(meta) = std::fs::metadata(&p) else {
                problems.push(format!("{rel}: missing"));
                continue;
            };
            if meta.len() != e.stored() {
                problems.push(format!(
                    "{rel}: size {} instead of {}",
                    meta.len(),
                    e.stored()
                ));
            } else if full {
                use crate::agent::storage::content::{read_content, Content};
                match read_content(&p, e.compressed.is_some(), None) {
                    Ok(Content::Read(size, sum)) if size == e.size && sum == e.sha256 => {}
                    Ok(Content::Read(..)) => problems.push(format!("{rel}: checksum mismatch")),
                    Ok(Content::Damaged(why)) => {
                        problems.push(format!("{rel}: checksum mismatch ({why})"));
                    }
                    Err(err) => problems.push(format!("{rel}: unreadable ({err:#})")),
                }
            }
        }
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_changed_missing_and_extra_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("base")).unwrap();
        std::fs::write(d.path().join("base/a"), b"hello").unwrap();
        std::fs::write(d.path().join("b"), b"world").unwrap();
        let mut m = Manifest::default();
        for rel in crate::agent::tree::files_under(d.path()).unwrap() {
            let p = d.path().join(&rel);
            m.files.insert(
                rel,
                Entry {
                    size: std::fs::metadata(&p).unwrap().len(),
                    sha256: sha256_file(&p).unwrap(),
                    source_mtime_ns: 0,
                    compressed: None,
                },
            );
        }
        assert!(m.check(d.path(), true, &[]).unwrap().is_empty());
        std::fs::write(d.path().join("base/a"), b"jello").unwrap();
        std::fs::remove_file(d.path().join("b")).unwrap();
        std::fs::write(d.path().join("c"), b"new").unwrap();
        let p = m.check(d.path(), true, &[]).unwrap();
        assert_eq!(
            p,
            [
                "c: not in the manifest",
                "b: missing",
                "base/a: checksum mismatch"
            ]
        );
        // A quick check sees sizes only.
        assert_eq!(m.check(d.path(), false, &["c"]).unwrap(), ["b: missing"]);
    }
}
