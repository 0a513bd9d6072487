//! A copy that checks itself: every file of a snapshot copied on several threads and hashed
//! as it is written, against the snapshot's manifest, so that making a clone reads each of
//! the snapshot's bytes once (a separate check before or after would read them again).

use super::content::{read_content, Content};
use super::parallel::{in_parallel, lock};
use crate::agent::manifest::Manifest;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What a checked copy found and did.
#[derive(Debug, Default)]
pub struct Checked {
    /// One line per file that is not as the manifest says (empty: an exact copy).
    pub problems: Vec<String>,
    /// Bytes read from the snapshot.
    pub bytes_read: u64,
}

/// Copies `src` (a snapshot's tree) to `dst` (absent), checking every file against `m` as
/// it is copied.
///
/// # Errors
/// A directory cannot be read or made, or a file cannot be written.
pub fn copy_checked(src: &Path, dst: &Path, m: &Manifest) -> Result<Checked> {
    let mut files = Vec::new();
    make_tree(src, dst, "", &mut files)?;
    // Largest first: a large table's file, the longest single copy, starts at once.
    files.sort_by_key(|rel| std::cmp::Reverse(m.files.get(rel).map_or(0, |e| e.size)));
    let read = AtomicU64::new(0);
    let problems = Mutex::new(Vec::new());
    in_parallel(&files, |rel| {
        let entry = m.files.get(rel);
        let compressed = entry.is_some_and(|e| e.compressed.is_some());
        let (from, to) = (src.join(rel), dst.join(rel));
        let content = if compressed {
            read_content(&from, true, Some(&to))?
        } else {
            let (size, sum) = copy_hashed(&from, &to)?;
            Content::Read(size, sum)
        };
        read.fetch_add(
            std::fs::symlink_metadata(&from).map_or(0, |m| m.len()),
            Ordering::Relaxed,
        );
        // Sizes, presence and extras are checked below, from metadata.
        match content {
            Content::Read(size, sum) => {
                if entry.is_some_and(|e| e.size == size && e.sha256 != sum) {
                    lock(&problems).push(format!("{rel}: checksum mismatch"));
                }
            }
            Content::Damaged(why) => {
                lock(&problems).push(format!("{rel}: checksum mismatch ({why})"));
            }
        }
        Ok(())
    })?;
    let mut problems = problems.into_inner().unwrap_or_default();
    // The copy holds the content itself, whatever the snapshot stores.
    problems.extend(m.as_plain().check(dst, false, &[])?);
    problems.sort();
    Ok(Checked {
        problems,
        bytes_read: read.into_inner(),
    })
}

/// Makes `dst`'s directories and links as in `src`, and lists its regular files.
fn make_tree(src: &Path, dst: &Path, rel: &str, files: &mut Vec<String>) -> Result<()> {
    let meta = std::fs::symlink_metadata(src)?;
    std::fs::create_dir(dst).with_context(|| format!("creating {}", dst.display()))?;
    std::fs::set_permissions(dst, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let _ = nix::unistd::chown(dst, Some(meta.uid().into()), Some(meta.gid().into()));
    for e in std::fs::read_dir(src).with_context(|| format!("reading {}", src.display()))? {
        let e = e?;
        let name = e.file_name();
        let child = if rel.is_empty() {
            name.to_string_lossy().into_owned()
        } else {
            format!("{rel}/{}", name.to_string_lossy())
        };
        let ft = e.file_type()?;
        if ft.is_dir() {
            make_tree(&e.path(), &dst.join(&name), &child, files)?;
        } else if ft.is_file() {
            files.push(child);
        } else if ft.is_symlink() {
            // Only the links a snapshot keeps are there (they stay inside it); the manifest
            // check below compares them.
            std::os::unix::fs::symlink(std::fs::read_link(e.path())?, dst.join(&name))?;
        }
    }
    Ok(())
}

/// Copies one file (never through a link, never over an existing one), hashing what it
/// reads; keeps mode and owner. Returns its size and SHA-256.
///
/// # Errors
/// The source cannot be read or the copy written.
pub fn copy_hashed(src: &Path, dst: &Path) -> Result<(u64, String)> {
    let mut s = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(src)
        .with_context(|| format!("opening {}", src.display()))?;
    let meta = s.metadata()?;
    let mut d = super::durable::Written::new(super::files::create_like(dst, &meta)?);
    hash_into(&mut s, &mut d, src, dst)
}

/// Reads `r` (the file `src`) to its end, hashing it and writing it to `w` (the file `dst`).
/// Returns its size and SHA-256.
///
/// # Errors
/// A read or a write fails.
pub fn hash_into(
    r: &mut dyn Read,
    w: &mut dyn Write,
    src: &Path,
    dst: &Path,
) -> Result<(u64, String)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", src.display())),
        };
        h.update(&buf[..n]);
        w.write_all(&buf[..n])
            .with_context(|| format!("writing {}", dst.display()))?;
        size += n as u64;
    }
    Ok((size, hex::encode(h.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::manifest::Entry;

    fn entry(body: &[u8]) -> Entry {
        Entry {
            size: body.len() as u64,
            sha256: hex::encode(Sha256::digest(body)),
            source_mtime_ns: 0,
            compressed: None,
        }
    }

    #[test]
    fn copies_each_byte_once_and_names_a_damaged_file() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("snap");
        std::fs::create_dir_all(src.join("base/1")).unwrap();
        let mut m = Manifest::default();
        for (rel, body) in [
            ("PG_VERSION", &b"15\n"[..]),
            ("base/1/1259", &[7u8; 300_000][..]),
        ] {
            std::fs::write(src.join(rel), body).unwrap();
            m.files.insert(rel.into(), entry(body));
        }
        let ok = copy_checked(&src, &d.path().join("copy"), &m).unwrap();
        assert!(ok.problems.is_empty(), "{:?}", ok.problems);
        assert_eq!(ok.bytes_read, m.total_bytes());
        assert_eq!(
            std::fs::read(d.path().join("copy/base/1/1259")).unwrap(),
            vec![7u8; 300_000]
        );
        // One byte changed in the snapshot: caught while copying, the file named.
        let mut body = vec![7u8; 300_000];
        body[123_456] = 8;
        std::fs::write(src.join("base/1/1259"), &body).unwrap();
        let bad = copy_checked(&src, &d.path().join("copy2"), &m).unwrap();
        assert_eq!(bad.problems, ["base/1/1259: checksum mismatch"]);
        // A file gone and one the manifest does not know.
        std::fs::remove_file(src.join("PG_VERSION")).unwrap();
        std::fs::write(src.join("extra"), b"x").unwrap();
        let worse = copy_checked(&src, &d.path().join("copy3"), &m).unwrap();
        assert!(
            worse.problems.contains(&"PG_VERSION: missing".to_string()),
            "{:?}",
            worse.problems
        );
        assert!(
            worse
                .problems
                .contains(&"extra: not in the manifest".to_string()),
            "{:?}",
            worse.problems
        );
    }
}
