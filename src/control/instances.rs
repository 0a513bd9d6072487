//! Instance operations: plan create/delete as workflows, describe, list, connection URLs.

use super::engines::{self, ClientLogin};
use super::error::invalid;
use super::home::Ctx;
use super::placement::Need;
use super::planning::{self, check_not_busy, Plan};
use super::{hosts as host_ops, names};
use crate::catalog::hosts;
use crate::catalog::instances::{self, status, InstanceRow};
use crate::catalog::{now, workflows};
use crate::wire::{Op, PreflightSpec};
use crate::workflow::actions::{self, ActionKind};
use anyhow::Result;
use serde::Serialize;

pub struct CreateOpts {
    pub name: String,
    pub engine: String,
    pub class: String,
    pub host: Option<String>,
    pub storage_gb: Option<u64>,
    pub port: Option<u16>,
    pub admin_user: String,
    pub archive_timeout_secs: u32,
    /// Its backup policy (none without a repository).
    pub policy: super::policies::PolicyOpts,
    /// Its maintenance window, automatic snapshots and monitor policy.
    pub settings: super::modify::ModifyOpts,
    /// `KEY=VALUE` labels, as given.
    pub labels: Vec<String>,
    /// When it is to be deleted by itself (none by default).
    pub lifetime: super::lifetimes::LifetimeOpts,
    /// What it is a copy of, for `describe` (a clone into another engine).
    pub source: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LastWorkflow {
    pub id: i64,
    pub action: String,
    pub status: String,
}

#[derive(Debug, Serialize)]
pub struct InstanceView {
    pub name: String,
    pub status: String,
    pub engine: String,
    pub engine_version: Option<String>,
    pub class: String,
    pub cpus: f64,
    pub memory_mb: u64,
    pub max_connections: u32,
    pub storage_gb: u64,
    pub host: Option<String>,
    pub endpoint: Option<String>,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub admin_user: String,
    pub created_at: String,
    pub archive_timeout_secs: u32,
    pub last_workflow: Option<LastWorkflow>,
    /// Lineage: cloned from this instance, at this snapshot (of its first incarnation: a
    /// recovery keeps it, and `created_at`, as they were).
    pub source_instance: Option<String>,
    pub source_snapshot_id: Option<i64>,
    /// The last recovery that rebuilt it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Recovered>,
    /// Snapshots of this instance that are kept.
    pub snapshots: usize,
    /// Whether it can be rebuilt if its data is lost: it has a snapshot or a backup.
    pub recoverable: bool,
    /// Its backup policy and where it stands in the off-host tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offsite: Option<super::shipping::Offsite>,
    /// The span it can be restored to (None when its host does not answer).
    pub restorable_window: Option<super::pitr::Window>,
    /// Why its host could not be asked (it did not answer within `[monitor]
    /// check_timeout_secs`, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_silent: Option<String>,
    /// Its maintenance window, the class change waiting for it, its automatic snapshots and
    /// what the monitor does when it fails.
    pub maintenance_window: Option<String>,
    pub pending_class: Option<String>,
    pub snapshot_interval_mins: u32,
    pub on_failure: String,
    /// What the monitor last saw (None: never checked).
    pub health: Option<HealthView>,
    pub labels: std::collections::BTreeMap<String, String>,
    /// When it deletes itself (`clone --expires-in`, `--delete-when-idle`), if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<LifetimeView>,
    /// Its newest restore drill (`dbctl drill`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<crate::catalog::drills::DrillRow>,
}

/// An instance's lifetime as `describe` and `list` show it.
#[derive(Debug, Serialize)]
pub struct LifetimeView {
    #[serde(flatten)]
    pub lifetime: crate::catalog::lifetimes::Lifetime,
    /// In words: `in 7h59m`, `idle 2h`, `protected`.
    pub summary: String,
}

/// A recovery that rebuilt an instance: from which snapshot, and when it took over.
#[derive(Debug, Serialize)]
pub struct Recovered {
    pub snapshot_id: Option<i64>,
    pub at: String,
}

/// The monitor's last word on an instance.
#[derive(Debug, Serialize)]
pub struct HealthView {
    pub state: String,
    pub checked_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

pub(crate) fn check_admin_user(user: &str) -> Result<()> {
    let ok = (1..=63).contains(&user.len())
        && user.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && user
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            format!("invalid admin user `{user}`"),
            "use 1-63 lowercase letters, digits and underscores, not starting with a digit",
        ))
    }
}

/// Validates, places and plans `create`; writes it unless `dry_run`.
///
/// # Errors
/// Bad input ([`super::error::Invalid`]); an unreachable host; the catalog fails.
pub fn plan_create(ctx: &mut Ctx, o: &CreateOpts, dry_run: bool) -> Result<Plan> {
    names::check("instance", &o.name)?;
    engines::get(&o.engine)?;
    let class = ctx.config.class(&o.class)?;
    check_admin_user(&o.admin_user)?;
    if !(1..=3600).contains(&o.archive_timeout_secs) {
        return Err(invalid(
            format!(
                "--archive-timeout {} is out of range",
                o.archive_timeout_secs
            ),
            "give 1 to 3600 seconds (the longest a commit may wait to be archived)",
        ));
    }
    if let Some(existing) = instances::live_by_name(ctx.catalog.conn(), &o.name)? {
        return Err(invalid(
            format!(
                "instance `{}` already exists (status {})",
                o.name, existing.status
            ),
            "choose another name, or delete it first with `dbctl delete`",
        ));
    }
    let policy = super::policies::resolve(ctx, 0, None, &o.policy)?;
    super::modify::check_settings(&o.settings)?;
    let labels = super::labels::parse(&o.labels)?;
    let lifetime = super::lifetimes::from_opts(&o.lifetime, time::OffsetDateTime::now_utc())?;
    let mut settings = super::modify::merged(
        crate::catalog::instance_settings::Settings::defaults(0),
        &o.settings,
    );
    super::modify::check_overlap(
        settings.maintenance_window.as_deref(),
        policy.as_ref().and_then(|p| p.backup_window.as_deref()),
    )?;
    let storage_gb = o.storage_gb.unwrap_or(class.storage_gb);
    if storage_gb == 0 {
        return Err(invalid(
            "--storage-gb 0 leaves no room for data",
            "give at least 1",
        ));
    }
    let need = Need {
        engine: o.engine.clone(),
        cpus: class.cpus,
        memory_mb: class.memory_mb,
        storage_gb,
    };
    let (host, placement_note) = planning::place(ctx, o.host.as_deref(), &need, &o.class)?;
    planning::check_port(&host, o.port)?;
    // A live check on the chosen host: reachable, right key and protocol, engine, port, disk.
    host_ops::call(
        &host,
        Op::Preflight(PreflightSpec {
            engine: o.engine.clone(),
            admin_user: o.admin_user.clone(),
            port: o.port,
            storage_gb,
        }),
    )
    .map_err(|e| planning::preflight_error(&host, e))?;

    let mut inst = InstanceRow {
        id: 0,
        name: o.name.clone(),
        uid: format!("{}-{:06x}", o.name, rand::random::<u32>() & 0xff_ffff),
        engine: o.engine.clone(),
        engine_version: None,
        class: o.class.clone(),
        cpus: class.cpus,
        memory_mb: class.memory_mb,
        max_connections: class.max_connections,
        storage_gb,
        host_id: Some(host.id),
        port: o.port,
        admin_user: o.admin_user.clone(),
        status: status::CREATING.into(),
        lease_workflow_id: None,
        created_at: now(),
        deleted_at: None,
        source_instance: o.source.clone(),
        source_snapshot_id: None,
        archive_timeout_secs: o.archive_timeout_secs,
    };
    let mut base = planning::new_snapshot_row(
        &inst,
        host.id,
        crate::catalog::snapshots::kind::BASE,
        Some(planning::BASE_TAG),
    );
    let plan = Plan::new(
        ActionKind::Create,
        &o.name,
        &host.name,
        placement_note,
        actions::create::steps(&inst, host.id, o.port, Some(&base)),
    );
    let uid = inst.uid.clone();
    let rules = ctx.config.placement;
    planning::submit_new_instance(ctx, &uid, None, plan, dry_run, |tx| {
        planning::reserve(tx, host.id, &need, &rules)?;
        inst.id = instances::insert(tx, &inst)?;
        if let Some(mut p) = policy.clone() {
            p.instance_id = inst.id;
            crate::catalog::backup_policies::put(tx, &p)?;
        }
        settings.instance_id = inst.id;
        crate::catalog::instance_settings::put(tx, &settings)?;
        crate::catalog::labels::set(tx, crate::catalog::labels::kind::INSTANCE, inst.id, &labels)?;
        crate::catalog::lifetimes::put_for(tx, inst.id, lifetime.as_ref())?;
        base.instance_id = inst.id;
        base.id = crate::catalog::snapshots::insert(tx, &base)?;
        let steps = actions::create::steps(&inst, host.id, o.port, Some(&base));
        let wf = planning::write_workflow(tx, ActionKind::Create, &inst, &steps)?;
        crate::catalog::snapshots::set_workflow(tx, base.id, wf)?;
        Ok((wf, steps))
    })
}

/// # Errors
/// [`super::error::Invalid`] when no live instance has that name.
pub fn get(ctx: &Ctx, name: &str) -> Result<InstanceRow> {
    instances::live_by_name(ctx.catalog.conn(), name)?.ok_or_else(|| {
        invalid(
            format!("no instance named `{name}`"),
            "`dbctl list` shows the instances",
        )
    })
}

/// For listings of an instance's history (events, snapshots, backups), which outlive it:
/// an empty listing is an answer for a name that ever was, and a typo for one that never was.
///
/// # Errors
/// [`super::error::Invalid`] when no instance, live or deleted, ever had that name.
pub fn check_ever_named(ctx: &Ctx, name: &str) -> Result<()> {
    if instances::ever_named(ctx.catalog.conn(), name)? {
        return Ok(());
    }
    Err(invalid(
        format!("no instance was ever named `{name}`"),
        "`dbctl list` shows the instances; `dbctl events` the history of deleted ones",
    ))
}

/// Plans `delete` (after a final snapshot unless `skip_final_snapshot`); writes it unless
/// `dry_run`.
///
/// # Errors
/// Unknown or busy instance; the catalog fails.
pub fn plan_delete(
    ctx: &mut Ctx,
    name: &str,
    skip_final_snapshot: bool,
    dry_run: bool,
) -> Result<Plan> {
    let inst = get(ctx, name)?;
    check_not_busy(ctx, &inst)?;
    let host = match inst.host_id {
        Some(id) => hosts::get(ctx.catalog.conn(), id)?,
        None => {
            return Err(invalid(
                format!("instance `{name}` has no host in the catalog"),
                "re-add its host",
            ))
        }
    };
    // A final snapshot needs a running server; an instance that never came up has no data
    // worth keeping.
    let take_final = !skip_final_snapshot && inst.status == status::AVAILABLE;
    let mut final_snap = take_final.then(|| {
        planning::new_snapshot_row(&inst, host.id, crate::catalog::snapshots::kind::FINAL, None)
    });
    // Its automatic snapshots (the base one among them) go with it, as a cloud service's
    // automated backups do; the ones people took stay, with the logs they need.
    let (automatic, kept): (Vec<_>, Vec<_>) =
        crate::catalog::snapshots::list(ctx.catalog.conn(), Some(name))?
            .into_iter()
            .filter(|s| {
                s.instance_id == inst.id
                    && s.host_id == Some(host.id)
                    && s.status == crate::catalog::snapshots::status::AVAILABLE
            })
            .partition(|s| crate::catalog::snapshots::kind::expires(&s.kind));
    let kept: Vec<String> = kept.into_iter().map(|s| s.uid).collect();
    let steps_for = |s: Option<&crate::catalog::snapshots::SnapshotRow>| {
        actions::delete::steps(&inst, host.id, s, &kept, &automatic)
    };
    let plan = Plan::new(
        ActionKind::Delete,
        name,
        &host.name,
        format!("on host {}", host.name),
        steps_for(final_snap.as_ref()),
    );
    planning::submit(ctx, plan, dry_run, |tx| {
        let written = match final_snap.as_mut() {
            Some(snap) => {
                planning::write_with_snapshot(tx, ActionKind::Delete, &inst, snap, &|s| {
                    steps_for(Some(s))
                })?
            }
            None => {
                let steps = steps_for(None);
                (
                    planning::write_workflow(tx, ActionKind::Delete, &inst, &steps)?,
                    steps,
                )
            }
        };
        instances::set_status(tx, inst.id, status::DELETING)?;
        Ok(written)
    })
}

/// For an instance a recovery rebuilt: that recovery, and the first incarnation, whose
/// creation and clone lineage are the instance's own (the rebuilt row's are the recovery's).
fn incarnations(
    conn: &crate::catalog::db::Conn,
    i: &InstanceRow,
) -> Result<(Option<Recovered>, Option<InstanceRow>)> {
    let Some(mut prev) = instances::replaces(conn, i.id)? else {
        return Ok((None, None));
    };
    let recovered = Recovered {
        snapshot_id: i.source_snapshot_id,
        at: i.created_at.clone(),
    };
    // A chain of recoveries, each row replacing the one before; bounded against a cycle.
    for _ in 0..64 {
        match instances::replaces(conn, prev)? {
            Some(p) if p != prev => prev = p,
            _ => break,
        }
    }
    Ok((Some(recovered), Some(instances::get(conn, prev)?)))
}

fn view(ctx: &Ctx, i: InstanceRow) -> Result<InstanceView> {
    let conn = ctx.catalog.conn();
    let (recovered, first) = incarnations(conn, &i)?;
    let (created_at, source_instance, source_snapshot_id) = match first {
        Some(f) => (f.created_at, f.source_instance, f.source_snapshot_id),
        None => (
            i.created_at.clone(),
            i.source_instance.clone(),
            i.source_snapshot_id,
        ),
    };
    let kept = crate::catalog::snapshots::list(conn, Some(&i.name))?
        .iter()
        .filter(|s| s.instance_id == i.id && s.status == "available")
        .count();
    // A host that does not answer within the question timeout is said, not waited on.
    let (window, host_silent) = if kept > 0 {
        match super::pitr::window(ctx, &i) {
            Ok(w) => (Some(w), None),
            Err(e) if e.downcast_ref::<super::error::Invalid>().is_some() => (None, None),
            Err(e) => (None, Some(format!("{e:#}"))),
        }
    } else {
        (None, None)
    };
    let host = i.host_id.map(|id| hosts::get(conn, id)).transpose()?;
    let offsite = super::shipping::offsite(ctx, &i)?;
    let recoverable = kept > 0 || super::backups::has_backup(ctx, &i)?;
    let last = workflows::latest_for_instance(conn, i.id)?.map(|w| LastWorkflow {
        id: w.id,
        action: w.action,
        status: w.status,
    });
    let settings = crate::catalog::instance_settings::get(conn, i.id)?;
    let labels = crate::catalog::labels::of(conn, crate::catalog::labels::kind::INSTANCE, i.id)?;
    let last_drill = crate::catalog::drills::latest(conn, &i.name)?.0;
    let lifetime = crate::catalog::lifetimes::get(conn, i.id)?.map(|l| LifetimeView {
        summary: super::lifetimes::summary(&l, time::OffsetDateTime::now_utc()),
        lifetime: l,
    });
    let health = crate::catalog::health::get(conn, i.id)?
        .filter(|_| !status::put_away(&i.status))
        .map(|h| HealthView {
            state: h.state,
            checked_at: h.checked_at,
            first_error_at: h.first_error_at,
            detail: h.detail,
        });
    let address = host.as_ref().map(|h| h.address.clone());
    let endpoint = match (&address, i.port) {
        (Some(a), Some(p)) if a.contains(':') => Some(format!("[{a}]:{p}")),
        (Some(a), Some(p)) => Some(format!("{a}:{p}")),
        _ => None,
    };
    Ok(InstanceView {
        name: i.name,
        status: i.status,
        engine: i.engine,
        engine_version: i.engine_version,
        class: i.class,
        cpus: i.cpus,
        memory_mb: i.memory_mb,
        max_connections: i.max_connections,
        storage_gb: i.storage_gb,
        host: host.map(|h| h.name),
        endpoint,
        address,
        port: i.port,
        admin_user: i.admin_user,
        snapshots: kept,
        recoverable,
        offsite,
        restorable_window: window,
        host_silent,
        created_at,
        archive_timeout_secs: i.archive_timeout_secs,
        last_workflow: last,
        source_instance,
        source_snapshot_id,
        recovered,
        maintenance_window: settings.maintenance_window,
        pending_class: settings.pending_class,
        snapshot_interval_mins: settings.snapshot_interval_mins,
        on_failure: settings.on_failure,
        health,
        labels,
        lifetime,
        last_drill,
    })
}

/// # Errors
/// Unknown instance.
pub fn describe(ctx: &Ctx, name: &str) -> Result<InstanceView> {
    let i = get(ctx, name)?;
    view(ctx, i)
}

/// The live instances carrying every label of `labels` (`KEY=VALUE`; none: all).
///
/// # Errors
/// A bad label; the catalog fails.
pub fn list(ctx: &Ctx, labels: &[String]) -> Result<Vec<InstanceView>> {
    let wanted = super::labels::parse(labels)?;
    let conn = ctx.catalog.conn();
    let mut out = Vec::new();
    for i in instances::list_live(conn)? {
        if crate::catalog::labels::matches(
            conn,
            crate::catalog::labels::kind::INSTANCE,
            i.id,
            &wanted,
        )? {
            out.push(view(ctx, i)?);
        }
    }
    Ok(out)
}

/// How to reach an instance as its admin role.
pub struct Connection {
    pub engine: &'static super::engines::EngineInfo,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
}

impl Connection {
    /// The engine's client logged in as this connection, with `args` after the login; the
    /// credentials go in its environment or in an option file only it can read (a sealed
    /// in-memory file it inherits), never on its command line.
    ///
    /// # Errors
    /// The in-memory option file cannot be made.
    pub fn client_command(&self, args: &[String]) -> Result<std::process::Command> {
        let mut cmd = std::process::Command::new(self.engine.client);
        match self.engine.login {
            ClientLogin::Env([h, p, u, pw, db]) => {
                cmd.envs([
                    (h, self.host.clone()),
                    (p, self.port.to_string()),
                    (u, self.user.clone()),
                    (pw, self.password.clone()),
                    (db, self.database.clone()),
                ]);
            }
            ClientLogin::OptionFile => {
                // UTF-8 whatever the locale, as Debian's packaged client has it.
                let mut text = format!(
                    "[client]\nhost={}\nport={}\nuser={}\npassword={}\ndefault-character-set=utf8mb4\n",
                    self.host, self.port, self.user, self.password
                );
                if !self.database.is_empty() {
                    text += &format!("database={}\n", self.database);
                }
                let fd = option_file(&text)?;
                cmd.arg(format!("--defaults-extra-file=/dev/fd/{fd}"));
            }
        }
        cmd.args(args);
        Ok(cmd)
    }

    /// A PostgreSQL session on `database` (the connection's own when None).
    ///
    /// # Errors
    /// The server cannot be reached or refuses the login.
    pub fn pg_client(&self, database: Option<&str>) -> Result<postgres::Client> {
        let db = database.unwrap_or(&self.database);
        postgres::Config::new()
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(db)
            .connect_timeout(std::time::Duration::from_secs(10))
            .connect(postgres::NoTls)
            .map_err(|e| anyhow::anyhow!("connecting to {}:{} ({db}): {e}", self.host, self.port))
    }

    /// The engine's client's answer to `sql` in batch mode: one row a line, fields split at
    /// tabs (MariaDB).
    ///
    /// # Errors
    /// The client cannot run, or the server refuses the query (its message).
    pub fn client_rows(&self, sql: &str) -> Result<Vec<Vec<String>>> {
        let mut cmd = self.client_command(&[
            "--batch".into(),
            "--skip-column-names".into(),
            "-e".into(),
            sql.into(),
        ])?;
        let out = cmd
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| anyhow::anyhow!("running {}: {e}", self.engine.client))?;
        if !out.status.success() {
            anyhow::bail!(
                "the query failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect())
    }

    /// Whether the server has a database of that name.
    ///
    /// # Errors
    /// The server cannot be reached.
    pub fn has_database(&self, name: &str) -> Result<bool> {
        if self.engine.name == "postgres" {
            let mut c = self.pg_client(None)?;
            return Ok(c
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])?
                .is_some());
        }
        let literal = name.replace('\\', "\\\\").replace('\'', "''");
        let rows = self.client_rows(&format!(
            "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{literal}'"
        ))?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .is_some_and(|n| n != "0"))
    }
}

/// An in-memory file holding `text`, open without close-on-exec so that a client exec'd
/// next can read it by `/dev/fd/N`; it is gone when the client exits. Returns N.
fn option_file(text: &str) -> Result<i32> {
    use std::io::Write;
    use std::os::fd::{FromRawFd, IntoRawFd};
    let fd =
        nix::sys::memfd::memfd_create(c"dbctl-client", nix::sys::memfd::MemFdCreateFlag::empty())
            .map_err(|e| anyhow::anyhow!("making the client's option file: {e}"))?;
    // Made 0777; the client ignores an option file others could write.
    nix::sys::stat::fchmod(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| anyhow::anyhow!("making the client's option file private: {e}"))?;
    let raw = fd.into_raw_fd();
    // SAFETY: raw was just taken from an owned descriptor; the File only writes to it and
    // gives it back without closing it.
    let mut f = unsafe { std::fs::File::from_raw_fd(raw) };
    f.write_all(text.as_bytes())?;
    let _ = f.into_raw_fd();
    Ok(raw)
}

/// The admin connection to an instance.
///
/// # Errors
/// Unknown instance, one not yet available, or a missing secret.
pub fn connection(ctx: &Ctx, name: &str) -> Result<Connection> {
    let i = get(ctx, name)?;
    let engine = engines::get(&i.engine)?;
    let host = i
        .host_id
        .map(|id| hosts::get(ctx.catalog.conn(), id))
        .transpose()?;
    let (Some(host), Some(port)) = (host, i.port) else {
        return Err(invalid(
            format!(
                "instance `{name}` has no endpoint yet (status {})",
                i.status
            ),
            "wait for its create workflow to finish",
        ));
    };
    Ok(Connection {
        engine,
        host: host.address,
        port,
        user: i.admin_user.clone(),
        password: ctx.secrets.get(&i.uid)?,
        database: engine.default_database.into(),
    })
}

/// A connection URL with the admin credentials.
///
/// # Errors
/// Unknown instance, one not yet available, or a missing secret.
pub fn url(ctx: &Ctx, name: &str) -> Result<String> {
    let c = connection(ctx, name)?;
    let host = if c.host.contains(':') {
        format!("[{}]", c.host)
    } else {
        c.host.clone()
    };
    Ok(format!(
        "{}://{}:{}@{host}:{}/{}",
        c.engine.url_scheme, c.user, c.password, c.port, c.database
    ))
}
