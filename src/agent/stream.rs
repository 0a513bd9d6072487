//! The bulk stream that carries a snapshot between hosts (export's stdout, import's stdin).
//!
//! A sequence of records, each `kind: u8`, then for files, directories and links a header
//! (`u32` length + JSON `{path, mode, link}`) and for files a `u64` length and the bytes. Kind 0
//! ends the stream; a stream cut short never reads as complete.
//!
//! The receiver trusts nothing it is sent: paths are plain relative ones that pass through no
//! link, modes become 0700 (directories) and 0600 (files) whatever the sender said, and a link
//! is made only when the caller approves it.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path};

const END: u8 = 0;
const DIR: u8 = 1;
const FILE: u8 = 2;
const LINK: u8 = 3;

/// What a received tree's directories and files become, whatever the stream said: no setuid,
/// setgid or sticky bits, nothing for group or others.
const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    path: String,
    mode: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    /// A file's bytes travel as one zstd frame of its content, which is this long: the
    /// receiver writes the content. (A stored snapshot's compressed files go as they are,
    /// a tenth of the bytes to carry and encrypt.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zstd_of: Option<u64>,
}

fn put_header(out: &mut dyn Write, kind: u8, path: &str, mode: u32) -> Result<()> {
    put(
        out,
        kind,
        Header {
            path: path.into(),
            mode,
            link: None,
            zstd_of: None,
        },
    )
}

fn put(out: &mut dyn Write, kind: u8, header: Header) -> Result<()> {
    let h = serde_json::to_vec(&header)?;
    out.write_all(&[kind])?;
    out.write_all(&(h.len() as u32).to_be_bytes())?;
    out.write_all(&h)?;
    Ok(())
}

/// Writes the tree under `dir` (directories first, then links, then files in sorted order).
///
/// # Errors
/// A file cannot be read or the stream cannot be written.
pub fn write_tree(dir: &Path, out: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> Result<()> {
    write_tree_filtered(dir, &|_| true, true, out, progress)
}

/// Like [`write_tree`], sending only the files `include` accepts (by relative path), and links
/// only with `links`. Files are opened without following links.
///
/// # Errors
/// A file cannot be read or the stream cannot be written.
pub fn write_tree_filtered(
    dir: &Path,
    include: &dyn Fn(&str) -> bool,
    links: bool,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    write_tree_with(dir, include, links, &|_| Ok(None), out, progress)
}

/// What a file is sent as in place of its bytes on disk.
pub enum Content {
    /// Other bytes: their length and a reader of them.
    Plain(u64, Box<dyn Read>),
    /// The file on disk as it is, a zstd frame of content this long.
    Zstd(u64),
}

/// Like [`write_tree_filtered`], sending for each file what `content` gives for its
/// relative path instead of its bytes on disk, where it gives something.
///
/// # Errors
/// A file cannot be read or the stream cannot be written.
pub fn write_tree_with(
    dir: &Path,
    include: &dyn Fn(&str) -> bool,
    links: bool,
    content: &dyn Fn(&str) -> Result<Option<Content>>,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let mut dirs = vec![String::new()];
    let mut files = Vec::new();
    let mut symlinks = Vec::new();
    let mut i = 0;
    while i < dirs.len() {
        let d = dir.join(&dirs[i]);
        let mut entries: Vec<_> = std::fs::read_dir(&d)
            .with_context(|| format!("reading {}", d.display()))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let rel = Path::new(&dirs[i])
                .join(e.file_name())
                .to_string_lossy()
                .into_owned();
            let ft = e.file_type()?;
            if ft.is_dir() {
                dirs.push(rel);
            } else if ft.is_file() && include(&rel) {
                files.push(rel);
            } else if ft.is_symlink() && links && include(&rel) {
                symlinks.push(rel);
            }
        }
        i += 1;
    }
    // The files at the top first (a snapshot's info and manifest), then in path order, a
    // directory's files before the next directory's: the order a restic tree is built in,
    // so a repository can take the stream as it comes.
    files.sort_by(|a, b| (a.contains('/'), Path::new(a)).cmp(&(b.contains('/'), Path::new(b))));
    for d in dirs.iter().skip(1) {
        let mode = std::fs::metadata(dir.join(d))?.permissions().mode() & 0o7777;
        put_header(out, DIR, d, mode)?;
    }
    for l in &symlinks {
        let to = std::fs::read_link(dir.join(l))?;
        put(
            out,
            LINK,
            Header {
                path: l.clone(),
                mode: 0,
                link: Some(to.to_string_lossy().into_owned()),
                zstd_of: None,
            },
        )?;
    }
    let mut sent = 0u64;
    for f in &files {
        let p = dir.join(f);
        let src = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&p)
            .with_context(|| format!("opening {}", p.display()))?;
        let meta = src.metadata()?;
        let (len, mut body, zstd_of): (u64, Box<dyn Read>, _) = match content(f)? {
            Some(Content::Plain(len, body)) => (len, body, None),
            Some(Content::Zstd(size)) => (meta.len(), Box::new(src), Some(size)),
            None => (meta.len(), Box::new(src), None),
        };
        put(
            out,
            FILE,
            Header {
                path: f.clone(),
                mode: meta.permissions().mode() & 0o7777,
                link: None,
                zstd_of,
            },
        )?;
        out.write_all(&len.to_be_bytes())?;
        let copied = std::io::copy(&mut (&mut body).take(len), out)?;
        if copied != len {
            bail!("{} shrank while being sent", p.display());
        }
        sent += copied;
        progress(sent);
    }
    out.write_all(&[END])?;
    out.flush()?;
    Ok(())
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    out: W,
    h: sha2::Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(b)?;
        self.h.update(&b[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// `std::io::copy` through `buf`: a stream's files arrive in pieces as large as it, not in
/// 8 KiB reads and writes.
fn copy_with(r: &mut dyn Read, w: &mut dyn Write, buf: &mut [u8]) -> std::io::Result<u64> {
    let mut n = 0u64;
    loop {
        let k = match r.read(buf) {
            Ok(0) => return Ok(n),
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..k])?;
        n += k as u64;
    }
}

fn safe_relative(path: &str) -> Result<&Path> {
    let p = Path::new(path);
    if path.is_empty() || p.components().any(|c| !matches!(c, Component::Normal(_))) {
        bail!("refusing stream entry {path:?}: not a plain relative path");
    }
    Ok(p)
}

/// What a record of a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Link,
}

/// One record's header; a file's bytes follow it in the stream (`len` of them).
#[derive(Debug, Clone)]
pub struct Record {
    pub kind: Kind,
    /// A plain relative path (checked).
    pub path: String,
    pub mode: u32,
    pub link: Option<String>,
    /// A file's bytes in the stream.
    pub len: u64,
    /// A file sent as a zstd frame of content this long.
    pub zstd_of: Option<u64>,
}

impl Record {
    /// The file's content size.
    pub fn size(&self) -> u64 {
        self.zstd_of.unwrap_or(self.len)
    }
}

/// Reads the next record's header; None at the end record. A file's bytes are left in
/// `input`, for the caller to read (`len` of them).
///
/// # Errors
/// The stream ends before its end record or is malformed.
pub fn next_record(input: &mut dyn Read) -> Result<Option<Record>> {
    let mut kind = [0u8; 1];
    input
        .read_exact(&mut kind)
        .context("the stream ended before its end record")?;
    let kind = match kind[0] {
        END => return Ok(None),
        DIR => Kind::Dir,
        FILE => Kind::File,
        LINK => Kind::Link,
        k => bail!("bad stream record kind {k}"),
    };
    let mut len = [0u8; 4];
    input.read_exact(&mut len).context("the stream was cut")?;
    let mut h = vec![0u8; u32::from_be_bytes(len) as usize];
    input.read_exact(&mut h).context("the stream was cut")?;
    let h: Header = serde_json::from_slice(&h).context("bad stream header")?;
    safe_relative(&h.path)?;
    let len = if kind == Kind::File {
        let mut size = [0u8; 8];
        input.read_exact(&mut size).context("the stream was cut")?;
        u64::from_be_bytes(size)
    } else {
        0
    };
    Ok(Some(Record {
        kind,
        path: h.path,
        mode: h.mode,
        link: h.link,
        len,
        zstd_of: h.zstd_of,
    }))
}

/// Writes a directory's record.
///
/// # Errors
/// The stream cannot be written.
pub fn put_dir(out: &mut dyn Write, path: &str, mode: u32) -> Result<()> {
    put_header(out, DIR, path, mode)
}

/// Writes a link's record.
///
/// # Errors
/// The stream cannot be written.
pub fn put_link(out: &mut dyn Write, path: &str, to: &str) -> Result<()> {
    put(
        out,
        LINK,
        Header {
            path: path.into(),
            mode: 0,
            link: Some(to.into()),
            zstd_of: None,
        },
    )
}

/// Writes a plain file's record header; its `len` bytes must follow.
///
/// # Errors
/// The stream cannot be written.
pub fn put_file(out: &mut dyn Write, path: &str, mode: u32, len: u64) -> Result<()> {
    put_header(out, FILE, path, mode)?;
    out.write_all(&len.to_be_bytes())?;
    Ok(())
}

/// Writes the end record.
///
/// # Errors
/// The stream cannot be written.
pub fn put_end(out: &mut dyn Write) -> Result<()> {
    out.write_all(&[END])?;
    out.flush()?;
    Ok(())
}

/// Reads a stream into `dir`, calling `on_file(relative path, absolute path, content SHA-256)`
/// after each file (hashed as it is written, in large pieces: no second read). A stream that
/// carries a link is refused.
///
/// # Errors
/// The stream is malformed or ends before its end record, or a file cannot be written.
pub fn read_tree(
    input: &mut dyn Read,
    dir: &Path,
    on_file: &mut dyn FnMut(&str, &Path, &str) -> Result<()>,
) -> Result<u64> {
    read_tree_with_links(input, dir, on_file, &mut |rel, _| {
        bail!("refusing stream entry {rel:?}: a link")
    })
}

/// Like [`read_tree`], making each link that `on_link(relative path, target)` approves.
///
/// # Errors
/// As [`read_tree`], or `on_link` refuses a link.
pub fn read_tree_with_links(
    input: &mut dyn Read,
    dir: &Path,
    on_file: &mut dyn FnMut(&str, &Path, &str) -> Result<()>,
    on_link: &mut dyn FnMut(&str, &str) -> Result<()>,
) -> Result<u64> {
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    while let Some(h) = next_record(input)? {
        let rel = Path::new(&h.path);
        if crate::agent::links::passes_through_link(dir, rel) {
            bail!(
                "refusing stream entry {:?}: it passes through a link",
                h.path
            );
        }
        let target = dir.join(rel);
        match h.kind {
            Kind::Dir => {
                std::fs::create_dir_all(&target)?;
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(DIR_MODE))?;
            }
            Kind::Link => {
                let to = h.link.as_deref().unwrap_or_default();
                on_link(&h.path, to)?;
                std::os::unix::fs::symlink(to, &target)
                    .with_context(|| format!("creating the link {}", h.path))?;
            }
            Kind::File => {
                let size = h.len;
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(FILE_MODE)
                    .custom_flags(nix::libc::O_NOFOLLOW)
                    .open(&target)
                    .with_context(|| format!("creating {}", target.display()))?;
                let f = crate::agent::storage::durable::Written::new(f);
                let mut f = Hashing {
                    out: f,
                    h: sha2::Sha256::new(),
                };
                let mut body = input.take(size);
                match h.zstd_of {
                    None => {
                        let got = copy_with(&mut body, &mut f, &mut buf)?;
                        if got != size {
                            bail!(
                                "the stream was cut inside {} ({got} of {size} bytes)",
                                h.path
                            );
                        }
                    }
                    Some(content) => {
                        // Never more than the sender said: a small frame cannot fill the disk.
                        let mut z = zstd::stream::read::Decoder::new(&mut body)?;
                        let got = copy_with(&mut (&mut z).take(content + 1), &mut f, &mut buf)
                            .with_context(|| format!("{}: a damaged frame", h.path))?;
                        drop(z);
                        let rest = std::io::copy(&mut body, &mut std::io::sink())?;
                        if got != content || rest != 0 {
                            bail!(
                                "{}: the frame held {got} bytes of {content} ({rest} bytes after it)",
                                h.path
                            );
                        }
                    }
                }
                let sha = hex::encode(f.h.finalize());
                f.out
                    .file()
                    .set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
                total += size;
                on_file(&h.path, &target, &sha)?;
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compressed_file_travels_as_its_frame_and_lands_as_its_content() {
        let src = tempfile::tempdir().unwrap();
        let body = vec![5u8; 300_000];
        let frame = zstd::encode_all(&body[..], 1).unwrap();
        std::fs::write(src.path().join("f"), &frame).unwrap();
        let send = |claimed: u64| {
            let mut buf = Vec::new();
            write_tree_with(
                src.path(),
                &|_| true,
                false,
                &|_| Ok(Some(Content::Zstd(claimed))),
                &mut buf,
                &mut |_| {},
            )
            .unwrap();
            buf
        };
        let buf = send(body.len() as u64);
        assert!(
            buf.len() < body.len() / 10,
            "the frame travels, not the content"
        );
        let dst = tempfile::tempdir().unwrap();
        read_tree(&mut &buf[..], dst.path(), &mut |_, _, _| Ok(())).unwrap();
        assert_eq!(std::fs::read(dst.path().join("f")).unwrap(), body);
        // A frame holding more than its header said is refused.
        let dst = tempfile::tempdir().unwrap();
        let e = read_tree(&mut &send(1000)[..], dst.path(), &mut |_, _, _| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("f: the frame held"), "{e}");
    }

    #[test]
    fn round_trips_a_tree_and_detects_a_cut() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("a/b")).unwrap();
        std::fs::write(src.path().join("a/b/f"), vec![7u8; 100_000]).unwrap();
        std::fs::write(src.path().join("top"), b"x").unwrap();
        let mut buf = Vec::new();
        write_tree(src.path(), &mut buf, &mut |_| {}).unwrap();
        let dst = tempfile::tempdir().unwrap();
        let mut seen = vec![];
        let n = read_tree(&mut buf.as_slice(), dst.path(), &mut |rel, _, _| {
            seen.push(rel.to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 100_001);
        assert_eq!(seen, ["top", "a/b/f"]);
        assert_eq!(
            std::fs::read(dst.path().join("a/b/f")).unwrap().len(),
            100_000
        );
        let cut = &buf[..buf.len() / 2];
        let dst2 = tempfile::tempdir().unwrap();
        assert!(read_tree(&mut &cut[..], dst2.path(), &mut |_, _, _| Ok(())).is_err());
    }

    #[test]
    fn modes_are_normalized_and_links_need_approval() {
        let mut buf = Vec::new();
        put_header(&mut buf, DIR, "d", 0o4777).unwrap();
        put_header(&mut buf, FILE, "d/f", 0o6777).unwrap();
        buf.extend_from_slice(&1u64.to_be_bytes());
        buf.push(b'x');
        put(
            &mut buf,
            LINK,
            Header {
                path: "l".into(),
                mode: 0,
                link: Some("/etc".into()),
                zstd_of: None,
            },
        )
        .unwrap();
        put_header(&mut buf, FILE, "l/passwd", 0o600).unwrap();
        buf.extend_from_slice(&1u64.to_be_bytes());
        buf.push(b'x');
        buf.push(END);
        let dst = tempfile::tempdir().unwrap();
        // Links refused by default.
        assert!(read_tree(&mut buf.as_slice(), dst.path(), &mut |_, _, _| Ok(())).is_err());
        let mode = |p: &str| {
            std::fs::metadata(dst.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        };
        assert_eq!((mode("d"), mode("d/f")), (0o700, 0o600));
        // Approved, the link is made, but nothing is written through it.
        let dst = tempfile::tempdir().unwrap();
        let e = read_tree_with_links(
            &mut buf.as_slice(),
            dst.path(),
            &mut |_, _, _| Ok(()),
            &mut |_, _| Ok(()),
        )
        .unwrap_err();
        assert!(format!("{e}").contains("passes through a link"), "{e}");
    }

    #[test]
    fn refuses_paths_that_escape() {
        let mut buf = Vec::new();
        put_header(&mut buf, DIR, "../evil", 0o755).unwrap();
        let dst = tempfile::tempdir().unwrap();
        assert!(read_tree(&mut buf.as_slice(), dst.path(), &mut |_, _, _| Ok(())).is_err());
    }
}
