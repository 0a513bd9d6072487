//! Moving archived logs: placed where a restored server's replay reads them, streamed to
//! another host, received from one.

use super::{dir, list, list_dir, start_file, LogFile, LogFormat};
use crate::agent::layout::Layout;
use crate::agent::storage::content::{read_any, Content};
use crate::agent::storage::parallel::in_parallel;
use crate::wire::logs::{LogExportSpec, SnapshotStart};
use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::path::Path;

/// Copies what replay of `source`'s archive needs from the snapshot start `from` through the
/// file holding position `until` (and the file after it, where that position's record may
/// end; everything without `until`) into `dest`, the restored server's own log directory:
/// replay then reads them there, with nothing fetched on its path. Chain files and side
/// files (branch histories) go; files already in `dest` (the snapshot's own) stay as they
/// are. Each file is checked against its sidecar as it is copied (its bytes read once, on
/// several threads) and given to `owner`: the restored server runs as its own OS user, which
/// cannot read another instance's archive. Returns the names placed.
///
/// # Errors
/// A position is malformed, `dest` is not a directory, or a file is missing, damaged or
/// cannot be copied (what was placed is then removed).
pub fn place(
    layout: &Layout,
    source: &str,
    from: &SnapshotStart,
    until: Option<&str>,
    dest: &Path,
    format: &dyn LogFormat,
    owner: &dyn Fn(&Path) -> Result<()>,
) -> Result<Vec<String>> {
    let start = format.file_order(&start_file(format, from)?);
    let last = match until {
        Some(p) => {
            let holder = format
                .file_of(p, from.branch)
                .with_context(|| format!("bad position {p:?} to replay {source}'s logs to"))?;
            Some(format.file_order(&format.next_file(&holder).unwrap_or(holder)))
        }
        None => None,
    }
    .flatten();
    // Root writes into a tree its tenant will own: never through a link put in its place.
    if !std::fs::symlink_metadata(dest).is_ok_and(|m| m.is_dir()) {
        bail!("{} is not a directory to place logs in", dest.display());
    }
    let wanted: Vec<LogFile> = list(layout, source)?
        .into_iter()
        .filter(|f| {
            let order = format.file_order(&f.name);
            (format.in_chain(&f.name) || order.is_none())
                && needed(format, &f.name, start.as_deref())
                && match (&last, &order) {
                    (Some(last), Some(order)) => order <= last,
                    _ => true,
                }
                && std::fs::symlink_metadata(dest.join(&f.name)).is_err()
        })
        .collect();
    copy_checked_into(layout, source, &wanted, dest, owner)
}

/// Places the side files (branch histories) of `source`'s archive that `dest` lacks: the
/// branches an instance's own archive already holds, so that a server restored from another
/// archive (a repository's logs) starts its new branch past every one of them and never
/// archives a branch history of the same number over a different one.
///
/// # Errors
/// A file is damaged or cannot be copied (nothing placed stays).
pub fn place_side_files(
    layout: &Layout,
    source: &str,
    dest: &Path,
    format: &dyn LogFormat,
    owner: &dyn Fn(&Path) -> Result<()>,
) -> Result<Vec<String>> {
    if !std::fs::symlink_metadata(dest).is_ok_and(|m| m.is_dir()) {
        bail!("{} is not a directory to place logs in", dest.display());
    }
    let wanted: Vec<LogFile> = list(layout, source)?
        .into_iter()
        .filter(|f| !format.in_chain(&f.name) && format.file_order(&f.name).is_none())
        .filter(|f| std::fs::symlink_metadata(dest.join(&f.name)).is_err())
        .collect();
    copy_checked_into(layout, source, &wanted, dest, owner)
}

/// Copies `wanted` from `source`'s archive into `dest`, each hashed on the way and compared
/// with its sidecar, on several threads; gives each to `owner`. On any failure nothing placed
/// stays.
fn copy_checked_into(
    layout: &Layout,
    source: &str,
    wanted: &[LogFile],
    dest: &Path,
    owner: &dyn Fn(&Path) -> Result<()>,
) -> Result<Vec<String>> {
    let src = dir(layout, source);
    let placed = std::sync::Mutex::new(Vec::new());
    let copied = in_parallel(wanted, |f| {
        let to = dest.join(&f.name);
        // Listed before the copy starts: a copy cut short is removed too.
        placed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(f.name.clone());
        let from = src.join(&f.name);
        let content = read_any(&from, Some(&to)).map(|c| match c {
            Content::Read(size, sum) => (size, sum),
            Content::Damaged(_) => (0, String::new()),
        });
        let (size, sum) = content.map_err(|e| {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
            {
                anyhow::anyhow!("{} is no longer in the archive of {source}", f.name)
            } else {
                e
            }
        })?;
        if size != f.size || sum != f.sha256 {
            // A hole from now on: the window stops offering points past it.
            let _ = super::damage::mark(&src, &f.name);
            bail!(
                "{} in the archive of {source} does not match its checksum; refusing to use it",
                f.name
            );
        }
        Ok(())
    });
    let placed = placed.into_inner().unwrap_or_else(|p| p.into_inner());
    let given = copied.and_then(|()| placed.iter().try_for_each(|n| owner(&dest.join(n))));
    if let Err(e) = given {
        for name in &placed {
            let _ = std::fs::remove_file(dest.join(name));
        }
        return Err(e);
    }
    Ok(placed)
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
        let file = rel.trim_end_matches(".json");
        if let Some(names) = &spec.names {
            return names.iter().any(|n| n == file);
        }
        needed(format, file, from.as_deref())
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
        crate::agent::stream::read_tree(input, &staging, &mut |_, _, _| Ok(()))?;
        let mut n = 0;
        for f in list_dir(&staging) {
            if super::store::content_sha256(&staging.join(&f.name))
                .ok()
                .as_ref()
                != Some(&f.sha256)
            {
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

#[cfg(test)]
mod tests {
    use super::super::testing::Numbered;
    use super::*;
    use crate::agent::storage::content::is_packed;

    #[test]
    fn an_instances_own_branch_histories_are_placed_beside_another_archives_logs() {
        let (_root, layout, d) = super::super::testing::archive();
        let put = |name: &str, body: &[u8]| {
            std::fs::write(d.join(name), body).unwrap();
            let f = LogFile {
                name: name.into(),
                size: body.len() as u64,
                sha256: crate::agent::manifest::sha256_file(&d.join(name)).unwrap(),
                archived_at: "2026-12-01T00:00:00Z".into(),
                first_commit: None,
                last_commit: None,
                last_commit_position: None,
                scanned: true,
                first_transaction: None,
                last_transaction: None,
            };
            super::super::testing::put(&d, &f, false);
        };
        put("1.0001", b"chain");
        put("2.hist", b"branch two");
        put("3.hist", b"branch three");
        let dest = tempfile::tempdir().unwrap();
        // One the other archive brought is kept as it came.
        std::fs::write(dest.path().join("2.hist"), b"from the repository").unwrap();
        let placed = place_side_files(&layout, "db", dest.path(), &Numbered, &|_| Ok(())).unwrap();
        assert_eq!(placed, ["3.hist"]);
        assert!(
            !dest.path().join("1.0001").exists(),
            "a chain file was placed"
        );
        assert_eq!(
            std::fs::read(dest.path().join("2.hist")).unwrap(),
            b"from the repository"
        );
        // A damaged one fails the placing and leaves nothing.
        std::fs::remove_file(dest.path().join("3.hist")).unwrap();
        std::fs::write(d.join("3.hist"), b"branch thrEe").unwrap();
        assert!(place_side_files(&layout, "db", dest.path(), &Numbered, &|_| Ok(())).is_err());
        assert!(!dest.path().join("3.hist").exists());
    }

    fn start(position: &str) -> SnapshotStart {
        SnapshotStart {
            snapshot: "s".into(),
            position: position.into(),
            branch: 1,
        }
    }

    #[test]
    fn places_checked_copies_of_what_replay_reads_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path());
        let src = root.path().join("incoming");
        for (name, byte) in [
            ("1.0001", 1u8),
            ("1.0002", 2),
            ("1.0003", 3),
            ("1.0004", 4),
            ("1.0005", 5),
        ] {
            std::fs::write(&src, vec![byte; 4096]).unwrap();
            crate::agent::logs::archive(&layout, "db", &src, name, &Numbered).unwrap();
        }
        let dest = root.path().join("pg_wal");
        std::fs::create_dir(&dest).unwrap();
        // The snapshot's own copy of its first file stays as it is.
        std::fs::write(dest.join("1.0002"), b"own").unwrap();
        let mut placed = place(
            &layout,
            "db",
            &start("250"),
            Some("310"),
            &dest,
            &Numbered,
            &|_| Ok(()),
        )
        .unwrap();
        placed.sort();
        // From the snapshot's file through the target's and the one after it.
        assert_eq!(placed, ["1.0003", "1.0004"]);
        assert_eq!(std::fs::read(dest.join("1.0002")).unwrap(), b"own");
        assert_eq!(std::fs::read(dest.join("1.0004")).unwrap(), vec![4u8; 4096]);
        assert!(!dest.join("1.0005").exists() && !dest.join("1.0001").exists());
        assert!(
            !dest.join("1.0004.json").exists(),
            "no sidecars where the server reads"
        );
        // The archive stores all but its newest file compressed; copies are plain.
        let d = dir(&layout, "db");
        assert!(is_packed(&d.join("1.0004")) && !is_packed(&d.join("1.0005")));
        assert!(!is_packed(&dest.join("1.0004")));

        // A damaged file is refused by name, and nothing this call placed stays.
        let fresh = root.path().join("fresh");
        std::fs::create_dir(&fresh).unwrap();
        std::fs::write(dir(&layout, "db").join("1.0004"), vec![9u8; 4096]).unwrap();
        let e = place(
            &layout,
            "db",
            &start("250"),
            None,
            &fresh,
            &Numbered,
            &|_| Ok(()),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("1.0004 in the archive of db does not match its checksum"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(&fresh).unwrap().count(), 0);
        // ...and is a hole from then on: no longer listed, so no point past it is offered.
        assert!(super::super::damaged(&layout, "db").contains("1.0004"));
        assert!(!list(&layout, "db")
            .unwrap()
            .iter()
            .any(|f| f.name == "1.0004"));

        // Never into a link put where the directory should be.
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&fresh, &link).unwrap();
        assert!(place(
            &layout,
            "db",
            &start("250"),
            None,
            &link,
            &Numbered,
            &|_| Ok(())
        )
        .is_err());
    }
}
