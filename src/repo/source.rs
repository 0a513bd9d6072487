//! A snapshot's bulk stream as a source rustic can archive, read once, as it comes.
//!
//! rustic's archiver lists a source's entries ahead of reading them and reads files on
//! several threads; a stream gives each file once, in order. So the stream's head (its
//! directories, links, info and manifest) is read first and the entries built from the
//! manifest, in the order dbhost sends the files (a restic tree's order); then each file's
//! reader takes its turn: it waits until the files before it have been read (or dropped, and
//! then skipped), and reads its bytes as a reader thread hands them over, decoded from the
//! frames they travel as and checked against the manifest on the way. Anything wrong with
//! the stream is kept in [`Turnstile::failure`], since rustic passes over a file it could not
//! read and would save the snapshot without it.

use crate::agent::manifest::{self, Manifest};
use crate::agent::stream::{self, Kind, Record};
use anyhow::{bail, Context, Result};
use rustic_core::repofile::{Metadata, Node, NodeType};
use rustic_core::{ReadSource, ReadSourceEntry, RusticResult};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex};

use crate::agent::snapshots::INFO_FILE as INFO;

/// What travels from the reader thread to the file whose turn it is.
pub enum Piece {
    Data(Vec<u8>),
    End,
    Failed(String),
}

struct Turn {
    /// The file whose turn it is.
    next: usize,
    /// None once the archive has ended: the feeder then stops.
    rx: Option<Receiver<Piece>>,
    /// Files dropped before their turn: skipped when it comes.
    abandoned: BTreeSet<usize>,
    failure: Option<String>,
}

/// Hands the stream's files to their readers, one after another in stream order.
pub struct Turnstile {
    turn: Mutex<Turn>,
    cv: Condvar,
}

impl Turnstile {
    fn fail(&self, why: String) {
        let mut t = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        t.failure.get_or_insert(why);
    }

    /// The archive has ended: nothing more is read, so a feeder waiting to hand over a
    /// piece stops.
    pub fn close(&self) {
        let mut t = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        t.rx = None;
        self.cv.notify_all();
    }

    /// Why the stream did not arrive whole, if it did not.
    pub fn failure(&self) -> Option<String> {
        self.turn
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failure
            .clone()
    }
}

/// Reads pieces up to the current file's end (a skipped file).
fn drain(t: &mut Turn) {
    loop {
        match recv(t) {
            Ok(Piece::Data(_)) => {}
            Ok(Piece::End) => return,
            Ok(Piece::Failed(e)) => {
                t.failure.get_or_insert(e);
                return;
            }
            Err(_) => {
                t.failure
                    .get_or_insert_with(|| "the stream ended early".into());
                return;
            }
        }
    }
}

fn recv(t: &Turn) -> Result<Piece, std::sync::mpsc::RecvError> {
    t.rx.as_ref().ok_or(std::sync::mpsc::RecvError)?.recv()
}

/// The current file is done: the next one's turn, past any that were dropped.
fn advance(t: &mut Turn) {
    t.next += 1;
    while t.abandoned.remove(&t.next) {
        drain(t);
        t.next += 1;
    }
}

/// One file of the stream, read in its turn.
pub struct Slot {
    seq: usize,
    t: Arc<Turnstile>,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for Slot {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() && !self.done {
            let mut t = self.t.turn.lock().unwrap_or_else(|e| e.into_inner());
            while t.next != self.seq {
                t = self.t.cv.wait(t).unwrap_or_else(|e| e.into_inner());
            }
            let piece = recv(&t);
            match piece {
                Ok(Piece::Data(v)) => (self.buf, self.pos) = (v, 0),
                Ok(Piece::End) => {
                    self.done = true;
                    advance(&mut t);
                    self.t.cv.notify_all();
                }
                Ok(Piece::Failed(e)) => {
                    t.failure.get_or_insert(e.clone());
                    return Err(std::io::Error::other(e));
                }
                Err(_) => {
                    let e = t
                        .failure
                        .get_or_insert_with(|| "the stream ended early".into())
                        .clone();
                    return Err(std::io::Error::other(e));
                }
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut t = self.t.turn.lock().unwrap_or_else(|e| e.into_inner());
        if t.next == self.seq {
            drain(&mut t);
            advance(&mut t);
        } else if t.next < self.seq {
            t.abandoned.insert(self.seq);
        }
        self.t.cv.notify_all();
    }
}

/// What an entry is opened as: a file of the stream's head (kept in memory) or of its body.
pub enum Opened {
    Memory(Cursor<Vec<u8>>),
    Stream(Slot),
}

impl Read for Opened {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Opened::Memory(c) => c.read(out),
            Opened::Stream(s) => s.read(out),
        }
    }
}

/// The stream's head: everything before the first data file.
pub struct Head {
    pub info: Vec<u8>,
    pub manifest: Manifest,
    manifest_bytes: Vec<u8>,
    dirs: Vec<(String, u32)>,
    links: Vec<(String, String)>,
}

/// The data files in the order the stream carries them.
fn data_files(m: &Manifest) -> Vec<String> {
    let mut files: Vec<String> = m.files.keys().map(|f| format!("data/{f}")).collect();
    files.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    files
}

/// Reads the stream up to its first data file.
///
/// # Errors
/// The stream is malformed, or does not start with a snapshot's info and manifest.
pub fn read_head(input: &mut dyn Read) -> Result<(Head, Option<Record>)> {
    let (mut dirs, mut links) = (Vec::new(), Vec::new());
    let (mut info, mut manifest_bytes) = (None, None);
    let first_data = loop {
        let Some(r) = stream::next_record(input)? else {
            break None;
        };
        match r.kind {
            Kind::Dir => dirs.push((r.path, r.mode)),
            Kind::Link => links.push((r.path, r.link.unwrap_or_default())),
            Kind::File if r.path == INFO || r.path == manifest::FILE_NAME => {
                anyhow::ensure!(
                    r.zstd_of.is_none() && r.len < 256 << 20,
                    "{}: not a plain file of a sane size",
                    r.path
                );
                let mut body = Vec::with_capacity(r.len as usize);
                input.take(r.len).read_to_end(&mut body)?;
                anyhow::ensure!(body.len() as u64 == r.len, "the stream was cut");
                if r.path == INFO {
                    info = Some(body);
                } else {
                    manifest_bytes = Some(body);
                }
            }
            Kind::File => break Some(r),
        }
    };
    let info = info.context("the stream had no snapshot info before its data")?;
    let manifest_bytes = manifest_bytes.context("the stream had no manifest before its data")?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).context("the snapshot's manifest")?;
    Ok((
        Head {
            info,
            manifest,
            manifest_bytes,
            dirs,
            links,
        },
        first_data,
    ))
}

fn node(path: &Path, node_type: NodeType, mode: u32, size: u64) -> Node {
    let name = path.file_name().unwrap_or(OsStr::new(""));
    Node::new_node(
        name,
        node_type,
        Metadata {
            mode: Some(mode),
            size,
            ..Default::default()
        },
    )
}

/// The stream as rustic's source: every entry under `/`, files opened in their turn.
pub struct SnapshotSource {
    entries: Mutex<Option<Vec<RusticResult<ReadSourceEntry<Opened>>>>>,
    total: u64,
}

impl ReadSource for SnapshotSource {
    type Open = Opened;
    type Iter = std::vec::IntoIter<RusticResult<ReadSourceEntry<Opened>>>;

    fn size(&self) -> RusticResult<Option<u64>> {
        Ok(Some(self.total))
    }

    fn entries(&self) -> Self::Iter {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default()
            .into_iter()
    }
}

/// Builds the source for a stream whose head is `head`, and the turnstile its files pass;
/// the sender is for [`feed`].
pub fn source(head: &Head) -> (SnapshotSource, Arc<Turnstile>, SyncSender<Piece>) {
    // A few MiB in flight: the reader runs ahead of the chunker, never far.
    let (tx, rx) = sync_channel(8);
    let t = Arc::new(Turnstile {
        turn: Mutex::new(Turn {
            next: 0,
            rx: Some(rx),
            abandoned: BTreeSet::new(),
            failure: None,
        }),
        cv: Condvar::new(),
    });
    let root = Path::new("/");
    let mut all: Vec<(PathBuf, Node, Option<Opened>)> = Vec::new();
    for (d, mode) in &head.dirs {
        all.push((
            root.join(d),
            node(Path::new(d), NodeType::Dir, *mode, 0),
            None,
        ));
    }
    for (l, to) in &head.links {
        let n = node(Path::new(l), NodeType::from_link(Path::new(to)), 0o777, 0);
        all.push((root.join(l), n, None));
    }
    for (name, body) in [
        (INFO, &head.info),
        (manifest::FILE_NAME, &head.manifest_bytes),
    ] {
        let n = node(Path::new(name), NodeType::File, 0o600, body.len() as u64);
        let open = Opened::Memory(Cursor::new(body.clone()));
        all.push((root.join(name), n, Some(open)));
    }
    let mut total = 0;
    for (seq, f) in data_files(&head.manifest).into_iter().enumerate() {
        let size = head.manifest.files[&f["data/".len()..]].size;
        total += size;
        let slot = Slot {
            seq,
            t: t.clone(),
            buf: Vec::new(),
            pos: 0,
            done: false,
        };
        let n = node(Path::new(&f), NodeType::File, 0o600, size);
        all.push((root.join(&f), n, Some(Opened::Stream(slot))));
    }
    // A restic tree is built in path order, a directory's entries before the next one's.
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let entries = all
        .into_iter()
        .map(|(path, node, open)| Ok(ReadSourceEntry { path, node, open }))
        .collect();
    (
        SnapshotSource {
            entries: Mutex::new(Some(entries)),
            total,
        },
        t,
        tx,
    )
}

/// Reads the stream's data files (the first already read as `first`) and hands them to
/// their readers, each decoded and checked against the manifest; calls `moved` with the
/// content bytes so far. Any fault is also given to the file waiting for it.
///
/// # Errors
/// The stream is cut, out of order, or a file does not match the manifest.
pub fn feed(
    head: &Head,
    first: Option<Record>,
    input: &mut dyn Read,
    tx: SyncSender<Piece>,
    t: &Turnstile,
    moved: &mut dyn FnMut(u64),
) -> Result<()> {
    let result = feed_files(head, first, input, &tx, moved);
    if let Err(e) = &result {
        let why = format!("{e:#}");
        // The file waiting for a piece holds the turnstile while it waits: it hears of the
        // fault (or of the stream's end) first, and lets go, before the fault is recorded.
        let _ = tx.try_send(Piece::Failed(why.clone()));
        drop(tx);
        t.fail(why);
    }
    result
}

fn feed_files(
    head: &Head,
    mut next: Option<Record>,
    input: &mut dyn Read,
    tx: &SyncSender<Piece>,
    moved: &mut dyn FnMut(u64),
) -> Result<()> {
    let mut sent = 0u64;
    for want in data_files(&head.manifest) {
        let r = next
            .take()
            .context("the stream ended before all its files")?;
        if r.kind != Kind::File || r.path != want {
            bail!("the stream sent {} where {want} was due", r.path);
        }
        let entry = &head.manifest.files[&want["data/".len()..]];
        let mut body = input.take(r.len);
        let mut content: Box<dyn Read + '_> = match r.zstd_of {
            Some(_) => Box::new(zstd::stream::read::Decoder::new(&mut body)?),
            None => Box::new(&mut body),
        };
        let mut h = Sha256::new();
        let mut got = 0u64;
        loop {
            let mut buf = vec![0u8; 1 << 20];
            let n = read_full(&mut content, &mut buf).with_context(|| format!("reading {want}"))?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            h.update(&buf);
            got += n as u64;
            if got > entry.size {
                bail!("{want}: longer than its manifest says");
            }
            sent += n as u64;
            moved(sent);
            if tx.send(Piece::Data(buf)).is_err() {
                bail!("the repository stopped taking the stream");
            }
        }
        drop(content);
        if body.limit() != 0 {
            bail!("the stream was cut inside {want}");
        }
        if got != entry.size || hex::encode(h.finalize()) != entry.sha256 {
            bail!("{want}: checksum mismatch against the snapshot's manifest");
        }
        if tx.send(Piece::End).is_err() {
            bail!("the repository stopped taking the stream");
        }
        next = stream::next_record(input)?;
    }
    if let Some(r) = next {
        bail!(
            "the stream sent {}, which its manifest does not hold",
            r.path
        );
    }
    Ok(())
}

/// Reads until `buf` is full or the reader ends.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
