//! Backups in a repository: a host snapshot's stream archived as one restic snapshot, and
//! read back as the same stream for a host to import.
//!
//! Each restic snapshot says what it holds without the catalog (a home that lost its
//! catalog, or restic in a disaster, can tell them apart): its host is the instance's name,
//! its label [`SNAPSHOT_LABEL`], its tags `instance=NAME`, `kind=backup` and `backup=ID`
//! (dbctl's backup id; `restic snapshots --tag kind=backup`), and its description the
//! [`Described`] JSON.

use super::source;
use super::Store;
use crate::wire::SnapshotInfo;
use anyhow::{bail, Context, Result};
use rustic_core::{BackupOptions, ParentOptions, SnapshotOptions};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::PathBuf;

/// The label of a restic snapshot that holds a host snapshot.
pub const SNAPSHOT_LABEL: &str = "dbctl-snapshot";

/// What a backup's restic snapshot says of itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Described {
    /// The instance's name and its uid (the name may be reused by a later instance).
    pub instance: String,
    pub instance_uid: String,
    /// The host snapshot it holds.
    pub snapshot: SnapshotInfo,
}

/// A backup made.
#[derive(Debug, Clone)]
pub struct Archived {
    /// The restic snapshot's id.
    pub id: String,
    pub info: SnapshotInfo,
    /// Files and bytes of content it holds.
    pub files: u64,
    pub bytes: u64,
    /// Bytes this backup added to the repository (after deduplication and compression).
    pub added: u64,
}

/// Archives the snapshot stream `input` (a SnapshotExport's output) into the repository.
/// Nothing is kept unless every file arrived and matched the snapshot's manifest.
///
/// # Errors
/// The repository cannot be opened or written, or the stream is cut or damaged.
pub fn archive(
    store: &Store,
    key: &str,
    instance: (&str, &str),
    backup: i64,
    input: &mut dyn Read,
    moved: &mut dyn FnMut(u64),
) -> Result<Archived> {
    let repo = super::opened(store, key)?.to_indexed_ids()?;
    let (head, first) = source::read_head(input)?;
    let info: SnapshotInfo =
        serde_json::from_slice(&head.info).context("the snapshot's info in the stream")?;
    let described = Described {
        instance: instance.0.into(),
        instance_uid: instance.1.into(),
        snapshot: info.clone(),
    };
    let snap = SnapshotOptions::default()
        .host(instance.0.to_string())
        .label(SNAPSHOT_LABEL.to_string())
        .description(serde_json::to_string(&described)?)
        .add_tags(&format!(
            "instance={},kind=backup,backup={backup}",
            instance.0
        ))?
        .to_snapshot()?;
    // Every file is read from the stream: a parent would make rustic skip opening some.
    let opts = BackupOptions::default().parent_opts(ParentOptions::default().force(true));
    let (src, turn, tx) = source::source(&head);
    let (fed, saved) = std::thread::scope(|s| {
        let archiving = s.spawn(|| {
            let r = repo.archive(&opts, &src, snap, &[PathBuf::from("/")]);
            turn.close();
            r
        });
        let fed = source::feed(&head, first, input, tx, &turn, moved);
        (fed, archiving.join())
    });
    let saved = match saved {
        Ok(r) => r?,
        Err(_) => bail!("archiving into the repository failed unexpectedly"),
    };
    let whole = fed.and_then(|()| match turn.failure() {
        Some(f) => bail!("{f}"),
        None => Ok(()),
    });
    let summary = saved.summary.clone().unwrap_or_default();
    let files = head.manifest.files.len() as u64;
    let whole = whole.and_then(|()| {
        // info, manifest and links count as files too.
        let want = files + 2 + head.manifest.links.len() as u64;
        if summary.total_files_processed != want {
            bail!(
                "the repository took {} of the snapshot's {want} files",
                summary.total_files_processed,
            );
        }
        Ok(())
    });
    if let Err(e) = whole {
        // rustic saves a snapshot without the files it could not read: not a backup.
        let _ = repo.delete_snapshots(&[saved.id]);
        return Err(e);
    }
    Ok(Archived {
        id: saved.id.to_string(),
        info,
        files,
        bytes: head.manifest.total_bytes(),
        added: summary.data_added_packed,
    })
}

/// The repository's backups, oldest first.
///
/// # Errors
/// The repository cannot be opened or read.
pub fn list(store: &Store, key: &str) -> Result<Vec<(String, Described)>> {
    super::described(store, key, SNAPSHOT_LABEL)
}

/// Removes the backup `id`'s snapshot (its data stays until a prune finds nothing uses it).
///
/// # Errors
/// The repository cannot be opened or written, or holds no such backup.
pub fn forget(store: &Store, key: &str, id: &str) -> Result<()> {
    let repo = super::opened(store, key)?;
    let snap = repo.get_snapshot_from_str(id, |_| true)?;
    repo.delete_snapshots(&[snap.id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::manifest::{Entry, Manifest};
    use crate::agent::stream::{self, write_tree_with, Content};
    use std::path::Path;

    /// A snapshot directory as dbhost keeps one: info, manifest, data (one file stored as a
    /// zstd frame); returns its stream.
    fn snapshot_stream(dir: &Path, damage: Option<&str>) -> Vec<u8> {
        let data = dir.join("data");
        std::fs::create_dir_all(data.join("base/1")).unwrap();
        std::fs::create_dir_all(data.join("base-x")).unwrap();
        std::fs::create_dir_all(data.join("empty")).unwrap();
        let mut files = vec![
            ("PG_VERSION", b"15\n".to_vec()),
            (
                "base/1/123",
                (0..3_000_000u32).map(|i| (i % 251) as u8).collect(),
            ),
            ("base/1/124", Vec::new()),
            ("base-x/f", b"dash".to_vec()),
        ];
        for i in 0..300 {
            files.push((
                Box::leak(format!("base/1/s{i}").into_boxed_str()),
                vec![i as u8; i],
            ));
        }
        let mut m = Manifest::default();
        for (rel, body) in &files {
            std::fs::write(data.join(rel), body).unwrap();
            m.files.insert(
                rel.to_string(),
                Entry {
                    size: body.len() as u64,
                    sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body)),
                    source_mtime_ns: 0,
                    compressed: None,
                },
            );
        }
        let big = data.join("base/1/123");
        let frame = zstd::encode_all(&std::fs::read(&big).unwrap()[..], 1).unwrap();
        std::fs::write(&big, frame).unwrap();
        if let Some(rel) = damage {
            std::fs::write(data.join(rel), b"other").unwrap();
        }
        std::os::unix::fs::symlink("base/1", data.join("link")).unwrap();
        m.links.insert("link".into(), "base/1".into());
        std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
        let info = SnapshotInfo {
            snapshot: "s1".into(),
            instance: "prod-1".into(),
            engine: "postgres".into(),
            engine_version: "15".into(),
            position: "0/3000060".into(),
            taken_at: "2026-11-26T08:00:00Z".into(),
            backend: "plain".into(),
            files: m.files.len() as u64,
            size_bytes: m.total_bytes(),
            shared_files: 0,
            new_bytes: 0,
            admin_user: "dbadmin".into(),
            branch: 1,
            consistent_at: String::new(),
        };
        std::fs::write(
            dir.join(crate::agent::snapshots::INFO_FILE),
            serde_json::to_vec(&info).unwrap(),
        )
        .unwrap();
        let mut out = Vec::new();
        write_tree_with(
            dir,
            &|_| true,
            true,
            &|rel| Ok((rel == "data/base/1/123").then_some(Content::Zstd(3_000_000))),
            &mut out,
            &mut |_| {},
        )
        .unwrap();
        out
    }

    #[test]
    fn a_snapshot_stream_goes_in_and_comes_back_as_the_same_stream_content() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::Dir(t.path().join("repo"));
        let key = super::super::new_key().unwrap();
        super::super::init(&store, &key, "p").unwrap();
        let snap = t.path().join("snap");
        let bytes = snapshot_stream(&snap, None);
        let mut moved = 0;
        let a = archive(
            &store,
            &key,
            ("prod", "prod-1"),
            7,
            &mut &bytes[..],
            &mut |n| moved = n,
        )
        .unwrap();
        assert_eq!(a.files, 304);
        assert_eq!(moved, a.bytes);
        assert!(a.added > 0);
        let listed = list(&store, &key).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0, a.id);
        assert_eq!(listed[0].1.instance, "prod");
        assert_eq!(listed[0].1.snapshot.position, "0/3000060");
        // restic tells it apart by its tags alone.
        let snaps = super::super::opened(&store, &key)
            .unwrap()
            .get_all_snapshots()
            .unwrap();
        assert_eq!(
            snaps[0].tags.to_string(),
            "backup=7,instance=prod,kind=backup"
        );

        // The same again adds (almost) nothing: every chunk is there already.
        let again = archive(
            &store,
            &key,
            ("prod", "prod-1"),
            7,
            &mut &bytes[..],
            &mut |_| {},
        )
        .unwrap();
        assert!(again.added < a.added / 10, "{} vs {}", again.added, a.added);

        let mut back = Vec::new();
        super::super::dump(&store, &key, &a.id, &mut back, &mut |_| {}).unwrap();
        let out = t.path().join("out");
        let mut seen = Vec::new();
        stream::read_tree_with_links(
            &mut &back[..],
            &out,
            &mut |rel, _, _| {
                seen.push(rel.to_string());
                Ok(())
            },
            &mut |_, _| Ok(()),
        )
        .unwrap();
        assert_eq!(&seen[..2], ["manifest.json", "snapshot.json"]);
        let m: Manifest =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert!(m.check(&out.join("data"), false, &[]).unwrap().is_empty());
        assert_eq!(
            std::fs::read_link(out.join("data/link")).unwrap(),
            Path::new("base/1")
        );
    }

    #[test]
    fn a_damaged_or_cut_stream_leaves_no_backup() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::Dir(t.path().join("repo"));
        let key = super::super::new_key().unwrap();
        super::super::init(&store, &key, "p").unwrap();
        let bytes = snapshot_stream(&t.path().join("snap"), Some("base/1/s7"));
        let e = archive(
            &store,
            &key,
            ("prod", "prod-1"),
            7,
            &mut &bytes[..],
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("data/base/1/s7: checksum mismatch"),
            "{e:#}"
        );
        let good = snapshot_stream(&t.path().join("snap2"), None);
        let cut = &good[..good.len() - 1000];
        let e = archive(
            &store,
            &key,
            ("prod", "prod-1"),
            7,
            &mut &cut[..],
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("cut") || format!("{e:#}").contains("ended"),
            "{e:#}"
        );
        assert!(list(&store, &key).unwrap().is_empty());
    }
}
