//! Storing a log file durably with its checksum and commit times.

use super::{dir, read_sidecar, sidecar, valid_file_name, Commit, LogFile, LogFormat};
use crate::agent::layout::Layout;
use crate::agent::manifest::sha256_file;
use crate::agent::storage::content::{is_packed, read_any, Content};
use crate::agent::storage::packed::compress_in_place;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// Stores `source` as `name`: copied to a temporary file while hashed, fsynced, renamed, then
/// described in a sidecar. Success only once all of that is on disk. A second archive of the
/// same name succeeds only if the content is identical (servers retry).
///
/// # Errors
/// Anything short of a durably stored file.
pub fn archive(
    layout: &Layout,
    instance: &str,
    source: &Path,
    name: &str,
    format: &dyn LogFormat,
) -> Result<LogFile> {
    valid_file_name(name)?;
    let d = dir(layout, instance);
    std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
    let target = d.join(name);
    if target.exists() {
        let existing = content_sha256(&target)?;
        if existing == sha256_file(source)? {
            return read_sidecar(&d, name);
        }
        bail!("{name} is already archived with other content; refusing to overwrite it");
    }
    let tmp = d.join(format!(".{name}.tmp"));
    let mut src =
        std::fs::File::open(source).with_context(|| format!("opening {}", source.display()))?;
    let mut out = std::fs::File::create(&tmp)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        size += n as u64;
    }
    out.sync_all()?;
    drop(out);
    std::fs::rename(&tmp, &target)?;
    let chained = format.in_chain(name);
    // Read from the previous file on, when it is here: a commit record that began there
    // and ends in this one is readable only now, and belongs to that one.
    let prev = chained
        .then(|| format.prev_file(name))
        .flatten()
        .filter(|p| d.join(p).exists() && sidecar(&d, p).exists() && !is_packed(&d.join(p)));
    // Only where a record can begin in one file and end in the next is the previous file
    // read again (a MariaDB transaction never spans binary log files).
    let scan_from = prev.as_deref().filter(|_| format.records_span_files());
    let scan = if chained {
        format.commits(&d, scan_from.unwrap_or(name), name)
    } else {
        Some(Vec::new())
    };
    let in_file = |file: &str, position: &str| {
        format
            .branch_of(file)
            .and_then(|b| format.file_of(position, b))
            .is_some_and(|f| f == file)
    };
    if let (Some(p), Some(found)) = (&scan_from, &scan) {
        let theirs: Vec<&Commit> = found.iter().filter(|c| in_file(p, &c.position)).collect();
        if let (Ok(mut side), Some(c)) = (read_sidecar(&d, p), theirs.last()) {
            if side.last_commit_position.as_deref() != Some(c.position.as_str()) {
                side.first_commit = side.first_commit.or_else(|| Some(c.time.clone()));
                side.last_commit = Some(c.time.clone());
                side.last_commit_position = Some(c.position.clone());
                side.last_transaction = c.id.clone().or(side.last_transaction);
                crate::fsutil::write_atomic(&sidecar(&d, p), &serde_json::to_vec(&side)?, 0o600)?;
            }
        }
    }
    let mine: Vec<&Commit> = scan
        .iter()
        .flatten()
        .filter(|c| in_file(name, &c.position))
        .collect();
    let file = LogFile {
        name: name.into(),
        size,
        sha256: hex::encode(h.finalize()),
        archived_at: super::now(),
        first_commit: mine.first().map(|c| c.time.clone()),
        last_commit: mine.last().map(|c| c.time.clone()),
        last_commit_position: mine.last().map(|c| c.position.clone()),
        scanned: scan.is_some(),
        first_transaction: mine.first().and_then(|c| c.id.clone()),
        last_transaction: mine.last().and_then(|c| c.id.clone()),
    };
    crate::fsutil::write_atomic(&sidecar(&d, name), &serde_json::to_vec(&file)?, 0o600)?;
    // The file before this one has been read with it: it can be stored compressed now. The
    // newest stays plain for the next file's read. Compression only saves space: a failure
    // leaves the file plain and the archive whole.
    if let Some(p) = &prev {
        let _ = compress_in_place(&d.join(p));
    }
    Ok(file)
}

/// The SHA-256 of an archived file's content, compressed or not.
///
/// # Errors
/// The file cannot be read or decoded.
pub fn content_sha256(path: &Path) -> Result<String> {
    match read_any(path, None)? {
        Content::Read(_, sum) => Ok(sum),
        Content::Damaged(why) => bail!("{} cannot be decoded: {why}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Numbered;
    use super::*;

    #[test]
    fn archives_durably_and_refuses_changes() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path());
        let src = root.path().join("1.0003");
        std::fs::write(&src, vec![1u8; 4096]).unwrap();
        let f = archive(&layout, "db", &src, "1.0003", &Numbered).unwrap();
        assert_eq!(f.size, 4096);
        // Without a log reader, a chain file's commits are unknown.
        assert!(!f.scanned);
        // Same content again: fine (servers retry). Other content: refused.
        archive(&layout, "db", &src, "1.0003", &Numbered).unwrap();
        std::fs::write(&src, vec![2u8; 4096]).unwrap();
        assert!(archive(&layout, "db", &src, "1.0003", &Numbered).is_err());
        // Once the next file is in, the one before it is stored compressed, and a retry of
        // it still compares its content.
        std::fs::write(&src, vec![3u8; 4096]).unwrap();
        archive(&layout, "db", &src, "1.0004", &Numbered).unwrap();
        let d = dir(&layout, "db");
        assert!(is_packed(&d.join("1.0003")) && !is_packed(&d.join("1.0004")));
        assert!(std::fs::metadata(d.join("1.0003")).unwrap().len() < 4096);
        std::fs::write(&src, vec![1u8; 4096]).unwrap();
        archive(&layout, "db", &src, "1.0003", &Numbered).unwrap();
        assert_eq!(super::super::list(&layout, "db").unwrap().len(), 2);
    }
}
