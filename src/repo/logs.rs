//! Archived log files in a repository: each shipment of an instance's new files (with their
//! records) is one restic snapshot, labelled [`LOGS_LABEL`], tagged `instance=NAME` and
//! `kind=logs`, its description the
//! [`Shipment`] JSON. Log files are small next to a database (a segment, a binary log cut
//! by the archive timeout), so each is read whole from the stream and handed over as it is,
//! where a snapshot's files need [`super::source`]'s turnstile.

use super::Store;
use crate::agent::stream::{self, Kind};
use anyhow::{bail, Context, Result};
use rustic_core::repofile::{Metadata, Node, NodeType};
use rustic_core::{
    BackupOptions, ParentOptions, ReadSource, ReadSourceEntry, RusticResult, SnapshotOptions,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{Cursor, Read};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;

/// The label of a restic snapshot that holds shipped log files.
pub const LOGS_LABEL: &str = "dbctl-logs";

/// The largest log file taken whole: far above a segment or a cut binary log.
const LARGEST: u64 = 4 << 30;

/// What a shipment's restic snapshot says of itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Shipment {
    pub instance: String,
    pub instance_uid: String,
    /// The log files it holds (each with its record, `NAME.json`).
    pub files: Vec<String>,
    /// dbhost's switch marks as they were (how far a quiet instance's logs reach).
    #[serde(default)]
    pub marks: Vec<crate::wire::logs::Mark>,
}

/// A shipment stored.
#[derive(Debug, Clone)]
pub struct Shipped {
    pub id: String,
    pub bytes: u64,
    pub added: u64,
}

type Entry = RusticResult<ReadSourceEntry<Cursor<Vec<u8>>>>;

/// Files arriving on a channel, each whole.
struct Arriving {
    rx: Mutex<Option<Receiver<Entry>>>,
}

struct Drain(Receiver<Entry>);

impl Iterator for Drain {
    type Item = Entry;
    fn next(&mut self) -> Option<Entry> {
        self.0.recv().ok()
    }
}

impl ReadSource for Arriving {
    type Open = Cursor<Vec<u8>>;
    type Iter = Box<dyn Iterator<Item = Entry> + Send>;

    fn size(&self) -> RusticResult<Option<u64>> {
        Ok(None)
    }

    fn entries(&self) -> Self::Iter {
        match self.rx.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(rx) => Box::new(Drain(rx)),
            None => Box::new(std::iter::empty()),
        }
    }
}

/// Archives the stream of a log export of exactly `names` into the repository. Nothing is
/// kept unless every named file and its record arrived.
///
/// # Errors
/// The repository cannot be opened or written, or the stream is cut or not what was asked.
pub fn archive(
    store: &Store,
    key: &str,
    instance: (&str, &str),
    names: &[String],
    marks: &[crate::wire::logs::Mark],
    input: &mut dyn Read,
    moved: &mut dyn FnMut(u64),
) -> Result<Shipped> {
    let repo = super::opened(store, key)?.to_indexed_ids()?;
    let shipment = Shipment {
        instance: instance.0.into(),
        instance_uid: instance.1.into(),
        files: names.to_vec(),
        marks: marks.to_vec(),
    };
    let snap = SnapshotOptions::default()
        .host(instance.0.to_string())
        .label(LOGS_LABEL.to_string())
        .description(serde_json::to_string(&shipment)?)
        .add_tags(&format!("instance={},kind=logs", instance.0))?
        .to_snapshot()?;
    let opts = BackupOptions::default().parent_opts(ParentOptions::default().force(true));
    let (tx, rx) = sync_channel::<Entry>(2);
    let src = Arriving {
        rx: Mutex::new(Some(rx)),
    };
    let want: BTreeSet<String> = names
        .iter()
        .flat_map(|n| [n.clone(), format!("{n}.json")])
        .collect();
    let (fed, saved) = std::thread::scope(|s| {
        let archiving = s.spawn(|| repo.archive(&opts, &src, snap, &[PathBuf::from("/")]));
        let fed = (|| -> Result<u64> {
            let mut got = BTreeSet::new();
            let mut bytes = 0u64;
            while let Some(r) = stream::next_record(input)? {
                if r.kind != Kind::File || r.path.contains('/') || !want.contains(&r.path) {
                    bail!("the log stream sent {}, which was not asked for", r.path);
                }
                if r.len > LARGEST {
                    bail!("{}: {} bytes is not a log file", r.path, r.len);
                }
                let mut body = Vec::with_capacity(r.len as usize);
                input.take(r.len).read_to_end(&mut body)?;
                if body.len() as u64 != r.len {
                    bail!("the log stream was cut inside {}", r.path);
                }
                bytes += r.len;
                moved(bytes);
                let node = Node::new_node(
                    OsStr::new(&r.path),
                    NodeType::File,
                    Metadata {
                        mode: Some(0o600),
                        size: r.len,
                        ..Default::default()
                    },
                );
                let path = PathBuf::from("/").join(&r.path);
                got.insert(r.path);
                let entry = ReadSourceEntry {
                    path,
                    node,
                    open: Some(Cursor::new(body)),
                };
                if tx.send(Ok(entry)).is_err() {
                    bail!("the repository stopped taking the logs");
                }
            }
            if got != want {
                let missing: Vec<_> = want.difference(&got).cloned().collect();
                bail!("the log stream lacked {}", missing.join(", "));
            }
            Ok(bytes)
        })();
        drop(tx);
        (fed, archiving.join())
    });
    let saved = match saved {
        Ok(r) => r?,
        Err(_) => bail!("archiving logs into the repository failed unexpectedly"),
    };
    let summary = saved.summary.clone().unwrap_or_default();
    let whole = fed.and_then(|bytes| {
        if summary.total_files_processed != want.len() as u64 {
            bail!(
                "the repository took {} of {} log files",
                summary.total_files_processed,
                want.len()
            );
        }
        Ok(bytes)
    });
    match whole {
        Ok(bytes) => Ok(Shipped {
            id: saved.id.to_string(),
            bytes,
            added: summary.data_added_packed,
        }),
        Err(e) => {
            let _ = repo.delete_snapshots(&[saved.id]);
            Err(e)
        }
    }
}

/// The repository's log shipments, with their restic ids, oldest first.
///
/// # Errors
/// The repository cannot be opened or read.
pub fn list(store: &Store, key: &str) -> Result<Vec<(String, Shipment)>> {
    super::described(store, key, LOGS_LABEL)
}

/// Writes the shipments `ids` as one log stream (what a log import takes). A file that does
/// not match the checksum recorded when it was archived is left out with its record (a
/// hole, as `repository verify` reports it), as is a second copy of a file shipped again.
///
/// # Errors
/// A shipment is unknown or a blob missing or damaged.
pub fn dump_many(
    store: &Store,
    key: &str,
    ids: &[String],
    out: &mut dyn std::io::Write,
    moved: &mut dyn FnMut(u64),
) -> Result<()> {
    let mut sent = 0u64;
    let mut placed = BTreeSet::new();
    for id in ids {
        let mut part = Vec::new();
        super::dump(store, key, id, &mut part, &mut |_| {})
            .with_context(|| format!("log shipment {id}"))?;
        for f in read_files(&part).with_context(|| format!("log shipment {id}"))? {
            if f.problem.is_some() || !placed.insert(f.name.clone()) {
                continue;
            }
            let record_path = format!("{}.json", f.name);
            for (path, bytes) in [(&f.name, &f.body), (&record_path, &f.record)] {
                stream::put_file(out, path, 0o600, bytes.len() as u64)?;
                out.write_all(bytes)?;
                sent += bytes.len() as u64;
            }
            moved(sent);
        }
    }
    stream::put_end(out)
}

/// One log file of a shipment as stored, with its record and what is wrong with it.
pub(crate) struct ShippedFile {
    pub name: String,
    /// The stored bytes (zstd-packed or plain, as the archive held them).
    pub body: Vec<u8>,
    /// The JSON record written when the file was archived (empty when there is none).
    pub record: Vec<u8>,
    /// Why the file cannot be trusted, if it cannot.
    pub problem: Option<String>,
}

/// Every log file of a shipment's stream with its record, and what is wrong with it, if
/// anything.
pub(crate) fn read_files(stream_bytes: &[u8]) -> Result<Vec<ShippedFile>> {
    let mut input = Cursor::new(stream_bytes);
    let mut all = std::collections::BTreeMap::new();
    while let Some(r) = stream::next_record(&mut input)? {
        if r.kind != Kind::File {
            continue;
        }
        let mut body = Vec::with_capacity(r.len as usize);
        (&mut input).take(r.len).read_to_end(&mut body)?;
        if body.len() as u64 != r.len {
            bail!("cut inside {}", r.path);
        }
        all.insert(r.path, body);
    }
    let mut out = Vec::new();
    for (name, body) in &all {
        if name.ends_with(".json") {
            continue;
        }
        let Some(record) = all.get(&format!("{name}.json")) else {
            out.push(ShippedFile {
                name: name.clone(),
                body: body.clone(),
                record: Vec::new(),
                problem: Some("has no record".into()),
            });
            continue;
        };
        let problem = match serde_json::from_slice::<crate::wire::logs::LogFile>(record) {
            Err(e) => Some(format!("its record does not read: {e}")),
            Ok(f) => match crate::agent::storage::content::content_of(body) {
                crate::agent::storage::content::Content::Read(size, sum)
                    if size == f.size && sum == f.sha256 =>
                {
                    None
                }
                crate::agent::storage::content::Content::Read(..) => {
                    Some("does not match the checksum recorded when it was archived".into())
                }
                crate::agent::storage::content::Content::Damaged(why) => {
                    Some(format!("does not decode: {why}"))
                }
            },
        };
        out.push(ShippedFile {
            name: name.clone(),
            body: body.clone(),
            record: record.clone(),
            problem,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes shipments `ids` as one log stream and reads it into `into`: the files it held.
    fn dumped(store: &Store, key: &str, ids: &[String], into: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        dump_many(store, key, ids, &mut out, &mut |_| {}).unwrap();
        std::fs::create_dir(into).unwrap();
        let mut seen = Vec::new();
        stream::read_tree(&mut &out[..], into, &mut |rel, _, _| {
            seen.push(rel.to_string());
            Ok(())
        })
        .unwrap();
        seen
    }

    fn export(dir: &std::path::Path, names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        stream::write_tree_filtered(
            dir,
            &|rel| names.iter().any(|n| rel.trim_end_matches(".json") == *n),
            false,
            &mut out,
            &mut |_| {},
        )
        .unwrap();
        out
    }

    #[test]
    fn shipments_go_in_whole_and_come_back_as_one_stream() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::Dir(t.path().join("repo"));
        let key = super::super::new_key().unwrap();
        super::super::init(&store, &key, "p").unwrap();
        let wal = t.path().join("wal");
        std::fs::create_dir_all(&wal).unwrap();
        for (n, b) in [
            ("000000010000000000000001", 1u8),
            ("000000010000000000000002", 2),
        ] {
            std::fs::write(wal.join(n), vec![b; 100_000]).unwrap();
            let record = crate::wire::logs::LogFile {
                name: n.into(),
                size: 100_000,
                sha256: crate::agent::manifest::sha256_file(&wal.join(n)).unwrap(),
                ..Default::default()
            };
            std::fs::write(
                wal.join(format!("{n}.json")),
                serde_json::to_vec(&record).unwrap(),
            )
            .unwrap();
        }
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let one = ["000000010000000000000001"];
        let two = ["000000010000000000000002"];
        let a = archive(
            &store,
            &key,
            ("prod", "prod-1"),
            &names(&one),
            &[],
            &mut &export(&wal, &one)[..],
            &mut |_| {},
        )
        .unwrap();
        // A stream lacking a file asked for keeps nothing.
        let e = archive(
            &store,
            &key,
            ("prod", "prod-1"),
            &names(&[one[0], two[0]]),
            &[],
            &mut &export(&wal, &one)[..],
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("lacked 000000010000000000000002"),
            "{e:#}"
        );
        let b = archive(
            &store,
            &key,
            ("prod", "prod-1"),
            &names(&two),
            &[],
            &mut &export(&wal, &two)[..],
            &mut |_| {},
        )
        .unwrap();
        let listed = list(&store, &key).unwrap();
        assert_eq!(listed.len(), 2);
        let back = t.path().join("back");
        let seen = dumped(&store, &key, &[a.id.clone(), b.id.clone()], &back);
        assert_eq!(seen.len(), 4);
        assert_eq!(
            std::fs::read(back.join(two[0])).unwrap(),
            vec![2u8; 100_000]
        );
        // A file damaged before it was shipped (one byte) is left out of the stream, its
        // record with it, and verify names it with the shipment it is in.
        let three = ["000000010000000000000003"];
        std::fs::write(wal.join(three[0]), vec![3u8; 100_000]).unwrap();
        let record = crate::wire::logs::LogFile {
            name: three[0].into(),
            size: 100_000,
            sha256: crate::agent::manifest::sha256_file(&wal.join(three[0])).unwrap(),
            ..Default::default()
        };
        std::fs::write(
            wal.join(format!("{}.json", three[0])),
            serde_json::to_vec(&record).unwrap(),
        )
        .unwrap();
        let mut bad = vec![3u8; 100_000];
        bad[5000] = 4;
        std::fs::write(wal.join(three[0]), bad).unwrap();
        let c = archive(
            &store,
            &key,
            ("prod", "prod-1"),
            &names(&three),
            &[],
            &mut &export(&wal, &three)[..],
            &mut |_| {},
        )
        .unwrap();
        let mut seen = dumped(
            &store,
            &key,
            &[b.id.clone(), c.id.clone()],
            &t.path().join("back2"),
        );
        seen.sort();
        assert_eq!(seen, [two[0].to_string(), format!("{}.json", two[0])]);
        let found = super::super::verify::verify(&store, &key).unwrap();
        assert_eq!(found.bad.len(), 1, "{:?}", found.bad);
        assert!(found.bad[0].object.contains(three[0]), "{:?}", found.bad);
        assert_eq!(found.bad[0].breaks, [c.id]);
    }
}
