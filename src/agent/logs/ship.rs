//! Moving archived logs: staged for another instance's replay, streamed to another host,
//! received from one.

use super::{dir, list, list_dir, start_file, LogFormat};
use crate::agent::layout::Layout;
use crate::agent::manifest::sha256_file;
use crate::wire::{LogExportSpec, SnapshotStart};
use anyhow::{bail, Result};
use std::io::{Read, Write};
use std::path::Path;

/// Copies the archived files replay from `from` on needs (chain files from its start, and
/// side files), with their sidecars, out of `source`'s archive into `instance`'s replay
/// area, owned by `owner`: a restored server runs as its own OS user, which cannot read
/// another instance's archive. Copies share blocks where the filesystem can; fetching checks
/// each against its checksum as before.
///
/// # Errors
/// A file cannot be copied.
pub fn stage(
    layout: &Layout,
    source: &str,
    from: &SnapshotStart,
    instance: &str,
    format: &dyn LogFormat,
    owner: &dyn Fn(&Path) -> Result<()>,
) -> Result<u64> {
    let start = format.file_order(&start_file(format, from)?);
    let src = dir(layout, source);
    let dst = layout.replay_logs(instance);
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst)?;
    std::fs::set_permissions(&dst, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    owner(&dst)?;
    let mut n = 0;
    for f in list(layout, source)? {
        if !needed(format, &f.name, start.as_deref()) {
            continue;
        }
        for name in [f.name.clone(), format!("{}.json", f.name)] {
            let to = dst.join(&name);
            crate::agent::storage::plain::copy_file(&src.join(&name), &to)?;
            owner(&to)?;
        }
        n += 1;
    }
    Ok(n)
}

/// Streams the archive files replay from `spec.from` needs (all without it): chain files
/// from its start on, side files, and their sidecars.
///
/// # Errors
/// A position is malformed, the archive cannot be read or the stream written.
pub fn export(
    layout: &Layout,
    spec: &LogExportSpec,
    format: &dyn LogFormat,
    out: &mut dyn Write,
) -> Result<()> {
    let from = match &spec.from {
        Some(s) => format.file_order(&start_file(format, s)?),
        None => None,
    };
    let d = dir(layout, &spec.instance);
    std::fs::create_dir_all(&d)?;
    let include = |rel: &str| {
        // Only the archive's own top-level files: the directory belongs to the instance's
        // OS user, who may have made subdirectories or links in it.
        if rel.contains('/') || rel.starts_with('.') {
            return false;
        }
        needed(format, rel.trim_end_matches(".json"), from.as_deref())
    };
    crate::agent::stream::write_tree_filtered(&d, &include, false, out, &mut |_| {})
}

/// Whether replay from the place `from` (everything, without one) needs archived `file`:
/// side files always, others from that place on.
fn needed(format: &dyn LogFormat, file: &str, from: Option<&str>) -> bool {
    match (from, format.file_order(file)) {
        (Some(from), Some(order)) => order.as_str() >= from,
        _ => true,
    }
}

/// Receives archive files from an [`export`] into this host's archive for `instance`: the
/// stream lands aside, every file is checked against its sidecar, then they join the
/// archive (given to `owner`).
///
/// # Errors
/// The stream is cut or a file does not match its checksum; nothing is kept then.
pub fn import(
    layout: &Layout,
    instance: &str,
    input: &mut dyn Read,
    owner: &dyn Fn(&Path) -> Result<()>,
) -> Result<u64> {
    let d = dir(layout, instance);
    let staging = layout.logs_root().join(format!(".{instance}.import"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let received = (|| -> Result<u64> {
        crate::agent::stream::read_tree(input, &staging, &mut |_, _| Ok(()))?;
        let mut n = 0;
        for f in list_dir(&staging) {
            if sha256_file(&staging.join(&f.name))? != f.sha256 {
                bail!("{}: checksum mismatch on arrival", f.name);
            }
            n += 1;
        }
        Ok(n)
    })();
    if let Err(e) = received {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    std::fs::create_dir_all(&d)?;
    owner(&d)?;
    for e in std::fs::read_dir(&staging)?.flatten() {
        let target = d.join(e.file_name());
        if !target.exists() {
            std::fs::rename(e.path(), &target)?;
            owner(&target)?;
        }
    }
    std::fs::remove_dir_all(&staging)?;
    received
}
