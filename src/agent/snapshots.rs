//! The host's snapshot store: online snapshots, checks, export/import between hosts, and new
//! instances restored from snapshots. Engine-neutral; the engine brackets the capture.

use crate::agent::manifest::{self, Entry, Manifest};
use crate::agent::ops::{engine_failed, valid_name, Host};
use crate::agent::storage::{CaptureStats, Previous};
use crate::agent::{stream, wire_err};
use crate::fsutil;
use crate::wire::{
    ErrorCode, InstanceStatus, PasswordSpec, SnapshotInfo, SnapshotSpec, VerifyReport,
};
use anyhow::{Context, Result};
use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A snapshot's own record (its `SnapshotInfo`), beside its manifest.
pub const INFO_FILE: &str = "snapshot.json";

fn parse_ns(ts: &str) -> i128 {
    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp_nanos())
        .unwrap_or(0)
}

impl Host {
    /// The snapshot store, readable by dbhost alone: snapshots hold every instance's data.
    fn make_snapshot_store(&self) -> Result<()> {
        let d = self.layout.snapshots();
        std::fs::create_dir_all(&d)?;
        std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        Ok(())
    }

    pub(crate) fn snapshot_info(&self, name: &str) -> Result<Option<SnapshotInfo>> {
        let p = self.layout.snapshot(name).join(INFO_FILE);
        match std::fs::read_to_string(&p) {
            Ok(t) => Ok(Some(serde_json::from_str(&t)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }

    pub(super) fn existing_snapshot(&self, name: &str) -> Result<SnapshotInfo> {
        valid_name(name)?;
        self.snapshot_info(name)?.ok_or_else(|| {
            wire_err(
                ErrorCode::NotFound,
                format!("no snapshot {name} on this host"),
            )
        })
    }

    /// Whether this host's store holds a snapshot of `instance` (or one being made).
    pub(crate) fn has_snapshots_of(&self, instance: &str) -> bool {
        let Ok(entries) = std::fs::read_dir(self.layout.snapshots()) else {
            return false;
        };
        entries.flatten().any(|e| {
            std::fs::read_to_string(e.path().join(INFO_FILE))
                .ok()
                .and_then(|t| serde_json::from_str::<SnapshotInfo>(&t).ok())
                .is_some_and(|i| i.instance == instance)
                || e.file_name().to_string_lossy().ends_with(".partial")
        })
    }

    /// The newest complete snapshot of `instance` here, to share unchanged files with.
    fn previous_snapshot(&self, instance: &str) -> Option<(SnapshotInfo, Manifest)> {
        let entries = std::fs::read_dir(self.layout.snapshots()).ok()?;
        entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let info = self.snapshot_info(&name).ok()??;
                (info.instance == instance).then_some(info)
            })
            .max_by(|a, b| a.taken_at.cmp(&b.taken_at))
            .and_then(|info| {
                let m = Manifest::load(
                    &self
                        .layout
                        .snapshot(&info.snapshot)
                        .join(manifest::FILE_NAME),
                )
                .ok()?;
                Some((info, m))
            })
    }

    /// # Errors
    /// The instance is not running here, the capture or backup API fails.
    pub fn snapshot_create(
        &self,
        spec: &SnapshotSpec,
        progress: &mut dyn FnMut(&str),
    ) -> Result<SnapshotInfo> {
        valid_name(&spec.snapshot)?;
        if let Some(done) = self.snapshot_info(&spec.snapshot)? {
            return Ok(done);
        }
        let (meta, engine) = self.existing(&spec.instance)?;
        let storage = self.storage()?;
        let partial = self.layout.snapshot_partial(&spec.snapshot);
        storage.remove_tree(&partial)?;
        self.make_snapshot_store()?;
        std::fs::create_dir_all(&partial)?;
        let target = partial.join("data");
        let previous = self.previous_snapshot(&spec.instance);
        let prev_data = previous
            .as_ref()
            .map(|(info, _)| self.layout.snapshot(&info.snapshot).join("data"));
        let prev = match (&previous, &prev_data) {
            (Some((info, m)), Some(d)) => Some(Previous {
                data: d,
                manifest: m,
                captured_at_ns: parse_ns(&info.taken_at),
            }),
            _ => None,
        };
        let started = crate::times::now();
        let mut stats = None;
        progress("capturing the data directory under the backup API");
        let taken = engine.online_snapshot(
            &self.ctx(meta.os_user.as_deref())?,
            &spec.instance,
            &meta,
            &target,
            &mut |live: &Path| {
                stats = Some(storage.capture(
                    live,
                    &target,
                    &|rel| engine.snapshot_skips(rel),
                    prev,
                )?);
                Ok(())
            },
        );
        // A snapshot that failed is gone at once: nothing half-made waits for a retry that
        // may never come (its dbctl may be gone).
        let point = match taken {
            Ok(p) => p,
            Err(e) => {
                let _ = storage.remove_tree(&partial);
                return Err(engine_failed(e));
            }
        };
        let stats = stats.unwrap_or_default();
        // Links that lead out of the snapshot (planted by a database superuser, or a
        // tablespace the engine could not take in) are never kept.
        crate::agent::links::remove_escaping(&target)?;
        progress("writing the manifest");

        let (manifest, new_bytes) = build_manifest(&target, &stats, prev.as_ref())?;
        let consistent_at = crate::times::now();
        // Archive the log up to now, so that the log chain of every earlier snapshot reaches
        // this one: the restorable window stays one span. A switch that fails leaves a short
        // hole in the window, never a wrong restore.
        let _ = self.switch_and_mark(&spec.instance);
        let info = SnapshotInfo {
            snapshot: spec.snapshot.clone(),
            instance: spec.instance.clone(),
            engine: meta.engine.clone(),
            engine_version: meta.engine_version.clone(),
            position: point.position,
            branch: point.branch,
            consistent_at,
            taken_at: started,
            backend: storage.name().into(),
            files: manifest.files.len() as u64,
            size_bytes: manifest.total_bytes(),
            shared_files: stats.shared,
            new_bytes,
            admin_user: meta.admin_user.clone(),
        };
        fsutil::write_atomic(
            &partial.join(manifest::FILE_NAME),
            &serde_json::to_vec(&manifest)?,
            0o600,
        )?;
        storage.seal(&target)?;
        fsutil::write_atomic(
            &partial.join(INFO_FILE),
            &serde_json::to_vec_pretty(&info)?,
            0o600,
        )?;
        std::fs::rename(&partial, self.layout.snapshot(&spec.snapshot))?;
        fsutil::sync_parent(&self.layout.snapshot(&spec.snapshot));
        Ok(info)
    }

    /// # Errors
    /// The snapshot's files cannot be removed.
    pub fn snapshot_delete(&self, name: &str) -> Result<Value> {
        valid_name(name)?;
        let storage = self.storage()?;
        storage.remove_tree(&self.layout.snapshot_partial(name))?;
        storage.remove_tree(&self.layout.snapshot(name))?;
        Ok(serde_json::json!({"snapshot": name, "deleted": true}))
    }

    /// # Errors
    /// The snapshot is unknown or its manifest unreadable.
    pub fn snapshot_verify(&self, name: &str) -> Result<VerifyReport> {
        self.existing_snapshot(name)?;
        let dir = self.layout.snapshot(name);
        let m = Manifest::load(&dir.join(manifest::FILE_NAME))?;
        let problems = m.check(&dir.join("data"), true, &[])?;
        Ok(VerifyReport {
            snapshot: name.into(),
            files_checked: m.files.len() as u64,
            problems,
        })
    }

    /// Writes the whole snapshot (info and manifest first) to `out` as a stream.
    ///
    /// # Errors
    /// The snapshot is unknown or a file cannot be read or sent.
    pub fn snapshot_export(
        &self,
        name: &str,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Value> {
        let info = self.existing_snapshot(name)?;
        let dir = self.layout.snapshot(name);
        let m = Manifest::load(&dir.join(manifest::FILE_NAME))?;
        // Compressed files travel as their frames (a tenth of the bytes to carry), each
        // decoded as it lands; the manifest says the content is plain, as the receiving
        // host then holds it, whatever its own backend does next.
        let plain = serde_json::to_vec(&m.as_plain())?;
        let content = |rel: &str| -> Result<Option<stream::Content>> {
            if rel == manifest::FILE_NAME {
                return Ok(Some(stream::Content::Plain(
                    plain.len() as u64,
                    Box::new(std::io::Cursor::new(plain.clone())),
                )));
            }
            match rel.strip_prefix("data/").and_then(|r| m.files.get(r)) {
                Some(e) if e.compressed.is_some() => Ok(Some(stream::Content::Zstd(e.size))),
                _ => Ok(None),
            }
        };
        let mut last = 0u64;
        stream::write_tree_with(&dir, &|_| true, true, &content, out, &mut |sent| {
            if sent - last >= 64 << 20 {
                last = sent;
                progress(&format!("sent {} MiB", sent >> 20));
            }
        })?;
        Ok(serde_json::to_value(info)?)
    }

    /// Receives a snapshot stream, checking each data file against the manifest (which the
    /// stream carries first) as it lands. Anything short of a complete, intact snapshot is
    /// removed.
    ///
    /// # Errors
    /// The stream is cut or malformed, or a file does not match its manifest entry.
    pub fn snapshot_import(
        &self,
        name: &str,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(&str),
    ) -> Result<SnapshotInfo> {
        valid_name(name)?;
        if let Some(done) = self.snapshot_info(name)? {
            return Ok(done);
        }
        let storage = self.storage()?;
        let partial = self.layout.snapshot_partial(name);
        storage.remove_tree(&partial)?;
        self.make_snapshot_store()?;
        std::fs::create_dir_all(&partial)?;
        storage.receive_into(&partial.join("data"))?;
        let result = self.receive(&partial, input, progress);
        if let Err(e) = result {
            let _ = storage.remove_tree(&partial);
            return Err(wire_err(
                ErrorCode::SnapshotCorrupt,
                format!("import of snapshot {name} failed: {e:#}"),
            ));
        }
        let info: SnapshotInfo =
            serde_json::from_str(&std::fs::read_to_string(partial.join(INFO_FILE))?)?;
        storage.seal(&partial.join("data"))?;
        std::fs::rename(&partial, self.layout.snapshot(name))?;
        fsutil::sync_parent(&self.layout.snapshot(name));
        Ok(SnapshotInfo {
            snapshot: name.into(),
            backend: storage.name().into(),
            ..info
        })
    }

    pub(super) fn receive(
        &self,
        partial: &Path,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let mut manifest: Option<Manifest> = None;
        let mut checked = 0u64;
        let mut bytes = 0u64;
        // The manifest travels first; nothing else is accepted unless it names it. (The
        // manifest itself is checked against the snapshot's own record below: a stream can
        // only bring a snapshot that is internally consistent.)
        let links: std::cell::RefCell<Option<std::collections::BTreeMap<String, String>>> =
            Default::default();
        stream::read_tree_with_links(
            input,
            partial,
            &mut |rel, path, sha| {
                if rel == manifest::FILE_NAME {
                    let m = Manifest::load(path)?;
                    *links.borrow_mut() = Some(m.links.clone());
                    manifest = Some(m);
                } else if rel == INFO_FILE {
                } else if let Some(data_rel) = rel.strip_prefix("data/") {
                    let m = manifest
                        .as_ref()
                        .context("the stream sent data before its manifest")?;
                    let entry = m
                        .files
                        .get(data_rel)
                        .with_context(|| format!("{data_rel}: not in the manifest"))?;
                    if sha != entry.sha256 {
                        anyhow::bail!("{data_rel}: checksum mismatch on arrival");
                    }
                    checked += 1;
                    bytes += entry.size;
                    if checked.is_multiple_of(500) {
                        progress(&format!("received {checked} files, {} MiB", bytes >> 20));
                    }
                } else {
                    anyhow::bail!("{rel}: not part of a snapshot");
                }
                Ok(())
            },
            &mut |rel, to| {
                let data_rel = rel
                    .strip_prefix("data/")
                    .with_context(|| format!("{rel}: a link outside the data directory"))?;
                let known = links.borrow();
                let want = known
                    .as_ref()
                    .context("the stream sent a link before its manifest")?
                    .get(data_rel);
                if want.map(String::as_str) != Some(to)
                    || !crate::agent::links::stays_inside(data_rel, Path::new(to))
                {
                    anyhow::bail!("{data_rel}: a link the manifest does not hold");
                }
                Ok(())
            },
        )?;
        let m = manifest.context("the stream had no manifest")?;
        let made = crate::agent::links::links_under(&partial.join("data"))?.len();
        if made != m.links.len() {
            anyhow::bail!(
                "the stream carried {made} of the manifest's {} links",
                m.links.len()
            );
        }
        if checked != m.files.len() as u64 {
            anyhow::bail!(
                "the stream carried {checked} of the manifest's {} files",
                m.files.len()
            );
        }
        for f in [INFO_FILE] {
            if !partial.join(f).exists() {
                anyhow::bail!("the stream had no {f}");
            }
        }
        Ok(())
    }

    /// Moves an instance's data aside, puts it back, or drops it (an in-place restore's steps
    /// and their undo). Each mode converges when re-run.
    ///
    /// # Errors
    /// The server cannot be stopped or started, or files cannot be moved.
    pub fn data_aside(&self, spec: &crate::wire::AsideSpec) -> Result<InstanceStatus> {
        use crate::wire::AsideMode;
        let (meta, engine) = self.existing(&spec.instance)?;
        let storage = self.storage()?;
        let (data, aside) = (
            self.layout.data(&spec.instance),
            self.layout.aside_data(&spec.instance),
        );
        match spec.mode {
            AsideMode::Set => {
                // Everything the old data committed is archived first: it stays restorable.
                // Nothing of the instance's user runs on while its data is replaced.
                self.stop_archived(&spec.instance)?;
                if let Some(u) = meta.os_user.as_deref() {
                    if let Ok(Some(user)) = nix::unistd::User::from_name(u) {
                        crate::agent::osuser::kill_processes_of(user.uid);
                    }
                }
                if data.exists() && !aside.exists() {
                    std::fs::rename(&data, &aside)?;
                }
            }
            AsideMode::PutBack => {
                if aside.exists() {
                    engine
                        .stop(&self.ctx(meta.os_user.as_deref())?, &spec.instance, &meta)
                        .map_err(engine_failed)?;
                    storage.remove_tree(&self.layout.partial_data(&spec.instance))?;
                    storage.remove_tree(&data)?;
                    std::fs::rename(&aside, &data)?;
                }
                // A restore that stopped part-way left the directory shut, and may have left
                // its replay pending: the data put back is not a restored copy.
                self.make_instance_dir(&spec.instance, false)?;
                let mut meta = meta;
                if meta.replay.take().is_some() {
                    self.commit_instance(&spec.instance, &meta)?;
                }
                // A server broken before the restore may not start; it is back as it was.
                let _ = engine.start(&self.ctx(meta.os_user.as_deref())?, &spec.instance, &meta);
            }
            // Replaced, not deleted: a person or the retention removes it.
            AsideMode::Drop => {
                let entry = crate::agent::replaced::set_aside(
                    &self.layout,
                    &aside,
                    &spec.instance,
                    &meta.engine,
                    "restored in place",
                    true,
                )
                .map_err(|e| wire_err(ErrorCode::Internal, format!("{e:#}")))?;
                return Ok(InstanceStatus {
                    set_aside: entry,
                    ..self.status(&spec.instance)?
                });
            }
        }
        self.status(&spec.instance)
    }

    /// # Errors
    /// The instance is unknown or the engine refuses.
    pub fn set_password(&self, spec: &PasswordSpec) -> Result<InstanceStatus> {
        let (meta, engine) = self.existing(&spec.instance)?;
        engine
            .set_password(
                &self.ctx(meta.os_user.as_deref())?,
                &spec.instance,
                &meta,
                &spec.password,
            )
            .map_err(engine_failed)?;
        self.status(&spec.instance)
    }
}

pub(super) fn corrupt(snapshot: &str, problems: &[String]) -> anyhow::Error {
    let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
    let more = if problems.len() > 5 {
        format!(" and {} more", problems.len() - 5)
    } else {
        String::new()
    };
    wire_err(
        ErrorCode::SnapshotCorrupt,
        format!(
            "snapshot {snapshot} failed verification: {}{more}",
            shown.join(", ")
        ),
    )
}

/// Gives every file of a restored tree to the instance's OS user (an import lands as root).
/// Links are changed themselves, never followed.
pub(super) fn chown_tree(dir: &Path, owner: &crate::agent::osuser::RunAs) -> Result<()> {
    owner.chown(dir)?;
    for e in std::fs::read_dir(dir)?.flatten() {
        let p = e.path();
        if e.file_type()?.is_dir() {
            chown_tree(&p, owner)?;
        } else {
            owner.chown(&p)?;
        }
    }
    Ok(())
}

/// Checksums every file of a captured tree. A file the capture compressed keeps what it
/// learned on the way; one shared with the previous snapshot (hard linked, or unchanged under
/// an atomic snapshot) keeps that snapshot's entry instead of being read again. Returns the
/// manifest and the bytes the snapshot added on disk.
fn build_manifest(
    dir: &Path,
    stats: &CaptureStats,
    previous: Option<&Previous>,
) -> Result<(Manifest, u64)> {
    let (mtimes, packed) = (&stats.mtimes, &stats.packed);
    let mut m = Manifest::default();
    let mut new_bytes = 0;
    for (rel, to) in crate::agent::links::links_under(dir)? {
        m.links.insert(rel, to.to_string_lossy().into_owned());
    }
    for rel in crate::agent::tree::files_under(dir)? {
        let path = dir.join(&rel);
        let meta = std::fs::symlink_metadata(&path)?;
        let mtime = mtimes.get(&rel).copied().unwrap_or(0);
        // Stored compressed by this capture: it hashed the content on the way.
        if let Some(p) = packed.get(&rel).filter(|p| p.stored == meta.len()) {
            new_bytes += p.stored;
            m.files.insert(
                rel,
                Entry {
                    size: p.size,
                    sha256: p.sha256.clone(),
                    source_mtime_ns: mtime,
                    compressed: Some(p.stored),
                },
            );
            continue;
        }
        // The previous snapshot's own file (a hard link), or an unchanged one the
        // filesystem shares blocks of, plain as it was.
        let reused = previous.and_then(|p| {
            let old = p.manifest.files.get(&rel)?;
            let linked = std::fs::metadata(p.data.join(&rel))
                .is_ok_and(|o| o.ino() == meta.ino() && o.dev() == meta.dev());
            let same = old.compressed.is_none() && p.unchanged(&rel, meta.len(), mtime);
            (linked || same).then(|| Entry {
                source_mtime_ns: mtime,
                ..old.clone()
            })
        });
        let entry = match reused {
            Some(e) => e,
            None => {
                new_bytes += meta.len();
                Entry {
                    size: meta.len(),
                    sha256: manifest::sha256_file(&path)?,
                    source_mtime_ns: mtime,
                    compressed: None,
                }
            }
        };
        m.files.insert(rel, entry);
    }
    Ok((m, new_bytes))
}
