//! The host's WAL archive: segments PostgreSQL hands to `archive_command`, stored durably
//! with their checksums and commit-time ranges, and handed back to `restore_command` only
//! when they still match.
//!
//! Runs as the engine's OS user (PostgreSQL calls it), so it touches only `<root>/wal/<name>/`.

use crate::agent::layout::Layout;
use crate::agent::manifest::{hex, sha256_file};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What the archive knows of one stored file (a segment, a `.history` or a `.partial`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Segment {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub archived_at: String,
    /// Commit timestamps of the first and last transaction in the segment (RFC 3339, UTC).
    #[serde(default)]
    pub first_commit: Option<String>,
    #[serde(default)]
    pub last_commit: Option<String>,
    /// Where the last commit record starts: recovery can stop right after it.
    #[serde(default)]
    pub last_commit_lsn: Option<String>,
    /// Whether its commits were read at all (pg_waldump ran): without that, "no commit" in
    /// it means nothing.
    #[serde(default = "yes")]
    pub scanned: bool,
}

fn yes() -> bool {
    true
}

pub fn dir(layout: &Layout, instance: &str) -> PathBuf {
    layout.root.join("wal").join(instance)
}

fn sidecar(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

fn valid_file_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
        && !name.starts_with('.');
    if !ok {
        bail!("not a WAL file name: {name:?}");
    }
    Ok(())
}

pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Stores `source` as `name`: copied to a temporary file while hashed, fsynced, renamed, then
/// described in a sidecar. Success only once all of that is on disk. A second archive of the
/// same name succeeds only if the content is identical (PostgreSQL may retry).
///
/// # Errors
/// Anything short of a durably stored segment.
pub fn archive(
    layout: &Layout,
    instance: &str,
    source: &Path,
    name: &str,
    waldump: Option<&Path>,
) -> Result<Segment> {
    valid_file_name(name)?;
    let d = dir(layout, instance);
    std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
    let target = d.join(name);
    if target.exists() {
        let existing = sha256_file(&target)?;
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
    // Read from the previous segment on, when it is here: a commit record that began there
    // and ends in this one is readable only now, and belongs to that one.
    let prev = prev_segment(name).filter(|p| d.join(p).exists() && sidecar(&d, p).exists());
    let scan = waldump.and_then(|w| commits(w, &d, prev.as_deref().unwrap_or(name), name));
    let in_segment = |seg: &str, lsn: &str| {
        u32::from_str_radix(&seg[..8], 16)
            .ok()
            .and_then(|tl| segment_of(lsn, tl))
            .is_some_and(|s| s == seg)
    };
    if let (Some(p), Some(found)) = (&prev, &scan) {
        let theirs: Vec<&(String, String)> =
            found.iter().filter(|(_, l)| in_segment(p, l)).collect();
        if let (Ok(mut side), Some((t, l))) = (read_sidecar(&d, p), theirs.last()) {
            if side.last_commit_lsn.as_deref() != Some(l.as_str()) {
                side.first_commit = side.first_commit.or_else(|| Some(t.clone()));
                side.last_commit = Some(t.clone());
                side.last_commit_lsn = Some(l.clone());
                crate::fsutil::write_atomic(&sidecar(&d, p), &serde_json::to_vec(&side)?, 0o600)?;
            }
        }
    }
    let mine: Vec<&(String, String)> = scan
        .iter()
        .flatten()
        .filter(|(_, l)| in_segment(name, l))
        .collect();
    let seg = Segment {
        name: name.into(),
        size,
        sha256: hex(&h.finalize()),
        archived_at: now(),
        first_commit: mine.first().map(|(t, _)| t.clone()),
        last_commit: mine.last().map(|(t, _)| t.clone()),
        last_commit_lsn: mine.last().map(|(_, l)| l.clone()),
        scanned: scan.is_some() || name.len() != 24,
    };
    crate::fsutil::write_atomic(&sidecar(&d, name), &serde_json::to_vec(&seg)?, 0o600)?;
    Ok(seg)
}

/// A sidecar as the archive's owner wrote it: read as root, so never through a link, from
/// a FIFO, or larger than any sidecar is.
fn read_sidecar(d: &Path, name: &str) -> Result<Segment> {
    let p = sidecar(d, name);
    serde_json::from_str(&crate::fsutil::read_small_no_follow(&p, 64 << 10)?)
        .with_context(|| format!("parsing {}", p.display()))
}

/// Copies archived `name` to `dest` after checking it against its recorded checksum.
///
/// # Errors
/// The file is not archived (PostgreSQL then ends recovery there) or no longer matches.
pub fn fetch(layout: &Layout, instance: &str, name: &str, dest: &Path) -> Result<()> {
    fetch_from(&dir(layout, instance), instance, name, dest)
}

/// [`fetch`] from the logs staged for a restored instance (see [`stage`]).
///
/// # Errors
/// As [`fetch`].
pub fn fetch_staged(layout: &Layout, instance: &str, name: &str, dest: &Path) -> Result<()> {
    fetch_from(&layout.restore_wal(instance), instance, name, dest)
}

fn fetch_from(d: &Path, instance: &str, name: &str, dest: &Path) -> Result<()> {
    valid_file_name(name)?;
    let path = d.join(name);
    if !path.exists() {
        bail!("{name} is not in the archive of {instance}");
    }
    let seg = read_sidecar(d, name)?;
    if sha256_file(&path)? != seg.sha256 {
        bail!(
            "{name} in the archive of {instance} does not match its checksum; refusing to use it"
        );
    }
    let tmp = dest.with_extension("dbhost-tmp");
    std::fs::copy(&path, &tmp)?;
    std::fs::rename(&tmp, dest)?;
    Ok(())
}

/// Copies the archived files replay from `from` on needs (segments from its position's
/// segment, and timeline histories), with their sidecars, out of `source`'s archive into
/// `instance`'s restore area, owned by `owner`: a restored server runs as its own OS user,
/// which cannot read another instance's archive. Copies share blocks where the filesystem
/// can; fetching checks each against its checksum as before.
///
/// # Errors
/// A file cannot be copied.
pub fn stage(
    layout: &Layout,
    source: &str,
    from: &crate::wire::SnapshotStart,
    instance: &str,
    owner: &dyn Fn(&Path) -> Result<()>,
) -> Result<u64> {
    let start = segment_of(&from.position, from.timeline)
        .with_context(|| format!("bad position {:?}", from.position))?;
    let src = dir(layout, source);
    let dst = layout.restore_wal(instance);
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst)?;
    std::fs::set_permissions(&dst, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    owner(&dst)?;
    let mut n = 0;
    for seg in list(layout, source)? {
        let wanted = seg.name.ends_with(".history")
            || (seg.name.len() >= 24 && seg.name[8..24] >= start[8..24]);
        if !wanted {
            continue;
        }
        for f in [seg.name.clone(), format!("{}.json", seg.name)] {
            let to = dst.join(&f);
            crate::agent::storage::plain::copy_file(&src.join(&f), &to)?;
            owner(&to)?;
        }
        n += 1;
    }
    Ok(n)
}

/// Every archived file of an instance, in name order.
///
/// # Errors
/// The archive cannot be listed.
pub fn list(layout: &Layout, instance: &str) -> Result<Vec<Segment>> {
    Ok(list_dir(&dir(layout, instance)))
}

/// The files described by sidecars in `d`, in name order.
fn list_dir(d: &Path) -> Vec<Segment> {
    let Ok(entries) = std::fs::read_dir(d) else {
        return Vec::new();
    };
    // A sidecar counts only for a file that is there, and only under its own name: a
    // segment deleted by hand is a hole, and a sidecar can never name another path.
    let mut out: Vec<Segment> = entries
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let name = n.strip_suffix(".json")?.to_string();
            let seg = read_sidecar(d, &name).ok()?;
            let present = std::fs::symlink_metadata(d.join(&name)).is_ok_and(|m| m.is_file());
            (seg.name == name && valid_file_name(&name).is_ok() && present).then_some(seg)
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A log switch dbhost made: every commit timestamped before `before` is in `segment` or an
/// earlier one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mark {
    pub segment: String,
    pub before: String,
}

/// Kept beside (not in) the instance's archive directory: that one belongs to the
/// database's OS user, and dbhost writes nothing as root where another user can plant links.
fn marks_path(layout: &Layout, instance: &str) -> PathBuf {
    layout.root.join("wal").join(format!(".{instance}.marks"))
}

/// The switches recorded for an instance.
pub fn marks(layout: &Layout, instance: &str) -> Vec<Mark> {
    std::fs::read_to_string(marks_path(layout, instance))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Records that `segment`, archived, holds every commit made before `before`.
///
/// # Errors
/// The record cannot be written.
pub fn add_mark(layout: &Layout, instance: &str, segment: &str, before: &str) -> Result<()> {
    let mut all = marks(layout, instance);
    all.push(Mark {
        segment: segment.into(),
        before: before.into(),
    });
    // One per segment is enough: the latest time says the most.
    all.sort_by(|a, b| a.segment.cmp(&b.segment).then(a.before.cmp(&b.before)));
    all.dedup_by(|later, earlier| {
        later.segment == earlier.segment && {
            earlier.before = later.before.clone();
            true
        }
    });
    let p = marks_path(layout, instance);
    std::fs::create_dir_all(p.parent().context("marks path")?)?;
    crate::fsutil::write_atomic(&p, &serde_json::to_vec(&all)?, 0o600)
}

/// Every commit record (time, where it starts) from the start of segment `from` through
/// segment `to`, read with pg_waldump; None when pg_waldump cannot be run. The last record
/// may continue into a segment not archived yet: pg_waldump then stops with an error after
/// printing what it could, which is all there is.
fn commits(waldump: &Path, dir: &Path, from: &str, to: &str) -> Option<Vec<(String, String)>> {
    if to.len() != 24 {
        return Some(Vec::new());
    }
    let out = std::process::Command::new(waldump)
        .arg("-p")
        .arg(dir)
        .args(["-r", "Transaction", from, to])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter_map(|l| Some((commit_time(l)?, record_lsn(l)?)))
            .collect(),
    )
}

/// The segment before `name` on the same timeline.
fn prev_segment(name: &str) -> Option<String> {
    if name.len() != 24 {
        return None;
    }
    let tl = &name[..8];
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let seg = u64::from_str_radix(&name[16..24], 16).ok()?;
    let (log, seg) = match (log, seg) {
        (0, 0) => return None,
        (l, 0) => (l - 1, 0xFF),
        (l, s) => (l, s - 1),
    };
    Some(format!("{tl}{log:08X}{seg:08X}"))
}

/// "... lsn: 0/03000060, prev ..." -> "0/3000060".
fn record_lsn(line: &str) -> Option<String> {
    let rest = &line[line.find("lsn: ")? + 5..];
    let (hi, lo) = rest.split(',').next()?.trim().split_once('/')?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    Some(format!("{hi:X}/{lo:X}"))
}

/// "... desc: COMMIT 2026-11-24 20:40:01.123456 UTC; ..." -> "2026-11-24T20:40:01.123456Z".
fn commit_time(line: &str) -> Option<String> {
    let rest = &line[line.find("desc: COMMIT ")? + "desc: COMMIT ".len()..];
    let stamp = rest.split(" UTC").next()?;
    let (date, time) = stamp.split_once(' ')?;
    (date.len() == 10 && time.len() >= 8).then(|| format!("{date}T{time}Z"))
}

/// The segment file name holding `lsn` ("X/Y") on `timeline`, for 16 MiB segments.
pub fn segment_of(lsn: &str, timeline: u32) -> Option<String> {
    let (hi, lo) = lsn.split_once('/')?;
    let v = (u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?;
    let seg = v / (16 << 20);
    Some(format!("{timeline:08X}{:08X}{:08X}", seg / 256, seg % 256))
}

/// The segment after `name` on the same timeline.
pub fn next_segment(name: &str) -> Option<String> {
    if name.len() != 24 {
        return None;
    }
    let tl = &name[..8];
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let seg = u64::from_str_radix(&name[16..24], 16).ok()?;
    let (log, seg) = if seg == 0xFF {
        (log + 1, 0)
    } else {
        (log, seg + 1)
    };
    Some(format!("{tl}{log:08X}{seg:08X}"))
}

/// Removes archived segments (and their sidecars) that come before `keep_from`'s segment, or
/// all of them when no snapshot is kept. Timeline history files stay: they are tiny and
/// recovery across timelines needs them. Returns the names removed.
///
/// # Errors
/// The archive cannot be listed or a file cannot be removed.
pub fn prune(layout: &Layout, spec: &crate::wire::PruneSpec) -> Result<Vec<String>> {
    prune_keeping(layout, &spec.instance, spec.keep_from.iter())
}

/// Removes the archived segments none of `keeps` needs (each from its position on); with no
/// snapshot to keep, the whole archive goes, its directory and switch records too.
///
/// # Errors
/// A position is malformed, or a file cannot be removed.
pub fn prune_keeping<'a>(
    layout: &Layout,
    instance: &str,
    keeps: impl Iterator<Item = &'a crate::wire::SnapshotStart>,
) -> Result<Vec<String>> {
    let d = dir(layout, instance);
    let mut keep: Option<String> = None;
    for s in keeps {
        let seg = segment_of(&s.position, s.timeline)
            .with_context(|| format!("bad position {:?}", s.position))?;
        if keep.as_ref().is_none_or(|k| seg[8..24] < k[8..24]) {
            keep = Some(seg);
        }
    }
    let mut removed = Vec::new();
    for seg in list(layout, instance)? {
        if seg.name.ends_with(".history") {
            continue;
        }
        // Compare by log position (the last 16 digits), across timelines.
        let pos = seg.name.get(8..24).unwrap_or("");
        let older = keep.as_ref().is_none_or(|k| pos < &k[8..24]);
        if older {
            std::fs::remove_file(d.join(&seg.name))
                .with_context(|| format!("removing {}", seg.name))?;
            let _ = std::fs::remove_file(sidecar(&d, &seg.name));
            removed.push(seg.name);
        }
    }
    if keep.is_none() {
        // Nothing is kept that these logs could serve: no directory left behind either.
        if d.exists() {
            std::fs::remove_dir_all(&d).with_context(|| format!("removing {}", d.display()))?;
        }
        let _ = std::fs::remove_file(marks_path(layout, instance));
    }
    Ok(removed)
}

/// Streams the archive files replay from `spec.from` needs (all without it): segments from
/// its position's segment on, their sidecars, and timeline history files.
///
/// # Errors
/// The archive cannot be read or the stream written.
pub fn export(
    layout: &Layout,
    spec: &crate::wire::WalExportSpec,
    out: &mut dyn Write,
) -> Result<()> {
    let from = match &spec.from {
        Some(s) => Some(
            segment_of(&s.position, s.timeline)
                .with_context(|| format!("bad position {:?}", s.position))?,
        ),
        None => None,
    };
    let d = dir(layout, &spec.instance);
    std::fs::create_dir_all(&d)?;
    let include = |rel: &str| {
        // Only the archive's own top-level files: the directory belongs to the instance's
        // OS user, who may have made subdirectories or links in it.
        if rel.contains('/') {
            return false;
        }
        let name = rel.trim_end_matches(".json");
        if name.ends_with(".history") {
            return true;
        }
        name.len() >= 24
            && from
                .as_ref()
                .is_none_or(|f| name[8..24] >= f[8..24] && !rel.starts_with('.'))
    };
    crate::agent::stream::write_tree_filtered(&d, &include, false, out, &mut |_| {})
}

/// Receives archive files from an [`export`] into this host's archive for `instance`: the
/// stream lands aside, every segment is checked against its sidecar, then they join the
/// archive (as files of the engine's OS user, which reads them during replay).
///
/// # Errors
/// The stream is cut or a segment does not match its checksum; nothing is kept then.
pub fn import(
    layout: &Layout,
    instance: &str,
    input: &mut dyn Read,
    owner: &dyn Fn(&Path) -> Result<()>,
) -> Result<u64> {
    let d = dir(layout, instance);
    let staging = layout.root.join("wal").join(format!(".{instance}.import"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let received = (|| -> Result<u64> {
        crate::agent::stream::read_tree(input, &staging, &mut |_, _| Ok(()))?;
        let mut n = 0;
        for seg in list_dir(&staging) {
            let file = staging.join(&seg.name);
            if sha256_file(&file)? != seg.sha256 {
                bail!("{}: checksum mismatch on arrival", seg.name);
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

/// The LSN where segment `name` (24 hex digits) starts, as "X/Y".
fn segment_start(name: &str) -> Option<String> {
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let seg = u64::from_str_radix(&name[16..24], 16).ok()?;
    let v = (log << 32) | (seg * (16 << 20));
    Some(format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF))
}

fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn max_time<'a>(times: impl Iterator<Item = &'a String>) -> Option<String> {
    times
        .filter_map(|t| parse_time(t).map(|p| (p, t)))
        .max_by_key(|(p, _)| *p)
        .map(|(_, t)| t.clone())
}

/// For each snapshot, how far an unbroken chain of archived segments reaches after it.
///
/// # Errors
/// The archive cannot be listed.
pub fn coverage(
    layout: &Layout,
    spec: &crate::wire::CoverageSpec,
) -> Result<crate::wire::Coverage> {
    coverage_in(
        &dir(layout, &spec.instance),
        &marks(layout, &spec.instance),
        spec,
    )
}

/// [`coverage`] of the logs staged for a restored `instance`: what its replay will have.
///
/// # Errors
/// A position is malformed.
pub fn staged_coverage(
    layout: &Layout,
    instance: &str,
    spec: &crate::wire::CoverageSpec,
) -> Result<crate::wire::Coverage> {
    coverage_in(&layout.restore_wal(instance), &[], spec)
}

fn coverage_in(
    d: &Path,
    marks: &[Mark],
    spec: &crate::wire::CoverageSpec,
) -> Result<crate::wire::Coverage> {
    let segs = list_dir(d);
    let by_name: std::collections::BTreeMap<&str, &Segment> = segs
        .iter()
        .filter(|s| s.name.len() == 24)
        .map(|s| (s.name.as_str(), s))
        .collect();
    let mut reaches = Vec::new();
    for q in &spec.snapshots {
        let Some(start) = segment_of(&q.position, q.timeline) else {
            bail!("bad position {:?} for snapshot {}", q.position, q.snapshot);
        };
        let mut cur = start;
        let mut covered = Vec::new();
        while let Some(seg) = by_name.get(cur.as_str()) {
            covered.push(*seg);
            cur = next_segment(&cur).context("segment arithmetic")?;
        }
        let later_exists = by_name
            .keys()
            .any(|n| n[..8] == cur[..8] && **n > *cur.as_str());
        reaches.push(crate::wire::SnapshotReach {
            snapshot: q.snapshot.clone(),
            until_time: max_time(covered.iter().filter_map(|s| s.last_commit.as_ref())),
            until_commit_position: covered.iter().rev().find_map(|s| s.last_commit_lsn.clone()),
            unscanned: covered.iter().find(|s| !s.scanned).map(|s| s.name.clone()),
            complete_until: max_time(
                marks
                    .iter()
                    .filter(|m| covered.iter().any(|s| s.name == m.segment))
                    .map(|m| &m.before),
            ),
            until_position: match covered.last() {
                Some(last) => {
                    segment_start(&next_segment(&last.name).unwrap_or_default()).unwrap_or_default()
                }
                None => q.position.clone(),
            },
            gap: later_exists.then_some(cur),
        });
    }
    let first_time = segs
        .iter()
        .filter_map(|s| s.first_commit.as_ref())
        .filter_map(|t| parse_time(t).map(|p| (p, t)))
        .min_by_key(|(p, _)| *p)
        .map(|(_, t)| t.clone());
    Ok(crate::wire::Coverage {
        snapshots: reaches,
        segments: by_name.len() as u64,
        first_segment: by_name.keys().next().map(|s| s.to_string()),
        last_segment: by_name.keys().last().map(|s| s.to_string()),
        first_time,
        last_time: max_time(segs.iter().filter_map(|s| s.last_commit.as_ref())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_durably_refuses_changes_and_checks_before_fetch() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path());
        let src = root.path().join("000000010000000000000003");
        std::fs::write(&src, vec![1u8; 4096]).unwrap();
        let seg = archive(&layout, "db", &src, "000000010000000000000003", None).unwrap();
        assert_eq!(seg.size, 4096);
        // Same content again: fine (PostgreSQL retries). Other content: refused.
        archive(&layout, "db", &src, "000000010000000000000003", None).unwrap();
        std::fs::write(&src, vec![2u8; 4096]).unwrap();
        assert!(archive(&layout, "db", &src, "000000010000000000000003", None).is_err());
        let out = root.path().join("restored");
        fetch(&layout, "db", "000000010000000000000003", &out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), vec![1u8; 4096]);
        // A segment damaged in the archive is never handed out.
        std::fs::write(
            dir(&layout, "db").join("000000010000000000000003"),
            vec![9u8; 4096],
        )
        .unwrap();
        assert!(fetch(&layout, "db", "000000010000000000000003", &out).is_err());
        assert!(fetch(&layout, "db", "000000010000000000000004", &out).is_err());
        assert_eq!(list(&layout, "db").unwrap().len(), 1);
    }

    #[test]
    fn coverage_follows_the_chain_and_names_the_first_gap() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path());
        let d = dir(&layout, "db");
        std::fs::create_dir_all(&d).unwrap();
        for (n, t) in [
            ("03", "2026-11-24T10:00:00Z"),
            ("04", "2026-11-24T10:05:00.5Z"),
            ("06", "2026-11-24T10:15:00Z"),
        ] {
            let seg = Segment {
                name: format!("0000000100000000000000{n}"),
                last_commit: Some(t.into()),
                ..Default::default()
            };
            std::fs::write(sidecar(&d, &seg.name), serde_json::to_vec(&seg).unwrap()).unwrap();
            std::fs::write(d.join(&seg.name), b"x").unwrap();
        }
        // A sidecar whose segment was deleted is no segment.
        let gone = Segment {
            name: "000000010000000000000005".into(),
            ..Default::default()
        };
        std::fs::write(sidecar(&d, &gone.name), serde_json::to_vec(&gone).unwrap()).unwrap();
        add_mark(
            &layout,
            "db",
            "000000010000000000000004",
            "2026-11-24T10:06:00Z",
        )
        .unwrap();
        add_mark(
            &layout,
            "db",
            "000000010000000000000006",
            "2026-11-24T10:16:00Z",
        )
        .unwrap();
        let spec = crate::wire::CoverageSpec {
            instance: "db".into(),
            snapshots: vec![crate::wire::SnapshotStart {
                snapshot: "s1".into(),
                position: "0/3000100".into(),
                timeline: 1,
            }],
        };
        let c = coverage(&layout, &spec).unwrap();
        let r = &c.snapshots[0];
        assert_eq!(r.until_time.as_deref(), Some("2026-11-24T10:05:00.5Z"));
        assert_eq!(r.complete_until.as_deref(), Some("2026-11-24T10:06:00Z"));
        assert_eq!(r.until_position, "0/5000000");
        assert_eq!(r.gap.as_deref(), Some("000000010000000000000005"));
        assert_eq!(c.segments, 3);
        assert_eq!(c.last_time.as_deref(), Some("2026-11-24T10:15:00Z"));
    }

    #[test]
    fn prune_keeps_what_the_oldest_snapshot_needs() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path());
        let d = dir(&layout, "db");
        std::fs::create_dir_all(&d).unwrap();
        for n in [
            "000000010000000000000003",
            "000000010000000000000004",
            "000000010000000000000005",
            "00000002.history",
        ] {
            std::fs::write(d.join(n), b"x").unwrap();
            let seg = Segment {
                name: n.into(),
                ..Default::default()
            };
            std::fs::write(sidecar(&d, n), serde_json::to_vec(&seg).unwrap()).unwrap();
        }
        let keep = crate::wire::SnapshotStart {
            snapshot: "s".into(),
            position: "0/4000100".into(),
            timeline: 1,
        };
        let spec = crate::wire::PruneSpec {
            instance: "db".into(),
            keep_from: Some(keep),
            keep_snapshots: vec![],
        };
        assert_eq!(prune(&layout, &spec).unwrap(), ["000000010000000000000003"]);
        let left: Vec<String> = list(&layout, "db")
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(
            left,
            [
                "000000010000000000000004",
                "000000010000000000000005",
                "00000002.history"
            ]
        );
        let none = crate::wire::PruneSpec {
            instance: "db".into(),
            keep_from: None,
            keep_snapshots: vec![],
        };
        assert_eq!(prune(&layout, &none).unwrap().len(), 2);
    }

    #[test]
    fn names_segments_and_reads_commit_times() {
        assert_eq!(
            segment_of("0/3000028", 1).unwrap(),
            "000000010000000000000003"
        );
        assert_eq!(
            segment_of("1/FF000000", 2).unwrap(),
            "0000000200000001000000FF"
        );
        assert_eq!(
            next_segment("0000000100000001000000FF").unwrap(),
            "000000010000000200000000"
        );
        assert_eq!(
            prev_segment("000000010000000200000000").unwrap(),
            "0000000100000001000000FF"
        );
        assert_eq!(prev_segment("000000010000000000000000"), None);
        let line = "rmgr: Transaction len (rec/tot):     34/    34, tx:        735, lsn: 0/03000060, prev 0/03000028, desc: COMMIT 2026-11-24 20:40:01.123456 UTC";
        assert_eq!(commit_time(line).unwrap(), "2026-11-24T20:40:01.123456Z");
        assert_eq!(record_lsn(line).unwrap(), "0/3000060");
        assert!(commit_time("rmgr: Heap desc: INSERT").is_none());
    }
}
