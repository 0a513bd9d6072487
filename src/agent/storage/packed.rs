//! Compressed snapshot files on the plain backend. A snapshot that lives as plain files pays
//! for every changed file in full, and a database's files change all over (an update touches
//! most pages of a table): compressing them is what keeps a snapshot's new bytes near what
//! changed. Each file is a run of zstd frames (level 1: fast enough to run beside the source,
//! and decoded faster than the disk writes), each with its content checksum, so a damaged
//! byte cannot decode silently. The manifest records the logical size and SHA-256 of the decompressed
//! content and the size stored; readers decode as they read, so every check and every copy
//! sees the data as it was.

use super::durable::Written;
use super::files::{create_like, open_owned};
use super::parallel::{cores, in_parallel_on};
use super::walk::reuse_verified;
use super::walk::{walk_tree, FileJob, Handled};
use super::{CaptureStats, Previous};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;

const LEVEL: i32 = 1;
/// Files this large are compressed on the extra threads a caller allows: one large table
/// would otherwise leave the capture waiting on a single core.
const SPLIT_AT: u64 = 64 << 20;

/// One file as stored compressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// Bytes of the content (decompressed).
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: String,
    /// Bytes on disk.
    pub stored: u64,
}

/// A capture that compresses every file it copies (on several threads), sharing files
/// unchanged since `previous` by hard links as the plain capture does. Only files of the
/// live tree's own user are copied.
///
/// # Errors
/// A file is not the tree's owner's, or cannot be copied.
pub fn capture(
    source: &Path,
    target: &Path,
    skip: &dyn Fn(&str) -> bool,
    previous: Option<Previous>,
) -> Result<CaptureStats> {
    let mut stats = CaptureStats::default();
    let owner = std::fs::metadata(source)?.uid();
    let mut jobs = Vec::new();
    walk_tree(
        source,
        target,
        "",
        skip,
        previous.as_ref(),
        &mut stats,
        &mut |job| {
            jobs.push(job);
            Ok(Handled::Later)
        },
    )?;
    // Largest first: the long ones start early and the threads finish together.
    jobs.sort_by_key(|j: &FileJob| std::cmp::Reverse(j.size));
    let done = Mutex::new(Vec::new());
    let shared = Mutex::new(Vec::new());
    // Half the host's cores: the source keeps serving on the rest while it is captured.
    let threads = (cores() / 2).max(1);
    let split = if threads >= 2 { 2 } else { 0 };
    in_parallel_on(threads, &jobs, |j| {
        // An unchanged file shares the previous copy once that copy reads back whole;
        // otherwise it is stored afresh from the live file.
        if let Some((old, entry)) = &j.reuse {
            if reuse_verified(old, entry, &j.dst) {
                shared
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(j.size);
                return Ok(());
            }
        }
        if let Some(p) = compress_file(&j.src, &j.dst, Some(owner), split)? {
            done.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((j.rel.clone(), p));
        }
        Ok(())
    })?;
    for (rel, p) in done.into_inner().unwrap_or_else(|p| p.into_inner()) {
        stats.files += 1;
        stats.bytes += p.size;
        stats.packed.insert(rel, p);
    }
    for size in shared.into_inner().unwrap_or_else(|p| p.into_inner()) {
        stats.files += 1;
        stats.shared += 1;
        stats.bytes += size;
    }
    Ok(stats)
}

/// Content bytes per zstd frame. A file is stored as a run of independent frames, each
/// compressed in one call from one buffer: that costs a third less CPU than zstd's streaming
/// API at the same level and size (0.73 s against 1.12 s for 919 MB of pgbench's files),
/// and a large file's frames are compressed on several threads without a pool of zstd's.
/// A reader decodes the run as one stream; every frame carries its own content checksum.
const FRAME: usize = 4 << 20;

/// Compresses `src` into `dst` (created; mode and owner kept), hashing the content on the
/// way. Ok(None) when the source vanished (a live database drops files while it is copied);
/// anything but a regular file is skipped, and with `owner` the file must be that user's.
/// A large file's frames are compressed on `workers` extra threads (0: on the caller's
/// alone).
///
/// # Errors
/// The file belongs to someone else, or cannot be read or written.
pub fn compress_file(
    src: &Path,
    dst: &Path,
    owner: Option<u32>,
    workers: u32,
) -> Result<Option<Packed>> {
    let Some((mut s, meta)) = open_owned(src, owner)? else {
        return Ok(None);
    };
    let mut out = Written::new(create_like(dst, &meta)?);
    let lanes = if meta.len() >= SPLIT_AT {
        workers as usize + 1
    } else {
        1
    };
    let mut zs = (0..lanes)
        .map(|_| compressor())
        .collect::<std::io::Result<Vec<_>>>()?;
    // Each made on its own: a cloned Vec would not keep the capacity compressing into needs.
    let mut bufs: Vec<Vec<u8>> = (0..lanes).map(|_| Vec::with_capacity(FRAME)).collect();
    let bound = zstd::zstd_safe::compress_bound(FRAME);
    let mut frames: Vec<Vec<u8>> = (0..lanes).map(|_| Vec::with_capacity(bound)).collect();
    let mut h = Sha256::new();
    let (mut size, mut stored, mut written) = (0u64, 0u64, 0u64);
    loop {
        let mut filled = 0;
        let mut end = false;
        while filled < lanes && !end {
            let b = &mut bufs[filled];
            fill(&mut s, b).with_context(|| format!("reading {}", src.display()))?;
            end = b.len() < FRAME;
            if b.is_empty() {
                break;
            }
            h.update(&b[..]);
            size += b.len() as u64;
            filled += 1;
        }
        // An empty file is one empty frame: every stored file starts with the magic.
        if filled == 0 && written > 0 {
            break;
        }
        let n = filled.max(1);
        compress_frames(&mut zs[..n], &bufs[..n], &mut frames[..n])?;
        for f in &frames[..n] {
            out.write_all(f)
                .with_context(|| format!("writing {}", dst.display()))?;
            stored += f.len() as u64;
            written += 1;
        }
        if end {
            break;
        }
    }
    Ok(Some(Packed {
        size,
        sha256: hex::encode(h.finalize()),
        stored,
    }))
}

fn compressor() -> std::io::Result<zstd::bulk::Compressor<'static>> {
    let mut z = zstd::bulk::Compressor::new(LEVEL)?;
    z.include_checksum(true)?;
    Ok(z)
}

/// Reads into `b` (emptied first) until it holds a frame's worth or the file ends.
fn fill(r: &mut dyn Read, b: &mut Vec<u8>) -> std::io::Result<()> {
    b.clear();
    let got = r.take(FRAME as u64).read_to_end(b)?;
    debug_assert!(got <= FRAME);
    Ok(())
}

/// Compresses each of `bufs` into the frame beside it, the first on this thread and the
/// others on threads of their own.
fn compress_frames(
    zs: &mut [zstd::bulk::Compressor<'static>],
    bufs: &[Vec<u8>],
    frames: &mut [Vec<u8>],
) -> Result<()> {
    let one = |z: &mut zstd::bulk::Compressor<'static>, b: &Vec<u8>, f: &mut Vec<u8>| {
        f.clear();
        z.compress_to_buffer(&b[..], f).map(|_| ())
    };
    let (Some((z0, zrest)), Some((b0, brest)), Some((f0, frest))) = (
        zs.split_first_mut(),
        bufs.split_first(),
        frames.split_first_mut(),
    ) else {
        return Ok(());
    };
    std::thread::scope(|scope| -> Result<()> {
        let others: Vec<_> = zrest
            .iter_mut()
            .zip(brest)
            .zip(frest.iter_mut())
            .map(|((z, b), f)| scope.spawn(move || one(z, b, f)))
            .collect();
        one(z0, b0, f0)?;
        for t in others {
            t.join()
                .map_err(|_| anyhow::anyhow!("a compressing thread panicked"))??;
        }
        Ok(())
    })
}

/// Replaces the plain file at `path` by its compressed frame, durably: written aside,
/// synced, renamed over it. Returns the bytes stored.
///
/// # Errors
/// The file cannot be read or the frame written.
pub fn compress_in_place(path: &Path) -> Result<u64> {
    let name = path
        .file_name()
        .context("no file name")?
        .to_string_lossy()
        .into_owned();
    let tmp = path.with_file_name(format!(".{name}.zst.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let written = (|| -> Result<u64> {
        let packed = compress_file(path, &tmp, None, 0)?.context("the file vanished")?;
        File::open(&tmp)?.sync_all()?;
        Ok(packed.stored)
    })();
    match written {
        Ok(stored) => {
            std::fs::rename(&tmp, path)?;
            Ok(stored)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::content::{is_packed, read_content, Content, PIPELINE_AT};
    use super::*;

    /// Compresses `body`, checks that it decodes back whole, then flips a byte in the middle
    /// of the frame and returns what reading it found then, with the packed record.
    fn round_trip_then_damage(body: &[u8]) -> (Packed, Content) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("raw"), body).unwrap();
        let p = compress_file(&d.path().join("raw"), &d.path().join("z"), None, 2)
            .unwrap()
            .unwrap();
        assert_eq!(p.size, body.len() as u64);
        assert_eq!(p.sha256, hex::encode(Sha256::digest(body)));
        let Content::Read(size, sum) =
            read_content(&d.path().join("z"), true, Some(&d.path().join("back"))).unwrap()
        else {
            panic!("decodes")
        };
        assert_eq!((size, sum), (p.size, p.sha256.clone()));
        assert_eq!(std::fs::read(d.path().join("back")).unwrap(), body);
        let mut z = std::fs::read(d.path().join("z")).unwrap();
        let mid = z.len() / 2;
        z[mid] ^= 0x55;
        std::fs::write(d.path().join("z"), &z).unwrap();
        let damaged = read_content(&d.path().join("z"), true, None).unwrap();
        (p, damaged)
    }

    #[test]
    fn round_trips_and_a_damaged_byte_never_decodes() {
        let body: Vec<u8> = (0..500_000u32)
            .flat_map(|i| (i % 97).to_le_bytes())
            .collect();
        let (p, damaged) = round_trip_then_damage(&body);
        assert!(p.stored < p.size / 10, "{p:?}");
        match damaged {
            Content::Damaged(_) => {}
            Content::Read(_, sum) => assert_ne!(sum, p.sha256),
        }
    }

    #[test]
    fn a_file_past_the_split_is_framed_on_several_threads_and_reads_back_whole() {
        let d = tempfile::tempdir().unwrap();
        // Not a whole number of frames, so the last one is short.
        let body: Vec<u8> = (0..(SPLIT_AT + 3 * FRAME as u64 + 12_345))
            .map(|i| (i % 251) as u8 ^ (i >> 20) as u8)
            .collect();
        std::fs::write(d.path().join("raw"), &body).unwrap();
        let p = compress_file(&d.path().join("raw"), &d.path().join("z"), None, 2)
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.size, p.sha256.clone()),
            (body.len() as u64, hex::encode(Sha256::digest(&body)))
        );
        let Content::Read(size, sum) =
            read_content(&d.path().join("z"), true, Some(&d.path().join("back"))).unwrap()
        else {
            panic!("decodes")
        };
        assert_eq!((size, sum), (p.size, p.sha256));
        assert!(std::fs::read(d.path().join("back")).unwrap() == body);
        // An empty file is still a frame: it is told from a plain one by its first bytes.
        std::fs::write(d.path().join("empty"), b"").unwrap();
        compress_file(&d.path().join("empty"), &d.path().join("ez"), None, 0)
            .unwrap()
            .unwrap();
        assert!(is_packed(&d.path().join("ez")));
    }

    #[test]
    fn a_large_file_decodes_on_a_thread_of_its_own_with_the_same_result() {
        // Past the pipeline threshold even compressed: bytes from a simple generator.
        let mut x = 0x2545_f491_u64;
        let body: Vec<u8> = (0..(10u64 << 20))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 56) as u8
            })
            .collect();
        let (p, damaged) = round_trip_then_damage(&body);
        assert!(p.stored >= PIPELINE_AT, "{p:?}");
        assert!(matches!(damaged, Content::Damaged(_)));
    }
}
