//! Reading a stored file's content, compressed (zstd, told by its first bytes) or not: its
//! size and SHA-256, written out when asked, or why it does not decode.

use super::durable::Written;
use super::files::create_like;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The first bytes of every zstd frame. No engine's log file starts with them (PostgreSQL's
/// segments start with a page header, MariaDB's binlogs with their own magic), so a log
/// archive can tell a compressed file from a plain one by looking.
/// How much is read at a time.
pub(super) const BUF: usize = 1 << 20;

const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Whether the file at `path` is a zstd frame (read without following a link).
pub fn is_packed(path: &Path) -> bool {
    let mut head = [0u8; 4];
    File::options()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head == MAGIC)
}

/// The content of a stored file: decoded when it is `compressed`. Never through a link.
///
/// # Errors
/// The file cannot be opened.
pub fn open(path: &Path, compressed: bool) -> Result<Box<dyn Read + Send>> {
    let f = File::options()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    Ok(if compressed {
        Box::new(zstd::stream::read::Decoder::new(f)?)
    } else {
        Box::new(f)
    })
}

/// What reading a stored file's content found.
pub enum Content {
    /// Its size and SHA-256.
    Read(u64, String),
    /// It could not be decoded (a damaged byte, a cut-off frame): why.
    Damaged(String),
}

/// The content of a stored file held in memory (as a stream or a repository carries it),
/// compressed or not: its size and SHA-256, or why it does not decode.
pub fn content_of(stored: &[u8]) -> Content {
    let mut h = Sha256::new();
    if !stored.starts_with(&MAGIC) {
        h.update(stored);
        return Content::Read(stored.len() as u64, hex::encode(h.finalize()));
    }
    let mut d = match zstd::stream::read::Decoder::new(stored) {
        Ok(d) => d,
        Err(e) => return Content::Damaged(e.to_string()),
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        match d.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                size += n as u64;
            }
            Err(e) => return Content::Damaged(e.to_string()),
        }
    }
    Content::Read(size, hex::encode(h.finalize()))
}

/// Hashes the content of the stored file at `src`, writing it to `dst` (created, with the
/// source's mode and owner) when given.
///
/// # Errors
/// The file cannot be opened or `dst` written (a decoding failure is [`Content::Damaged`]).
pub fn read_content(src: &Path, compressed: bool, dst: Option<&Path>) -> Result<Content> {
    let r = open(src, compressed)?;
    if compressed && std::fs::symlink_metadata(src).is_ok_and(|m| m.len() >= PIPELINE_AT) {
        return read_pipelined(src, r, dst);
    }
    read_with(src, r, compressed, dst)
}

/// [`read_content`] of a file that may or may not be compressed, told by its first bytes,
/// read from the same open file: a file compressed in place between a look and an open
/// would otherwise be read the wrong way.
///
/// # Errors
/// The file cannot be opened or `dst` written (a decoding failure is [`Content::Damaged`]).
pub fn read_any(src: &Path, dst: Option<&Path>) -> Result<Content> {
    use std::io::{Seek, SeekFrom};
    let mut f = File::options()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(src)
        .with_context(|| format!("opening {}", src.display()))?;
    let mut head = [0u8; 4];
    let packed = f.read_exact(&mut head).is_ok() && head == MAGIC;
    f.seek(SeekFrom::Start(0))?;
    if !packed {
        return read_with(src, Box::new(f), false, dst);
    }
    let large = f.metadata()?.len() >= PIPELINE_AT;
    let r = Box::new(zstd::stream::read::Decoder::new(f)?);
    if large {
        read_pipelined(src, r, dst)
    } else {
        read_with(src, r, true, dst)
    }
}

/// Compressed files this large are read in three stages on threads of their own (decoding,
/// hashing, writing): one large table's file is otherwise the whole copy's critical path,
/// left to run alone on one core once the small files are done.
pub(super) const PIPELINE_AT: u64 = 8 << 20;

fn read_pipelined(src: &Path, mut r: Box<dyn Read + Send>, dst: Option<&Path>) -> Result<Content> {
    type Chunk = std::sync::Arc<Vec<u8>>;
    let mut out = match dst {
        Some(d) => Some(Written::new(create_like(
            d,
            &std::fs::symlink_metadata(src)?,
        )?)),
        None => None,
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Chunk>>(4);
    let decoder = std::thread::spawn(move || loop {
        let mut buf = vec![0u8; BUF];
        let mut filled = 0;
        // Whole buffers (but the last): fewer, larger hand-overs.
        let end = loop {
            match r.read(&mut buf[filled..]) {
                Ok(0) => break true,
                Ok(n) => {
                    filled += n;
                    if filled == buf.len() {
                        break false;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        };
        buf.truncate(filled);
        if (!buf.is_empty() && tx.send(Ok(std::sync::Arc::new(buf))).is_err()) || end {
            return;
        }
    });
    let (wtx, wrx) = std::sync::mpsc::sync_channel::<Chunk>(4);
    std::thread::scope(|scope| {
        let writer = out.as_mut().map(|o| {
            scope.spawn(move || -> std::io::Result<()> {
                for chunk in wrx {
                    o.write_all(&chunk)?;
                }
                Ok(())
            })
        });
        let mut wtx = writer.is_some().then_some(wtx);
        let mut h = Sha256::new();
        let mut size = 0u64;
        let mut damaged = None;
        for chunk in &rx {
            match chunk {
                Ok(c) => {
                    h.update(&c[..]);
                    size += c.len() as u64;
                    // A writer that failed has hung up; its error is read below.
                    if wtx.as_ref().is_some_and(|w| w.send(c).is_err()) {
                        wtx = None;
                    }
                }
                Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                    return Err(e).with_context(|| format!("reading {}", src.display()));
                }
                Err(e) => {
                    damaged = Some(e.to_string());
                    break;
                }
            }
        }
        drop(wtx);
        drop(rx);
        let _ = decoder.join();
        if let Some(w) = writer {
            w.join()
                .map_err(|_| anyhow::anyhow!("the writer of {} panicked", src.display()))?
                .with_context(|| format!("writing {}", src.display()))?;
        }
        Ok(match damaged {
            Some(why) => Content::Damaged(why),
            None => Content::Read(size, hex::encode(h.finalize())),
        })
    })
}

fn read_with(
    src: &Path,
    mut r: Box<dyn Read + Send>,
    compressed: bool,
    dst: Option<&Path>,
) -> Result<Content> {
    let mut out = match dst {
        Some(d) => Some(Written::new(create_like(
            d,
            &std::fs::symlink_metadata(src)?,
        )?)),
        None => None,
    };
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    let mut size = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if compressed && e.kind() != ErrorKind::PermissionDenied => {
                return Ok(Content::Damaged(e.to_string()))
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", src.display())),
        };
        h.update(&buf[..n]);
        if let Some(o) = out.as_mut() {
            o.write_all(&buf[..n])
                .with_context(|| format!("writing {}", src.display()))?;
        }
        size += n as u64;
    }
    Ok(Content::Read(size, hex::encode(h.finalize())))
}
