//! Restoring a snapshot into an instance on this host: from the local store or from a stream,
//! with or without replaying logs to a target, and what the copy then holds (the point it
//! reached, what the archive has past it, how many commits that is).

use super::snapshots::{chown_tree, corrupt, INFO_FILE};
use crate::agent::layout::InstanceMeta;
use crate::agent::manifest::{self, Manifest};
use crate::agent::ops::{engine_failed, valid_name, Host};
use crate::agent::wire_err;
use crate::wire::{ErrorCode, InstanceStatus, ProvisionSpec, RestoreSpec, SnapshotInfo};
use anyhow::{Context, Result};
use std::io::Read;

impl Host {
    /// # Errors
    /// The snapshot is unknown or fails its check, or the copy or engine fails.
    pub fn restore(
        &self,
        spec: &RestoreSpec,
        progress: &mut dyn FnMut(&str),
    ) -> Result<InstanceStatus> {
        self.restore_from(spec, None, progress)
    }

    /// Like [`Self::restore`], from the snapshot stream `input` carries (a repository's
    /// backup) instead of this host's store: each file is checked against the stream's
    /// manifest as it lands, straight in the new data directory.
    ///
    /// # Errors
    /// As [`Self::restore`], or the stream is cut or a file does not match.
    pub fn restore_streamed(
        &self,
        spec: &RestoreSpec,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(&str),
    ) -> Result<InstanceStatus> {
        self.restore_from(spec, Some(input), progress)
    }

    fn restore_from(
        &self,
        spec: &RestoreSpec,
        input: Option<&mut dyn Read>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<InstanceStatus> {
        valid_name(&spec.instance)?;
        // In place: the instance exists with its data set aside, and keeps its port. Either
        // way, a restore that already happened is answered with the instance's status.
        let existing = self.layout.meta(&spec.instance)?;
        let wanted_port = match (&existing, spec.in_place) {
            (Some(_), false) => return self.status(&spec.instance),
            (Some(_), true) if self.layout.data(&spec.instance).exists() => {
                return self.status(&spec.instance)
            }
            (Some(meta), true) => Some(meta.port),
            (None, true) => {
                return Err(wire_err(
                    ErrorCode::NotFound,
                    format!("no instance {} to restore in place", spec.instance),
                ))
            }
            (None, false) => spec
                .port
                .or_else(|| self.port_to_take(spec.port_from.as_deref())),
        };
        let stored = match input {
            None => Some(self.existing_snapshot(&spec.snapshot)?),
            Some(_) => None,
        };
        let storage = self.storage()?;
        self.make_instance_dir(&spec.instance, true)?;
        let port = self.reserve_port_from(
            &spec.instance,
            wanted_port,
            spec.port_from.as_deref().filter(|_| existing.is_none()),
        )?;
        let os_user = match &existing {
            Some(meta) => meta.os_user.clone(),
            None => self.new_instance_user(&spec.instance)?,
        };
        let ctx = self.ctx(os_user.as_deref())?;
        let partial = self.layout.partial_data(&spec.instance);
        let data = self.layout.data(&spec.instance);
        for stale in [&partial, &data] {
            storage.remove_tree(stale)?;
        }
        let info = match (input, stored) {
            (Some(input), _) => {
                progress("receiving the snapshot, checking it against its manifest on the way");
                let stage = self.layout.incoming(&spec.instance);
                storage.remove_tree(&stage)?;
                std::fs::create_dir(&stage)?;
                storage.create_volume(&stage.join("data"))?;
                let received = self.receive(&stage, input, progress).and_then(|()| {
                    let info: SnapshotInfo =
                        serde_json::from_str(&std::fs::read_to_string(stage.join(INFO_FILE))?)?;
                    std::fs::rename(stage.join("data"), &partial)?;
                    Ok(info)
                });
                storage.remove_tree(&stage)?;
                match received {
                    Ok(info) => info,
                    Err(e) => {
                        // Nothing half-made stays.
                        storage.remove_tree(&partial)?;
                        return Err(wire_err(
                            ErrorCode::SnapshotCorrupt,
                            format!("the snapshot stream was refused: {e:#}"),
                        ));
                    }
                }
            }
            (None, Some(info)) => {
                let snap = self.layout.snapshot(&spec.snapshot);
                let m = Manifest::load(&snap.join(manifest::FILE_NAME))?;
                progress("copying the snapshot, checking it against its manifest on the way");
                let problems = storage.clone_checked(&snap.join("data"), &partial, &m)?;
                if !problems.is_empty() {
                    // Nothing half-made stays: the copy goes, the instance never existed here.
                    storage.remove_tree(&partial)?;
                    return Err(corrupt(&spec.snapshot, &problems));
                }
                info
            }
            (None, None) => unreachable!("a restore reads a stream or a stored snapshot"),
        };
        let engine = self.engine(&info.engine)?;
        chown_tree(&partial, &ctx.run_as)?;
        let pspec = ProvisionSpec {
            instance: spec.instance.clone(),
            engine: info.engine.clone(),
            port: Some(port),
            size: spec.size,
            admin_user: spec.admin_user.clone(),
            archive_timeout_secs: spec.archive_timeout_secs,
            admin_password: String::new(),
        };
        self.make_log_dir(&spec.instance, &ctx.run_as)?;
        let recovery = spec
            .recovery
            .as_ref()
            .map(|r| {
                let (r, said) = self.resolve_latest(r, &info)?;
                // Replay reads checked copies in the server's own log directory: nothing is
                // fetched on its way, and another instance's archive (its own OS user's)
                // is never opened by the restored server.
                progress("copying the logs replay needs, checking them on the way");
                let until = match &r.target {
                    crate::wire::Target::Position(p) => Some(p.as_str()),
                    _ => None,
                };
                // An engine whose server does not replay by itself reads them from a
                // directory of dbhost's making in the copy (made here, in a tree only root
                // can reach yet).
                let dest = engine.replay_log_dir(&partial);
                if !dest.exists() {
                    std::fs::create_dir(&dest)?;
                    ctx.run_as.chown(&dest)?;
                }
                let placed = crate::agent::logs::place(
                    &self.layout,
                    &r.log_instance,
                    &info.start(),
                    until,
                    &dest,
                    &*engine.log_format(&self.cfg),
                    &|p| ctx.run_as.chown(p),
                )
                .and_then(|placed| {
                    // In place from another archive (a repository's logs): the instance's own
                    // archive, which its server goes on writing, knows branches that one may
                    // not; the new branch must start past all of them.
                    if spec.in_place && r.log_instance != spec.instance {
                        crate::agent::logs::place_side_files(
                            &self.layout,
                            &spec.instance,
                            &dest,
                            &*engine.log_format(&self.cfg),
                            &|p| ctx.run_as.chown(p),
                        )?;
                    }
                    Ok(placed)
                });
                if let Err(e) = placed {
                    storage.remove_tree(&partial)?;
                    return Err(e);
                }
                Ok((r, said))
            })
            .transpose()?;
        engine
            .prepare_restored(
                &ctx,
                &pspec,
                port,
                &partial,
                &info.position,
                recovery.as_ref().map(|(r, _)| r),
            )
            .map_err(engine_failed)?;
        // On disk before it counts as the instance's data (its server will find it clean
        // and start without writing it back itself).
        crate::agent::storage::durable::sync_tree(&partial)?;
        std::fs::rename(&partial, &data)?;
        // Everything is the instance's now: its server may pass through to its data.
        self.make_instance_dir(&spec.instance, false)?;
        let version = engine
            .detect(&self.cfg)
            .map(|f| f.version)
            .unwrap_or_default();
        self.commit_instance(
            &spec.instance,
            &InstanceMeta {
                engine: info.engine.clone(),
                engine_version: version,
                port,
                admin_user: spec.admin_user.clone(),
                os_user,
                replay: recovery.as_ref().map(|(r, _)| r.clone()),
            },
        )?;
        // What the copy holds and what the archive holds past it, for the recovery's report:
        // every commit up to `reached` is in the copy, the chain's commits after it to
        // `archive_until` are not (they stay in the archive).
        let archive_until = spec
            .recovery
            .as_ref()
            .and_then(|r| self.chain_end(&r.log_instance, &info));
        let reached = match spec.recovery.as_ref().map(|r| &r.target) {
            Some(crate::wire::Target::Latest) => archive_until.clone(),
            Some(crate::wire::Target::Time(t)) => Some(match &archive_until {
                Some(end) if crate::agent::logs::later_than(t, end) => end.clone(),
                _ => t.clone(),
            }),
            _ => None,
        };
        // Counted only where the copy stops short of the archive's end.
        let commits_after = match (&spec.recovery, &reached, &archive_until) {
            (Some(r), Some(at), Some(end)) if crate::agent::logs::later_than(end, at) => {
                let format = self.engine(&info.engine)?.log_format(&self.cfg);
                crate::agent::logs::commits_after(
                    &self.layout,
                    &r.log_instance,
                    &info.start(),
                    &*format,
                    at,
                )
            }
            _ => None,
        };
        Ok(InstanceStatus {
            recovered_to: recovery.map(|(_, said)| said),
            reached,
            archive_until,
            commits_after,
            ..self.status(&spec.instance)?
        })
    }

    /// The port of instance `from` on this host, when its server is stopped (a recovery
    /// replacing it has stopped it): the new server may take it over.
    fn port_to_take(&self, from: Option<&str>) -> Option<u16> {
        let from = from?;
        valid_name(from).ok()?;
        let meta = self.layout.meta(from).ok()??;
        let engine = self.engine(&meta.engine).ok()?;
        let live = engine
            .liveness(&self.ctx(meta.os_user.as_deref()).ok()?, from, &meta)
            .ok()?;
        (!live.running).then_some(meta.port)
    }

    /// The time of the last commit in the unbroken chain of `log_instance`'s archive after
    /// snapshot `snap` (None: none there, or the archive cannot say).
    fn chain_end(&self, log_instance: &str, snap: &SnapshotInfo) -> Option<String> {
        let spec = crate::wire::logs::CoverageSpec {
            instance: log_instance.to_string(),
            engine: snap.engine.clone(),
            snapshots: vec![snap.start()],
            target: None,
            given: None,
        };
        let format = self.engine(&snap.engine).ok()?.log_format(&self.cfg);
        let cov = crate::agent::logs::coverage(&self.layout, &spec, &*format).ok()?;
        cov.snapshots.first()?.until_time.clone()
    }

    /// Turns a `latest` target into the position of the last commit the archive holds in an
    /// unbroken chain after `snap`, now (not when the restore was planned: a source stopped
    /// by this workflow has archived more since). A missing segment with later ones after it
    /// is refused: replay would stop at the hole and promote, dropping what follows.
    /// Returns the spec to recover with and what it recovers to, for people.
    fn resolve_latest(
        &self,
        r: &crate::wire::RecoverySpec,
        snap: &SnapshotInfo,
    ) -> Result<(crate::wire::RecoverySpec, String)> {
        use crate::wire::Target;
        valid_name(&r.log_instance)?;
        match &r.target {
            Target::Latest => {
                let spec = crate::wire::logs::CoverageSpec {
                    instance: r.log_instance.clone(),
                    engine: snap.engine.clone(),
                    snapshots: vec![snap.start()],
                    target: None,
                    given: None,
                };
                let format = self.engine(&snap.engine)?.log_format(&self.cfg);
                let cov = crate::agent::logs::coverage(&self.layout, &spec, &*format)?;
                let reach = cov.snapshots.first().context("no coverage")?;
                if let Some(blind) = &reach.unscanned {
                    return Err(wire_err(
                        ErrorCode::EngineFailed,
                        format!(
                            "the commits in log file {blind} could not be read when it was archived, so the last commit is unknown; give a position or a time instead"
                        ),
                    ));
                }
                if let Some(missing) = &reach.gap {
                    let why = if crate::agent::logs::damaged(&self.layout, &r.log_instance)
                        .contains(missing)
                    {
                        "in the log archive does not match its checksum (damaged after it was archived)"
                    } else {
                        "is missing from the log archive"
                    };
                    return Err(wire_err(
                        ErrorCode::SnapshotCorrupt,
                        format!(
                            "segment {missing} {why}, and later ones exist: replay would stop there; recover to a time before it"
                        ),
                    ));
                }
                let last = reach
                    .until_commit_position
                    .clone()
                    .unwrap_or_else(|| snap.position.clone());
                let said = match &reach.until_time {
                    Some(t) => format!("the last archived commit ({t}, position {last})"),
                    None => format!("the snapshot's own point (position {last})"),
                };
                Ok((
                    crate::wire::RecoverySpec {
                        log_instance: r.log_instance.clone(),
                        target: Target::Position(last),
                    },
                    said,
                ))
            }
            Target::Time(t) => Ok((r.clone(), format!("{t} (UTC)"))),
            Target::Position(p) => Ok((r.clone(), format!("position {p}"))),
        }
    }
}
