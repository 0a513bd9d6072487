//! The host's operations, engine-neutral: provision, start, stop, status, destroy, preflight.
//!
//! Each mutating operation is idempotent on its own (re-running it after a crash converges to
//! the same state); the journal in `agent/journal.rs` additionally replays completed requests.

use crate::agent::engine::{self, Engine, HostCtx};
use crate::agent::layout::{InstanceMeta, Layout};
use crate::agent::osuser::RunAs;
use crate::agent::{facts, ports, wire_err, HostConfig};
use crate::fsutil;
use crate::wire::{ErrorCode, InstanceStatus, Op, PreflightSpec, ProvisionSpec};
use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub struct Host {
    pub(crate) layout: Layout,
    pub(crate) cfg: HostConfig,
    pub(crate) run_as: RunAs,
}

/// The raw streams of a bulk op: the rest of stdin, and stdout.
pub struct Io<'a> {
    pub input: &'a mut dyn std::io::Read,
    pub output: &'a mut dyn std::io::Write,
}

pub(crate) fn valid_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(wire_err(
            ErrorCode::BadRequest,
            format!("invalid instance name {name:?}"),
        ))
    }
}

pub(crate) fn engine_failed(e: anyhow::Error) -> anyhow::Error {
    wire_err(ErrorCode::EngineFailed, format!("{e:#}"))
}

impl Host {
    /// # Errors
    /// The root cannot be created, its settings are invalid, or the OS user is missing.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.exists() {
            std::fs::create_dir_all(root)
                .with_context(|| format!("creating {}", root.display()))?;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755))?;
        }
        let cfg = HostConfig::load(root)
            .map_err(|e| wire_err(ErrorCode::BadRequest, format!("{e:#}")))?;
        let run_as = RunAs::resolve(&cfg.os_user)
            .map_err(|e| wire_err(ErrorCode::EngineMissing, format!("{e:#}")))?;
        Ok(Self {
            layout: Layout::new(root),
            cfg,
            run_as,
        })
    }

    /// What the engine works with for an instance whose OS user is `os_user` (None: the
    /// host's own `os_user`, for instances made before each had one).
    pub(crate) fn ctx(&self, os_user: Option<&str>) -> Result<HostCtx<'_>> {
        let (run_as, sockets) = match os_user {
            Some(u) => (
                RunAs::resolve(u).map_err(|e| wire_err(ErrorCode::Internal, format!("{e:#}")))?,
                self.layout.sockets().join(u),
            ),
            None => (self.run_as.clone(), self.layout.sockets()),
        };
        Ok(HostCtx {
            layout: &self.layout,
            cfg: &self.cfg,
            run_as,
            sockets,
        })
    }

    /// The OS user a new instance runs as: one made for it when dbhost runs as root (so
    /// that no instance can read another's files), else dbhost's own.
    pub(crate) fn new_instance_user(&self, name: &str) -> Result<Option<String>> {
        if !self.run_as.switches() {
            return Ok(None);
        }
        let user = crate::agent::osuser::ensure_instance_user(&self.layout.root, name)
            .map_err(|e| wire_err(ErrorCode::Internal, format!("{e:#}")))?;
        Ok(Some(user.name))
    }

    /// The instance's directory, made private: its OS user may pass through to its data,
    /// nobody else may list it. `closed` shuts out its OS user too, while dbhost copies and
    /// gives files to it (nothing of the user's may race that).
    pub(crate) fn make_instance_dir(&self, name: &str, closed: bool) -> Result<std::path::PathBuf> {
        let dir = self.layout.instance(name);
        std::fs::create_dir_all(&dir)?;
        let mode = if closed { 0o700 } else { 0o711 };
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))?;
        Ok(dir)
    }

    /// # Errors
    /// The operation fails; the error is wire data with a code.
    pub fn dispatch(&self, op: &Op, io: &mut Io, progress: &mut dyn FnMut(&str)) -> Result<Value> {
        let v = match op {
            Op::Facts => serde_json::to_value(self.facts()?)?,
            Op::DiskUsage => {
                serde_json::to_value(crate::agent::usage::measure(&self.layout, &|name| {
                    self.snapshot_info(name)
                        .ok()
                        .flatten()
                        .map(|i| i.taken_at)
                        .unwrap_or_default()
                }))?
            }
            Op::Preflight(spec) => self.preflight(spec)?,
            Op::Provision(spec) => serde_json::to_value(self.provision(spec, progress)?)?,
            Op::Start(r) => serde_json::to_value(self.start(&r.instance)?)?,
            Op::Stop(r) => serde_json::to_value(self.stop(&r.instance)?)?,
            Op::StopArchived(r) => serde_json::to_value(self.stop_archived(&r.instance)?)?,
            Op::Status(r) => serde_json::to_value(self.status(&r.instance)?)?,
            Op::Check(spec) => serde_json::to_value(self.check(spec)?)?,
            Op::Destroy(r) => serde_json::to_value(self.destroy(&r.instance, None)?)?,
            Op::Retire(spec) => {
                serde_json::to_value(self.destroy(&spec.instance, Some(&spec.reason))?)?
            }
            Op::ReplacedList => serde_json::to_value(crate::agent::replaced::list(&self.layout))?,
            Op::ReplacedRemove(spec) => {
                let storage = self.storage()?;
                let removed =
                    crate::agent::replaced::remove(&self.layout, storage.as_ref(), &spec.names)
                        .map_err(|e| wire_err(ErrorCode::InvalidInput, format!("{e:#}")))?;
                serde_json::json!({ "removed": removed })
            }
            Op::SnapshotCreate(spec) => {
                serde_json::to_value(self.snapshot_create(spec, progress)?)?
            }
            Op::SnapshotDelete(r) => self.snapshot_delete(&r.snapshot)?,
            Op::SnapshotVerify(r) => serde_json::to_value(self.snapshot_verify(&r.snapshot)?)?,
            Op::SnapshotExport(r) => self.snapshot_export(&r.snapshot, io.output, progress)?,
            Op::SnapshotImport(r) => {
                serde_json::to_value(self.snapshot_import(&r.snapshot, io.input, progress)?)?
            }
            Op::Restore(spec) => serde_json::to_value(self.restore(spec, progress)?)?,
            Op::RestoreStreamed(spec) => {
                serde_json::to_value(self.restore_streamed(spec, io.input, progress)?)?
            }
            Op::SetPassword(spec) => serde_json::to_value(self.set_password(spec)?)?,
            Op::LogList(r) => {
                valid_name(&r.instance)?;
                serde_json::to_value(crate::wire::logs::LogListing {
                    files: crate::agent::logs::list(&self.layout, &r.instance)?,
                    marks: crate::agent::logs::marks(&self.layout, &r.instance),
                })?
            }
            Op::LogCheck(spec) => {
                valid_name(&spec.instance)?;
                serde_json::json!({
                    "damaged": crate::agent::logs::check_files(&self.layout, &spec.instance, &spec.names)?
                })
            }
            Op::LogCoverage(spec) => {
                valid_name(&spec.instance)?;
                let format = self.log_format(&spec.instance, &spec.engine)?;
                serde_json::to_value(crate::agent::logs::coverage(&self.layout, spec, &*format)?)?
            }
            Op::DataAside(spec) => serde_json::to_value(self.data_aside(spec)?)?,
            Op::LogExport(spec) => {
                valid_name(&spec.instance)?;
                let format = self.log_format(&spec.instance, &spec.engine)?;
                crate::agent::logs::export(&self.layout, spec, &*format, io.output)?;
                serde_json::json!({ "instance": spec.instance })
            }
            Op::LogImport(r) => {
                valid_name(&r.instance)?;
                // Imported logs stay dbhost's: a restore copies what it needs for its server.
                let n =
                    crate::agent::logs::import(&self.layout, &r.instance, io.input, &|_| Ok(()))
                        .map_err(|e| {
                            wire_err(
                                ErrorCode::SnapshotCorrupt,
                                format!("log import failed: {e:#}"),
                            )
                        })?;
                serde_json::json!({ "instance": r.instance, "segments": n })
            }
            Op::LogPrune(spec) => {
                valid_name(&spec.instance)?;
                serde_json::json!({ "removed": self.prune_logs(spec)? })
            }
            Op::LogSwitch(r) => {
                let (seg, before) = self.switch_and_mark(&r.instance)?;
                serde_json::json!({ "segment": seg, "complete_until": before })
            }
            Op::Reconfigure(spec) => serde_json::to_value(self.reconfigure(spec)?)?,
        };
        Ok(v)
    }

    /// Closes the instance's current log segment and waits until it is archived, recording
    /// that every commit made before the switch is in the archive. Returns the segment and
    /// that time.
    ///
    /// # Errors
    /// The server refuses, or the segment is not archived in time.
    pub(crate) fn switch_and_mark(&self, name: &str) -> Result<(String, String)> {
        let (meta, engine) = self.existing(name)?;
        // Taken before the switch: commits stamped earlier are in the segment it closes.
        let before = crate::agent::logs::now();
        let seg = engine
            .switch_log(&self.ctx(meta.os_user.as_deref())?, name, &meta)
            .map_err(engine_failed)?;
        crate::agent::logs::add_mark(&self.layout, name, &seg, &before)?;
        Ok((seg, before))
    }

    /// Prunes an instance's log archive, keeping what `keep_from` and the snapshots named in
    /// `keep_snapshots` (looked up here, now) need. A named snapshot that is not here stops
    /// the prune: never drop logs a kept snapshot may need.
    fn prune_logs(&self, spec: &crate::wire::logs::PruneSpec) -> Result<Vec<String>> {
        let mut spec = spec.clone();
        for name in &spec.keep_snapshots {
            let info = self.snapshot_info(name)?.ok_or_else(|| {
                wire_err(
                    ErrorCode::NotFound,
                    format!("snapshot {name} is not on this host; not pruning logs it may need"),
                )
            })?;
            spec.keep.push(info.start());
        }
        let format = self.log_format(&spec.instance, &spec.engine)?;
        if let Some(given) = &spec.given {
            let (doomed, _) = crate::agent::logs::doomed(&given.files, spec.keep.iter(), &*format)?;
            return Ok(doomed);
        }
        crate::agent::logs::prune(&self.layout, &spec, &*format)
    }

    /// The log format of `instance`'s archive, whose engine the request says is `name`
    /// (installed or not: an archive outlives its server). An instance still here says
    /// which engine it runs, and a request that says otherwise is refused: the format
    /// decides which files a prune removes.
    pub(crate) fn log_format(
        &self,
        instance: &str,
        name: &str,
    ) -> Result<Box<dyn crate::agent::logs::LogFormat>> {
        if let Some(meta) = self.layout.meta(instance)? {
            if meta.engine != name {
                return Err(wire_err(
                    ErrorCode::BadRequest,
                    format!("instance {instance} runs {}, not {name}", meta.engine),
                ));
            }
        }
        let e = engine::by_name(name)
            .ok_or_else(|| wire_err(ErrorCode::BadRequest, format!("unknown engine {name:?}")))?;
        Ok(e.log_format(&self.cfg))
    }

    /// The storage backend this host's settings and filesystem give.
    ///
    /// # Errors
    /// btrfs is configured where the root is not on btrfs.
    pub fn storage(&self) -> Result<Box<dyn crate::agent::storage::Storage>> {
        crate::agent::storage::select(&self.layout.root, &self.cfg.storage)
            .map_err(|e| wire_err(ErrorCode::BadRequest, format!("{e:#}")))
    }

    /// # Errors
    /// The root's free space cannot be read.
    pub fn facts(&self) -> Result<crate::wire::Facts> {
        let users = if self.run_as.switches() {
            "one per instance".to_string()
        } else {
            self.run_as.name.clone()
        };
        facts::gather(&self.layout.root, &self.cfg, &users)
    }

    pub(crate) fn engine(&self, name: &str) -> Result<Box<dyn Engine>> {
        let e = engine::by_name(name)
            .ok_or_else(|| wire_err(ErrorCode::BadRequest, format!("unknown engine {name:?}")))?;
        if e.detect(&self.cfg).is_none() {
            return Err(wire_err(
                ErrorCode::EngineMissing,
                format!("engine {name} is not installed on this host"),
            ));
        }
        Ok(e)
    }

    fn check_port(&self, name: &str, port: u16) -> Result<()> {
        self.check_port_from(name, port, None)
    }

    fn check_port_from(&self, name: &str, port: u16, from: Option<&str>) -> Result<()> {
        let taken_over = from
            .and_then(|f| self.layout.meta(f).ok().flatten())
            .is_some_and(|m| m.port == port);
        let others = self.layout.reserved_ports(name);
        let held = others.iter().filter(|p| **p == port).count();
        // The replaced instance's own reservation does not count against it.
        if held > usize::from(taken_over) {
            return Err(wire_err(
                ErrorCode::PortInUse,
                format!("port {port} is reserved by another instance on this host"),
            ));
        }
        if !ports::is_free(self.cfg.bind_address(), port) {
            return Err(wire_err(
                ErrorCode::PortInUse,
                format!("port {port} is in use on {}", self.cfg.bind_address()),
            ));
        }
        Ok(())
    }

    fn preflight(&self, spec: &PreflightSpec) -> Result<Value> {
        self.engine(&spec.engine)?
            .check_admin_user(&spec.admin_user)
            .map_err(|e| wire_err(ErrorCode::InvalidInput, format!("{e:#}")))?;
        self.storage()?;
        if let Some(p) = spec.port {
            self.check_port("", p)?;
        }
        let free = fsutil::free_gb(&self.layout.root)?;
        if free < spec.storage_gb {
            return Err(wire_err(
                ErrorCode::NoSpace,
                format!(
                    "{free} GiB free under {}, {} GiB asked",
                    self.layout.root.display(),
                    spec.storage_gb
                ),
            ));
        }
        Ok(serde_json::json!({"disk_free_gb": free}))
    }

    /// Reserves the instance's port under a host-wide lock, so two provisions never pick one.
    pub(crate) fn reserve_port(&self, name: &str, wanted: Option<u16>) -> Result<u16> {
        self.reserve_port_from(name, wanted, None)
    }

    /// [`Self::reserve_port`], where `wanted` may be the reservation of instance `from` (one
    /// a recovery replaces, its server stopped).
    pub(crate) fn reserve_port_from(
        &self,
        name: &str,
        wanted: Option<u16>,
        from: Option<&str>,
    ) -> Result<u16> {
        let lock_file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.layout.ports_lock())?;
        let _lock = Flock::lock(lock_file, FlockArg::LockExclusive).map_err(|(_, e)| e)?;
        let path = self.layout.port_path(name);
        if let Some(p) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.trim().parse::<u16>().ok())
        {
            return Ok(p);
        }
        let port = match wanted {
            Some(p) => {
                self.check_port_from(name, p, from)?;
                p
            }
            None => ports::pick(
                self.cfg.bind_address(),
                self.cfg.port_range,
                &self.layout.reserved_ports(name),
            )
            .ok_or_else(|| {
                wire_err(
                    ErrorCode::PortInUse,
                    format!("no free port in {:?} on this host", self.cfg.port_range),
                )
            })?,
        };
        fsutil::write_atomic(&path, port.to_string().as_bytes(), 0o600)?;
        Ok(port)
    }

    /// The instance's log archive directory, owned by its OS user (its server archives
    /// there) and private to it.
    pub(crate) fn make_log_dir(&self, name: &str, owner: &RunAs) -> Result<()> {
        let d = crate::agent::logs::dir(&self.layout, name);
        std::fs::create_dir_all(&d)?;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))?;
        owner.chown(&d)?;
        if let Some(parent) = d.parent() {
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755))?;
        }
        Ok(())
    }

    /// Writes an instance's metadata last: from then on it exists on this host.
    /// Readable by dbhost and the instance's own OS user (its archive command reads which
    /// engine it runs), written by dbhost alone, hidden from every other instance's user.
    pub(crate) fn commit_instance(&self, name: &str, meta: &InstanceMeta) -> Result<()> {
        let path = self.layout.meta_path(name);
        fsutil::write_atomic(&path, &serde_json::to_vec_pretty(meta)?, 0o640)?;
        let group = match meta.os_user.as_deref() {
            Some(u) if self.run_as.switches() => nix::unistd::User::from_name(u)
                .ok()
                .flatten()
                .map(|u| u.gid.as_raw()),
            _ => None,
        };
        if let Some(gid) = group {
            std::os::unix::fs::lchown(&path, Some(0), Some(gid))?;
        }
        Ok(())
    }

    fn provision(
        &self,
        spec: &ProvisionSpec,
        progress: &mut dyn FnMut(&str),
    ) -> Result<InstanceStatus> {
        valid_name(&spec.instance)?;
        let engine = self.engine(&spec.engine)?;
        if self.layout.meta(&spec.instance)?.is_some() {
            return self.status(&spec.instance);
        }
        engine
            .check_admin_user(&spec.admin_user)
            .map_err(|e| wire_err(ErrorCode::InvalidInput, format!("{e:#}")))?;
        if spec.admin_password.is_empty() {
            return Err(wire_err(
                ErrorCode::BadRequest,
                "provision needs an admin password",
            ));
        }
        self.make_instance_dir(&spec.instance, false)?;
        let port = self.reserve_port(&spec.instance, spec.port)?;
        let os_user = self.new_instance_user(&spec.instance)?;
        let ctx = self.ctx(os_user.as_deref())?;

        // An initdb interrupted by a crash left a partial directory: it never held data.
        let partial = self.layout.partial_data(&spec.instance);
        let data = self.layout.data(&spec.instance);
        for stale in [&partial, &data] {
            if stale.exists() {
                std::fs::remove_dir_all(stale)
                    .with_context(|| format!("removing {}", stale.display()))?;
            }
        }
        let storage = self.storage()?;
        storage.create_volume(&partial)?;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o700))?;
        ctx.run_as.chown(&partial)?;
        self.make_log_dir(&spec.instance, &ctx.run_as)?;
        progress(&format!("initializing {} data directory", spec.engine));
        engine
            .init(&ctx, spec, port, &partial)
            .map_err(engine_failed)?;
        std::fs::rename(&partial, &data)?;
        let version = engine
            .detect(&self.cfg)
            .map(|f| f.version)
            .unwrap_or_default();
        let meta = InstanceMeta {
            engine: spec.engine.clone(),
            engine_version: version,
            port,
            admin_user: spec.admin_user.clone(),
            os_user,
            replay: None,
        };
        self.commit_instance(&spec.instance, &meta)?;
        self.status(&spec.instance)
    }

    pub(crate) fn existing(&self, name: &str) -> Result<(InstanceMeta, Box<dyn Engine>)> {
        valid_name(name)?;
        let meta = self.layout.meta(name)?.ok_or_else(|| {
            wire_err(
                ErrorCode::NotFound,
                format!("no instance {name} on this host"),
            )
        })?;
        let engine = self.engine(&meta.engine)?;
        Ok((meta, engine))
    }

    /// Starts the server; a restored copy's engine then replays what it was restored to
    /// (once: the replay is forgotten when it is done).
    fn start(&self, name: &str) -> Result<InstanceStatus> {
        let (mut meta, engine) = self.existing(name)?;
        let ctx = self.ctx(meta.os_user.as_deref())?;
        engine.start(&ctx, name, &meta).map_err(engine_failed)?;
        if let Some(r) = meta.replay.take() {
            engine
                .replay(&ctx, name, &meta, &r)
                .map_err(engine_failed)?;
            self.commit_instance(name, &meta)?;
        }
        self.status(name)
    }

    /// Rewrites an instance's settings; a running server reloads them, or restarts when
    /// `spec.restart` says some are read only at start. Writing the same settings twice is
    /// the same as once, so a re-sent request is harmless.
    fn reconfigure(&self, spec: &crate::wire::ReconfigureSpec) -> Result<InstanceStatus> {
        let name = &spec.instance;
        let (meta, engine) = self.existing(name)?;
        let ctx = self.ctx(meta.os_user.as_deref())?;
        let running = engine
            .liveness(&ctx, name, &meta)
            .map_err(engine_failed)?
            .running;
        engine
            .reconfigure(&ctx, name, &meta, &spec.size, spec.archive_timeout_secs)
            .map_err(engine_failed)?;
        if running {
            if spec.restart {
                engine.stop(&ctx, name, &meta).map_err(engine_failed)?;
                engine.start(&ctx, name, &meta).map_err(engine_failed)?;
            } else {
                engine.reload(&ctx, name, &meta).map_err(engine_failed)?;
            }
        }
        self.status(name)
    }

    fn stop(&self, name: &str) -> Result<InstanceStatus> {
        valid_name(name)?;
        if self.layout.meta(name)?.is_none() {
            return self.status(name);
        }
        let (meta, engine) = self.existing(name)?;
        engine
            .stop(&self.ctx(meta.os_user.as_deref())?, name, &meta)
            .map_err(engine_failed)?;
        self.status(name)
    }

    /// Stops a server so that nothing it committed is missing from its log archive: a fast
    /// stop ends every session, the server comes back reachable only by dbhost, its current
    /// log is archived, and it stops again. When the archive step fails (a broken server),
    /// it is left stopped and the answer carries no `archived_until`.
    ///
    /// # Errors
    /// The server cannot be stopped.
    pub(crate) fn stop_archived(&self, name: &str) -> Result<InstanceStatus> {
        valid_name(name)?;
        if self.layout.meta(name)?.is_none() {
            return self.status(name);
        }
        let (meta, engine) = self.existing(name)?;
        let live = engine
            .liveness(&self.ctx(meta.os_user.as_deref())?, name, &meta)
            .map_err(engine_failed)?;
        if !live.running {
            return self.status(name);
        }
        engine
            .stop(&self.ctx(meta.os_user.as_deref())?, name, &meta)
            .map_err(engine_failed)?;
        let archived = engine
            .start_private(&self.ctx(meta.os_user.as_deref())?, name, &meta)
            .and_then(|_| self.switch_and_mark(name))
            .ok();
        engine
            .stop(&self.ctx(meta.os_user.as_deref())?, name, &meta)
            .map_err(engine_failed)?;
        Ok(InstanceStatus {
            archived_until: archived.map(|(_, before)| before),
            ..self.status(name)?
        })
    }

    /// The engine's integrity checks of a running instance, then each of the DBA's queries
    /// (true, or at least one row, passes).
    ///
    /// # Errors
    /// Unknown or stopped instance, a database name that is not a plain identifier, or the
    /// engine's tool cannot run.
    pub fn check(&self, spec: &crate::wire::CheckSpec) -> Result<crate::wire::CheckReport> {
        valid_name(&spec.instance)?;
        if let Some(db) = &spec.database {
            if db.is_empty()
                || db.len() > 63
                || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(wire_err(
                    ErrorCode::InvalidInput,
                    format!("database name {db:?} is not letters, digits and underscores"),
                ));
            }
        }
        let meta = self.layout.meta(&spec.instance)?.ok_or_else(|| {
            wire_err(
                ErrorCode::NotFound,
                format!("no instance {} on this host", spec.instance),
            )
        })?;
        let engine = self.engine(&meta.engine)?;
        let host = self.ctx(meta.os_user.as_deref())?;
        if !engine
            .liveness(&host, &spec.instance, &meta)
            .map_err(engine_failed)?
            .accepting
        {
            return Err(crate::agent::wire_err_hint(
                ErrorCode::InvalidInput,
                "the instance is not running",
                "start it (`dbctl start NAME`), then check it",
            ));
        }
        if let Some(db) = &spec.database {
            if engine.query(&host, &meta, Some(db), "SELECT 1").is_err() {
                return Err(wire_err(
                    ErrorCode::InvalidInput,
                    format!("the instance has no database {db}"),
                ));
            }
        }
        let (tool, engine_ok, engine_detail) = engine
            .integrity_check(&host, &spec.instance, &meta)
            .map_err(engine_failed)?;
        let queries = spec
            .queries
            .iter()
            .map(|sql| {
                let verdict = match engine.query(&host, &meta, spec.database.as_deref(), sql) {
                    Err(e) => Some(format!("{e:#}")),
                    Ok(out) if out.trim().is_empty() => Some("it returned no rows".into()),
                    Ok(out) => {
                        let first = out
                            .lines()
                            .next()
                            .and_then(|l| l.split(['|', '\t']).next())
                            .unwrap_or_default()
                            .trim()
                            .to_ascii_lowercase();
                        match first.as_str() {
                            "f" | "false" | "0" => Some(format!("it returned {first}")),
                            "null" => Some("it returned NULL".into()),
                            _ => None,
                        }
                    }
                };
                crate::wire::QueryCheck {
                    sql: sql.clone(),
                    ok: verdict.is_none(),
                    detail: verdict,
                }
            })
            .collect();
        Ok(crate::wire::CheckReport {
            tool,
            engine_ok,
            engine_detail,
            queries,
        })
    }

    /// # Errors
    /// The instance's metadata is unreadable or its engine's tools cannot run.
    pub fn status(&self, name: &str) -> Result<InstanceStatus> {
        valid_name(name)?;
        let Some(meta) = self.layout.meta(name)? else {
            return Ok(InstanceStatus {
                instance: name.into(),
                ..Default::default()
            });
        };
        let engine = self.engine(&meta.engine)?;
        let live = engine
            .liveness(&self.ctx(meta.os_user.as_deref())?, name, &meta)
            .map_err(engine_failed)?;
        Ok(InstanceStatus {
            instance: name.into(),
            exists: true,
            data_missing: std::fs::symlink_metadata(self.layout.data(name)).is_err(),
            running: live.running,
            accepting: live.accepting,
            engine: meta.engine,
            engine_version: meta.engine_version,
            port: meta.port,
            pid: live.pid,
            in_recovery: live.in_recovery,
            archive_error: live.archive_error,
            checksum_failures: live.checksum_failures,
            sessions: live.sessions,
            exposure: crate::agent::logs::exposure(
                &self.layout,
                name,
                live.newest_commit.as_deref(),
                live.newest_transaction.as_deref(),
            ),
            busy: live.busy,
            unanswered: live.unanswered,
            disk_full: self.disk_full(name),
            ..Default::default()
        })
    }

    /// Whether the filesystem holding an instance's data has too little room for its server to
    /// go on (a PostgreSQL server PANICs when a new log segment cannot be written), saying
    /// how little.
    fn disk_full(&self, name: &str) -> Option<String> {
        // A log segment is 16 MiB: under a few of them, the next write may fail.
        const FULL_BELOW: u64 = 64 << 20;
        let free = crate::fsutil::free_bytes(&self.layout.instance(name)).ok()?;
        (free < FULL_BELOW).then(|| {
            format!(
                "the filesystem holding its data has {} MiB free",
                free >> 20
            )
        })
    }

    /// Stops the instance and removes its directory, or with `retire` (why) sets it aside
    /// as replaced data (`agent::replaced`); either way what it held goes: its OS user, its
    /// socket directory, its log archive unless a snapshot of it stays.
    fn destroy(&self, name: &str, retire: Option<&str>) -> Result<InstanceStatus> {
        valid_name(name)?;
        let dir = self.layout.instance(name);
        let meta = self.layout.meta(name)?;
        if meta.is_some() {
            self.stop(name)?;
        }
        let mut set_aside = None;
        match retire {
            Some(reason) => {
                // Nothing of the instance's user may run on while its data is set aside.
                if let Some(u) = meta.as_ref().and_then(|m| m.os_user.as_deref()) {
                    if let Ok(Some(user)) = nix::unistd::User::from_name(u) {
                        crate::agent::osuser::kill_processes_of(user.uid);
                    }
                }
                let engine = meta.as_ref().map(|m| m.engine.as_str()).unwrap_or("");
                let had_data = std::fs::symlink_metadata(self.layout.data(name)).is_ok();
                let entry = crate::agent::replaced::set_aside(
                    &self.layout,
                    &dir,
                    name,
                    engine,
                    reason,
                    false,
                )
                .map_err(|e| wire_err(ErrorCode::Internal, format!("{e:#}")))?;
                set_aside = entry.filter(|_| had_data);
            }
            None => self.storage()?.remove_tree(&dir)?,
        }
        // Logs serve only a snapshot they follow: with none of this instance here (a create
        // that failed, a delete that keeps nothing), its archive goes too. One that stays
        // becomes dbhost's: the OS user's id is freed below and may be handed out again.
        if !self.has_snapshots_of(name) {
            crate::agent::logs::drop_all(&self.layout, name)?;
        } else if self.run_as.switches() {
            let d = crate::agent::logs::dir(&self.layout, name);
            for rel in crate::agent::tree::files_under(&d).unwrap_or_default() {
                std::os::unix::fs::lchown(d.join(rel), Some(0), Some(0))?;
            }
            if d.exists() {
                std::os::unix::fs::lchown(&d, Some(0), Some(0))?;
            }
        }
        // Its own socket directory and OS user go with it (a provision that never finished
        // may have made the user without recording it).
        if let Some(u) = meta.as_ref().and_then(|m| m.os_user.as_deref()) {
            let _ = std::fs::remove_dir_all(self.layout.sockets().join(u));
        }
        if self.run_as.switches() {
            crate::agent::osuser::remove_instance_user(&self.layout.root, name)
                .map_err(|e| wire_err(ErrorCode::Internal, format!("{e:#}")))?;
        }
        Ok(InstanceStatus {
            instance: name.into(),
            set_aside,
            ..Default::default()
        })
    }
}
