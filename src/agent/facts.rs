//! What a host reports about itself: versions, capacity, engines, storage.

use crate::agent::{engine, HostConfig};
use crate::fsutil;
use crate::wire::{EngineFact, Facts, PROTOCOL, VERSION};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// # Errors
/// The root's free space cannot be read.
pub fn gather(root: &Path, cfg: &HostConfig, os_user: &str) -> Result<Facts> {
    let memory_mb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb / 1024)
        .unwrap_or(0);
    // A misconfigured backend is reported by every op that needs it; facts still answer.
    let storage_backend = match crate::agent::storage::select(root, &cfg.storage) {
        Ok(s) => s.name().to_string(),
        Err(_) => format!("{} (unavailable)", cfg.storage),
    };
    Ok(Facts {
        version: VERSION.into(),
        protocol: PROTOCOL,
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        root: root.display().to_string(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        memory_mb,
        disk_free_gb: fsutil::free_gb(root)?,
        engines: remembered_engines(root, cfg),
        storage_backend,
        listen_address: cfg.listen_address.clone(),
        port_range: cfg.port_range,
        os_user: os_user.into(),
        snapshots: held_snapshots(&crate::agent::layout::Layout::new(root)),
    })
}

/// The finished snapshots in the store: directories, not a `.partial` one being made. A
/// store that is not there holds none (a wiped root); one that cannot be read is unknown.
fn held_snapshots(layout: &crate::agent::layout::Layout) -> Option<Vec<String>> {
    let entries = match std::fs::read_dir(layout.snapshots()) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Vec::new()),
        Err(_) => return None,
    };
    let mut held: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".partial") && !n.starts_with('.'))
        .collect();
    held.sort();
    Some(held)
}

/// Where the engines found are remembered, in the root.
const REMEMBERED: &str = "engines.json";

/// An engine found, with the identity of the server binary it was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Found {
    binary: String,
    /// Device, inode, size and change time of the binary: a reinstall changes them.
    stamp: (u64, u64, u64, i64, i64),
    fact: EngineFact,
}

fn stamp(path: &Path) -> Option<(u64, u64, u64, i64, i64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino(), m.size(), m.ctime(), m.ctime_nsec()))
}

/// The engines installed, as [`engine::Engine::detect`] finds them, remembered in the root
/// for as long as each server binary is the same unchanged file: reading a version runs the
/// server binary (tens of milliseconds), and a monitor asks every host for its facts every
/// few seconds. An upgrade replaces the binary and is read afresh.
fn remembered_engines(root: &Path, cfg: &HostConfig) -> Vec<EngineFact> {
    let path = root.join(REMEMBERED);
    let before: BTreeMap<String, Found> = fsutil::read_small_no_follow(&path, 64 * 1024)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut now = BTreeMap::new();
    let mut out = Vec::new();
    for e in engine::all() {
        let Some(binary) = e.server_binary(cfg) else {
            continue;
        };
        let Some(st) = stamp(&binary) else { continue };
        let binary = binary.display().to_string();
        let found = match before.get(e.name()) {
            Some(f) if f.binary == binary && f.stamp == st => Some(f.clone()),
            _ => e.detect(cfg).map(|fact| Found {
                binary,
                stamp: st,
                fact,
            }),
        };
        if let Some(f) = found {
            out.push(f.fact.clone());
            now.insert(e.name().to_string(), f);
        }
    }
    if now != before {
        // Under a name of this process's own, so two at once never write one file; a
        // failure only means reading the versions again next time.
        if let Ok(text) = serde_json::to_vec(&now) {
            let tmp = root.join(format!("{REMEMBERED}.{}", std::process::id()));
            if fsutil::replace_file(&tmp, &text, 0o644).is_ok()
                && std::fs::rename(&tmp, &path).is_err()
            {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_remembered_until_the_binary_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = HostConfig::default();
        let first = remembered_engines(dir.path(), &cfg);
        let direct: Vec<EngineFact> = engine::all()
            .iter()
            .filter_map(|e| e.detect(&cfg))
            .collect();
        assert_eq!(first, direct);
        if first.is_empty() {
            return;
        }
        // A remembered version is used while the binary's stamp matches, not read again.
        let path = dir.path().join(REMEMBERED);
        let mut kept: BTreeMap<String, Found> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = first[0].name.clone();
        kept.get_mut(&name).unwrap().fact.version = "remembered".into();
        std::fs::write(&path, serde_json::to_vec(&kept).unwrap()).unwrap();
        assert_eq!(
            remembered_engines(dir.path(), &cfg)[0].version,
            "remembered"
        );
        // Another stamp (a reinstalled binary) is read afresh.
        kept.get_mut(&name).unwrap().stamp.1 += 1;
        std::fs::write(&path, serde_json::to_vec(&kept).unwrap()).unwrap();
        assert_eq!(remembered_engines(dir.path(), &cfg), direct);
        // A damaged file is read past.
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(remembered_engines(dir.path(), &cfg), direct);
    }
}
