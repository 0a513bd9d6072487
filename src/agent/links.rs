//! Symbolic links in captured trees. A snapshot keeps a link only when it resolves inside the
//! snapshot itself (a tablespace moved into the data directory, say): a link out of it would
//! let a restored copy write into another instance's files, or let a database superuser make
//! dbhost, running as root, read or change any file on the host.

use anyhow::{Context, Result};
use std::path::{Component, Path, PathBuf};

/// Whether a link at `rel` (a path inside a tree) to `to` resolves inside that tree: relative,
/// some leading `..` that climb no higher than the tree's top, then plain names only.
pub fn stays_inside(rel: &str, to: &Path) -> bool {
    let mut depth = rel.split('/').filter(|p| !p.is_empty()).count() as i64 - 1;
    let mut names = 0;
    for c in to.components() {
        match c {
            Component::ParentDir if names == 0 => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::Normal(_) => names += 1,
            _ => return false,
        }
    }
    names > 0
}

/// Every symbolic link under `dir` (not followed), as (relative path, target), sorted.
///
/// # Errors
/// A directory cannot be read.
pub fn links_under(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    crate::agent::tree::entries_under(dir, &|ft| ft.is_symlink())?
        .into_iter()
        .map(|(rel, path)| Ok((rel, std::fs::read_link(path)?)))
        .collect()
}

/// Removes every link under `dir` that leads out of it. Returns the relative paths removed.
///
/// # Errors
/// The tree cannot be read or a link cannot be removed.
pub fn remove_escaping(dir: &Path) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for (rel, to) in links_under(dir)? {
        if !stays_inside(&rel, &to) {
            std::fs::remove_file(dir.join(&rel))
                .with_context(|| format!("removing the link {rel}"))?;
            removed.push(rel);
        }
    }
    Ok(removed)
}

/// Whether some directory between `dir` and `dir/rel` (exclusive) is a link: nothing is ever
/// written through one.
pub fn passes_through_link(dir: &Path, rel: &Path) -> bool {
    let mut p = dir.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for c in parts.iter().take(parts.len().saturating_sub(1)) {
        p.push(c);
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_links_that_stay_inside_are_kept() {
        let inside = |rel: &str, to: &str| stays_inside(rel, Path::new(to));
        assert!(inside("spaces/16384", "../kept/16384"));
        assert!(inside("a", "b/c"));
        assert!(!inside("a", "../b"));
        assert!(!inside("spaces/1", "../../x"));
        assert!(!inside("spaces/1", "/srv/tablespace"));
        assert!(!inside("a/b", "c/../../.."));
        assert!(!inside("a", "."));
        assert!(!inside("a", ".."));

        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("spaces")).unwrap();
        std::os::unix::fs::symlink("/etc", d.path().join("spaces/1")).unwrap();
        std::os::unix::fs::symlink("../x", d.path().join("spaces/2")).unwrap();
        std::os::unix::fs::symlink("/etc/shadow", d.path().join("evil")).unwrap();
        assert_eq!(remove_escaping(d.path()).unwrap(), ["evil", "spaces/1"]);
        assert_eq!(links_under(d.path()).unwrap().len(), 1);
        assert!(passes_through_link(d.path(), Path::new("spaces/2/f")));
        assert!(!passes_through_link(d.path(), Path::new("spaces/f")));
    }
}
