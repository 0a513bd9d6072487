//! What a host's root holds on disk, by owner: each instance's directory, each snapshot, each
//! log archive, and the rest. A file shared by hard links is counted once, for the first
//! owner walked (snapshots oldest first), so the sums are the real disk use.

use crate::agent::layout::Layout;
use crate::wire::DiskUsage;
use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes under `dir` (not following links) not yet in `seen`.
fn bytes_under(dir: &Path, seen: &mut HashSet<(u64, u64)>) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
            } else if seen.insert((m.dev(), m.ino())) {
                // Allocated blocks, not the length: sparse files take less.
                total += m.blocks() * 512;
            }
        }
    }
    total
}

/// Bytes under `dir` on disk (a file linked twice inside it counts once).
pub fn bytes_of(dir: &Path) -> u64 {
    bytes_under(dir, &mut HashSet::new())
}

/// The entries of `dir` as (name, path), sorted by name.
fn children(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut v: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Measures the root. Snapshots are walked oldest first, so a file the newer ones share with
/// them (hard links) counts for the oldest.
pub fn measure(layout: &Layout, snapshot_time: &dyn Fn(&str) -> String) -> DiskUsage {
    let mut seen = HashSet::new();
    let mut instances = BTreeMap::new();
    for (name, path) in children(&layout.instances()) {
        instances.insert(name, bytes_under(&path, &mut seen));
    }
    let mut snaps = children(&layout.snapshots());
    snaps.sort_by_key(|(name, _)| snapshot_time(name));
    let mut snapshots = BTreeMap::new();
    for (name, path) in snaps {
        snapshots.insert(name, bytes_under(&path, &mut seen));
    }
    let mut logs = BTreeMap::new();
    for (name, path) in children(&layout.logs_root()) {
        if path.is_dir() && !name.starts_with('.') {
            logs.insert(name, bytes_under(&path, &mut seen));
        }
    }
    let mut replaced = BTreeMap::new();
    for (name, path) in children(&layout.replaced()) {
        if path.is_dir() && !name.starts_with('.') {
            replaced.insert(name, bytes_under(&path, &mut seen));
        }
    }
    // Whatever else is under the root: journal, sockets, staging, switch records.
    let other = bytes_under(&layout.root, &mut seen);
    DiskUsage {
        instances,
        snapshots,
        logs,
        replaced,
        other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_links_count_once_for_the_oldest_snapshot() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path());
        let a = layout.snapshot("a").join("data");
        let b = layout.snapshot("b").join("data");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("f"), vec![1u8; 100_000]).unwrap();
        std::fs::hard_link(a.join("f"), b.join("f")).unwrap();
        std::fs::write(b.join("g"), vec![2u8; 50_000]).unwrap();
        let u = measure(&layout, &|n| n.to_string());
        assert!(u.snapshots["a"] >= 100_000, "{u:?}");
        assert!(
            u.snapshots["b"] >= 50_000 && u.snapshots["b"] < 100_000,
            "{u:?}"
        );
    }
}
