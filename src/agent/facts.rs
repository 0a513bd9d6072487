//! What a host reports about itself: versions, capacity, engines, storage.

use crate::agent::{engine, HostConfig};
use crate::fsutil;
use crate::wire::{Facts, PROTOCOL, VERSION};
use anyhow::Result;
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
        engines: engine::all().iter().filter_map(|e| e.detect(cfg)).collect(),
        storage_backend,
        listen_address: cfg.listen_address.clone(),
        port_range: cfg.port_range,
        os_user: os_user.into(),
    })
}
