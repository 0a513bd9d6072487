//! Host operations: register (pinning the SSH key), list, show, refresh facts, remove.

use super::reach::{call, explain, explain_for, facts_of, round};
use crate::catalog::hosts::{self, HostRow};
use crate::catalog::{events, instances, now};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::base::lookup;
use crate::control::base::names;
use crate::transport::{self, ssh};
use crate::wire::{Facts, Op};
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub const LOCAL: &str = "local";

pub struct AddHost {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: Option<String>,
    pub identity: Option<PathBuf>,
    /// Connect, pin and read facts, but store nothing.
    pub dry_run: bool,
    /// `KEY=VALUE` labels, as given.
    pub labels: Vec<String>,
}

pub struct LocalInit {
    pub root: PathBuf,
    pub address: String,
    pub port_range: Option<[u16; 2]>,
    /// Whether root and address were given (not defaults): then they must match an
    /// existing local host.
    pub root_given: bool,
    pub address_given: bool,
}

#[derive(Debug, Serialize)]
pub struct HostView {
    pub name: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub transport: String,
    pub address: String,
    pub port: u16,
    pub user: Option<String>,
    pub host_key: Option<String>,
    pub dbhost_version: String,
    pub protocol: u32,
    pub cpus: u32,
    pub memory_mb: u64,
    pub disk_free_gb: u64,
    pub engines: Vec<String>,
    pub storage_backend: String,
    pub root: String,
    pub instances: usize,
    pub facts_at: String,
    /// When it last answered (`host list --refresh`, the monitor), and in how long.
    pub last_contact_at: Option<String>,
    pub rtt_ms: Option<u64>,
    /// What its root holds on disk (`host show` only; None when it does not answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskView>,
    /// `host list --refresh`: whether it answered this time (the contact and round trip
    /// above are its last answer's), and why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answering: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_answering: Option<String>,
    /// What a refresh found of the snapshots on it against the catalog.
    #[serde(skip_serializing_if = "is_unchanged")]
    pub reconciled: crate::control::hosts::inventory::Reconciled,
}

fn is_unchanged(r: &crate::control::hosts::inventory::Reconciled) -> bool {
    r.lost.is_empty() && r.found.is_empty()
}

/// A host's disk use by what owns it. "Unattributed" is what the catalog knows nothing of:
/// left by a crash, or by another control plane.
#[derive(Debug, Default, Serialize)]
pub struct DiskView {
    pub instances_bytes: u64,
    pub snapshots_bytes: u64,
    pub logs_bytes: u64,
    pub other_bytes: u64,
    pub unattributed_bytes: u64,
    /// Each unattributed entry, as "instances/NAME", "snapshots/NAME" or "logs/NAME".
    pub unattributed: Vec<String>,
    /// Data recoveries and in-place restores set aside (kept for people, never deleted by
    /// them).
    pub replaced_bytes: u64,
    pub replaced: Vec<crate::control::hosts::replaced::Replaced>,
}

/// Measures a host's disk use and sorts it by what the catalog says owns each entry.
///
/// # Errors
/// The host does not answer, or the catalog fails.
pub fn disk(ctx: &Ctx, h: &HostRow) -> Result<DiskView> {
    let u: crate::wire::DiskUsage =
        serde_json::from_value(call(h, Op::DiskUsage).map_err(|e| explain_for(h, e))?)?;
    let conn = ctx.catalog.conn();
    let live: std::collections::HashSet<String> = instances::live_on_host(conn, h.id)?
        .into_iter()
        .map(|i| i.uid)
        .collect();
    let snaps = crate::catalog::snapshots::list(conn, None)?;
    let kept: std::collections::HashSet<String> = snaps
        .iter()
        .filter(|s| s.host_id == Some(h.id))
        .map(|s| s.uid.clone())
        .collect();
    // A log archive belongs to a live instance here or to one whose snapshots are kept here.
    let mut log_owners = live.clone();
    for s in snaps.iter().filter(|s| s.host_id == Some(h.id)) {
        if let Ok(i) = instances::get(conn, s.instance_id) {
            log_owners.insert(i.uid);
        }
    }
    let mut v = DiskView {
        other_bytes: u.other,
        replaced_bytes: u.replaced.values().sum(),
        replaced: crate::control::hosts::replaced::on_host(ctx, h)?,
        ..Default::default()
    };
    for (kind, entries, known, sum) in [
        ("instances", &u.instances, &live, &mut v.instances_bytes),
        ("snapshots", &u.snapshots, &kept, &mut v.snapshots_bytes),
        ("logs", &u.logs, &log_owners, &mut v.logs_bytes),
    ] {
        for (name, bytes) in entries {
            if known.contains(name.trim_end_matches(".partial")) {
                *sum += bytes;
            } else {
                v.unattributed_bytes += bytes;
                v.unattributed.push(format!("{kind}/{name}"));
            }
        }
    }
    Ok(v)
}

fn default_identity() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    ["id_ed25519", "id_rsa"]
        .iter()
        .map(|k| home.join(".ssh").join(k))
        .find(|p| p.exists())
}

/// # Errors
/// Bad names or paths ([`crate::control::base::error::Invalid`]), an unreachable or refusing host.
pub fn add(ctx: &mut Ctx, a: &AddHost) -> Result<HostRow> {
    names::check("host", &a.name)?;
    let labels = crate::control::base::labels::parse(&a.labels)?;
    if hosts::by_name(ctx.catalog.conn(), &a.name)?.is_some() {
        return Err(invalid(
            format!("host `{}` already exists", a.name),
            "choose another name, or `dbctl host remove` it first",
        ));
    }
    let identity = match &a.identity {
        Some(p) => p.clone(),
        None => default_identity().ok_or_else(|| {
            invalid(
                "no SSH key found in ~/.ssh (id_ed25519, id_rsa)",
                "pass --identity KEYFILE",
            )
        })?,
    };
    if !identity.is_file() {
        return Err(invalid(
            format!("identity file {} does not exist", identity.display()),
            "pass --identity with a private key file",
        ));
    }
    let identity = identity.canonicalize()?;
    let user = match &a.user {
        Some(u) => u.clone(),
        None => nix::unistd::User::from_uid(nix::unistd::Uid::effective())?
            .map(|u| u.name)
            .context("the current user has no name; pass --user")?,
    };
    let target = ssh::Target {
        address: a.address.clone(),
        port: a.port,
        user: user.clone(),
        identity: identity.clone(),
    };
    let where_ = format!("{}:{}", a.address, a.port);
    // First contact pins the key; every later connection must offer the same one.
    let key = ssh::probe_key(&target).map_err(|e| explain(&a.name, &where_, e))?;
    let mut row = HostRow {
        id: 0,
        name: a.name.clone(),
        transport: "ssh".into(),
        address: a.address.clone(),
        port: a.port,
        ssh_user: Some(user),
        identity: Some(identity.display().to_string()),
        root: None,
        host_key_type: Some(key.kind.clone()),
        host_key: Some(key.blob.clone()),
        facts: placeholder_facts(),
        facts_at: now(),
        created_at: now(),
    };
    row.facts = facts_of(call(&row, Op::Facts).map_err(|e| explain(&a.name, &where_, e))?)?;
    refuse_duplicate(ctx, &row)?;
    if a.dry_run {
        return Ok(row);
    }
    let fp = key.fingerprint();
    row.id = ctx.catalog.write(|tx| {
        let id = hosts::insert(tx, &row)?;
        crate::catalog::labels::set(tx, crate::catalog::labels::kind::HOST, id, &labels)?;
        events::add(
            tx,
            None,
            None,
            "host_added",
            &format!("host {} added at {where_}, key {} {fp}", row.name, key.kind),
        )?;
        Ok(id)
    })?;
    Ok(row)
}

/// Refuses a host that another already is (the same address and dbhost root): counted
/// twice, its capacity would be promised twice.
fn refuse_duplicate(ctx: &Ctx, row: &HostRow) -> Result<()> {
    let same = hosts::list(ctx.catalog.conn())?.into_iter().find(|h| {
        h.address == row.address && !h.facts.root.is_empty() && h.facts.root == row.facts.root
    });
    match same {
        Some(h) => Err(invalid(
            format!(
                "host `{}` already is {} with dbhost root {}",
                h.name, row.address, row.facts.root
            ),
            format!(
                "use `{}`, or give this one a dbhost root of its own (--root in its forced command)",
                h.name
            ),
        )),
        None => Ok(()),
    }
}

fn placeholder_facts() -> Facts {
    Facts {
        version: String::new(),
        protocol: 0,
        hostname: String::new(),
        root: String::new(),
        cpus: 0,
        memory_mb: 0,
        disk_free_gb: 0,
        engines: vec![],
        storage_backend: String::new(),
        listen_address: String::new(),
        port_range: [0, 0],
        os_user: String::new(),
        snapshots: None,
    }
}

/// Registers this machine as host `local` (dbhost as a subprocess), once.
///
/// # Errors
/// dbhost cannot run or its root cannot be prepared.
pub fn init_local(ctx: &mut Ctx, li: &LocalInit) -> Result<HostRow> {
    // Which home registered host `local`: in a catalog a team shares, another control
    // machine's `local` is not this machine's, and must never be taken for it in silence.
    let marker = ctx.home.dir.join("local-host");
    if let Some(h) = hosts::by_name(ctx.catalog.conn(), LOCAL)? {
        let shared = ctx.catalog.conn().dialect() == crate::catalog::db::Dialect::Postgres;
        if shared && !marker.exists() && !li.root_given {
            return Err(invalid(
                format!(
                    "this shared catalog already has host `local` (dbhost root {}), registered by another control machine",
                    h.root.clone().unwrap_or_default()
                ),
                "add this machine's dbhost under a name of its own (`dbctl host add NAME --address ...`), or, if it is this machine's, give its --local-root",
            ));
        }
        // Run again: fine with the same settings, refused with others (never ignored).
        let mut differs = Vec::new();
        let same_root = li
            .root
            .canonicalize()
            .is_ok_and(|r| Some(r.display().to_string()) == h.root);
        if li.root_given && !same_root {
            differs.push(format!("root {}", h.root.clone().unwrap_or_default()));
        }
        if li.address_given && li.address != h.address {
            differs.push(format!("address {}", h.address));
        }
        if li.port_range.is_some_and(|p| p != h.facts.port_range) {
            let [lo, hi] = h.facts.port_range;
            differs.push(format!("ports {lo}-{hi}"));
        }
        if !differs.is_empty() {
            return Err(invalid(
                format!(
                    "this home is already initialized, with local host {}",
                    differs.join(", ")
                ),
                "leave those flags out, or use another --home; to move the local host, edit its dbhost.toml and run `dbctl host refresh local`",
            ));
        }
        let _ = std::fs::write(&marker, h.root.clone().unwrap_or_default());
        return Ok(h);
    }
    // Servers will listen there: it must be an address of this machine.
    if let Err(e) = std::net::TcpListener::bind((li.address.as_str(), 0)) {
        return Err(invalid(
            format!(
                "--local-address {} is not an address of this machine ({e})",
                li.address
            ),
            "give one `ip -brief address` lists, or leave it out for 127.0.0.1",
        ));
    }
    std::fs::create_dir_all(&li.root).with_context(|| format!("creating {}", li.root.display()))?;
    let root = li.root.canonicalize()?;
    write_host_config(&root, &li.address, li.port_range)?;
    let mut row = HostRow {
        id: 0,
        name: LOCAL.into(),
        transport: "local".into(),
        address: li.address.clone(),
        port: 0,
        ssh_user: None,
        identity: None,
        root: Some(root.display().to_string()),
        host_key_type: None,
        host_key: None,
        facts: placeholder_facts(),
        facts_at: now(),
        created_at: now(),
    };
    row.facts = facts_of(call(&row, Op::Facts).map_err(|e| explain(LOCAL, &li.address, e))?)?;
    row.id = ctx.catalog.write(|tx| {
        let id = hosts::insert(tx, &row)?;
        events::add(
            tx,
            None,
            None,
            "host_added",
            &format!("host local added, dbhost root {}", root.display()),
        )?;
        Ok(id)
    })?;
    let _ = std::fs::write(&marker, root.display().to_string());
    Ok(row)
}

/// Writes the local dbhost's settings unless the root already has some.
fn write_host_config(root: &Path, address: &str, ports: Option<[u16; 2]>) -> Result<()> {
    let path = root.join(crate::agent::config::FILE_NAME);
    if path.exists() {
        return Ok(());
    }
    let mut text = format!(
        "# dbhost settings for this machine.\nlisten_address = \"{}\"\n",
        address.replace('"', "")
    );
    if let Some([lo, hi]) = ports {
        text += &format!("port_range = [{lo}, {hi}]\n");
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// The view of a host row, stored or not.
///
/// # Errors
/// The catalog fails.
pub fn view(ctx: &Ctx, h: HostRow) -> Result<HostView> {
    let count = instances::live_on_host(ctx.catalog.conn(), h.id)?.len();
    let (last_contact_at, rtt_ms) = hosts::contact(ctx.catalog.conn(), h.id)?;
    let fingerprint = match (&h.host_key_type, &h.host_key) {
        (Some(k), Some(b)) => Some(format!(
            "{k} {}",
            ssh::HostKey {
                kind: k.clone(),
                blob: b.clone()
            }
            .fingerprint()
        )),
        _ => None,
    };
    let labels =
        crate::catalog::labels::of(ctx.catalog.conn(), crate::catalog::labels::kind::HOST, h.id)?;
    Ok(HostView {
        labels,
        name: h.name,
        transport: h.transport,
        address: h.address,
        port: h.port,
        user: h.ssh_user,
        host_key: fingerprint,
        dbhost_version: h.facts.version,
        protocol: h.facts.protocol,
        cpus: h.facts.cpus,
        memory_mb: h.facts.memory_mb,
        disk_free_gb: h.facts.disk_free_gb,
        engines: h
            .facts
            .engines
            .iter()
            .map(|e| format!("{} {}", e.name, e.version))
            .collect(),
        storage_backend: h.facts.storage_backend,
        root: h.facts.root,
        instances: count,
        facts_at: h.facts_at,
        last_contact_at,
        rtt_ms,
        disk: None,
        answering: None,
        not_answering: None,
        reconciled: Default::default(),
    })
}

/// # Errors
/// The catalog fails.
pub fn list(ctx: &Ctx) -> Result<Vec<HostView>> {
    hosts::list(ctx.catalog.conn())?
        .into_iter()
        .map(|h| view(ctx, h))
        .collect()
}

/// The hosts carrying every label of `labels` (`KEY=VALUE`; none: all); with `refresh`,
/// each asked for its facts first (`[monitor] concurrency` at a time).
///
/// # Errors
/// A bad label; the catalog fails.
pub fn list_labelled(ctx: &mut Ctx, labels: &[String], refresh: bool) -> Result<Vec<HostView>> {
    let wanted = crate::control::base::labels::parse(labels)?;
    let conn = ctx.catalog.conn();
    let mut chosen = Vec::new();
    for h in hosts::list(conn)? {
        if crate::catalog::labels::matches(conn, crate::catalog::labels::kind::HOST, h.id, &wanted)?
        {
            chosen.push(h);
        }
    }
    if refresh {
        let replies = round(ctx, &chosen, |_| ())?;
        let mut reconciled = std::collections::HashMap::new();
        for (h, r) in chosen.iter().zip(&replies) {
            if let Some(held) = r.facts.as_ref().and_then(|f| f.snapshots.as_ref()) {
                reconciled.insert(
                    h.id,
                    crate::control::hosts::inventory::reconcile(ctx, h, held)?,
                );
            }
        }
        let silent: std::collections::HashMap<i64, Option<String>> = chosen
            .iter()
            .zip(replies)
            .map(|(h, r)| (h.id, r.silent))
            .collect();
        let ids: Vec<i64> = chosen.iter().map(|h| h.id).collect();
        chosen = hosts::list(ctx.catalog.conn())?
            .into_iter()
            .filter(|h| ids.contains(&h.id))
            .collect();
        return chosen
            .into_iter()
            .map(|h| {
                let why = silent.get(&h.id).cloned().flatten();
                let found = reconciled.remove(&h.id).unwrap_or_default();
                view(ctx, h).map(|v| HostView {
                    answering: Some(why.is_none()),
                    not_answering: why,
                    reconciled: found,
                    ..v
                })
            })
            .collect();
    }
    chosen.into_iter().map(|h| view(ctx, h)).collect()
}

/// # Errors
/// Unknown host.
pub fn show(ctx: &Ctx, name: &str) -> Result<HostView> {
    let h = lookup::host(ctx, name)?;
    let disk = disk(ctx, &h).ok();
    Ok(HostView {
        disk,
        ..view(ctx, h)?
    })
}

/// Pins the key a host offers now in place of the one pinned at `host add` (after a host's
/// reinstall, say). Returns the old and new fingerprints, None when nothing changed.
///
/// # Errors
/// Unknown or local host, or it does not answer.
pub fn accept_new_key(ctx: &mut Ctx, name: &str) -> Result<Option<(String, String)>> {
    let h = lookup::host(ctx, name)?;
    let (Some(target), Some(old)) = transport::ssh_target(&h) else {
        return Err(invalid(
            format!("host `{name}` is not reached over SSH: it has no host key"),
            "leave out --accept-new-key",
        ));
    };
    let where_ = format!("{}:{}", h.address, h.port);
    let new = ssh::probe_key(&target).map_err(|e| explain(&h.name, &where_, e))?;
    if old.kind == new.kind && old.blob == new.blob {
        return Ok(None);
    }
    let (old_fp, new_fp) = (
        format!("{} {}", old.kind, old.fingerprint()),
        format!("{} {}", new.kind, new.fingerprint()),
    );
    ctx.catalog.write(|tx| {
        hosts::set_host_key(tx, h.id, &new.kind, &new.blob)?;
        events::add(
            tx,
            None,
            None,
            "host_key_changed",
            &format!("host {name}: pinned {new_fp} in place of {old_fp}"),
        )
    })?;
    Ok(Some((old_fp, new_fp)))
}

/// Asks the host for its facts again (checking its pinned key) and stores them.
///
/// # Errors
/// Unknown, unreachable or refusing host.
pub fn refresh(ctx: &mut Ctx, name: &str) -> Result<HostView> {
    let h = lookup::host(ctx, name)?;
    let where_ = format!("{}:{}", h.address, h.port);
    let facts = facts_of(call(&h, Op::Facts).map_err(|e| explain(&h.name, &where_, e))?)?;
    hosts::update_facts(ctx.catalog.conn(), h.id, &facts, &now())?;
    let reconciled = match &facts.snapshots {
        Some(held) => crate::control::hosts::inventory::reconcile(ctx, &h, held)?,
        None => Default::default(),
    };
    Ok(HostView {
        reconciled,
        ..show(ctx, name)?
    })
}

/// What `host remove --force` gave up for lost.
#[derive(Debug, Default, Serialize)]
pub struct Removed {
    pub lost_instances: Vec<String>,
    pub lost_snapshots: Vec<i64>,
}

/// Removes a host from the catalog. Without `force` it must hold nothing; with it (a host
/// that is gone for good), what lived there is marked lost, its unfinished workflows end,
/// and its endpoints go. Nothing on the host itself is touched.
///
/// # Errors
/// Unknown host, or (without `force`) instances or snapshots still there.
pub fn remove(ctx: &mut Ctx, name: &str, dry_run: bool, force: bool) -> Result<Removed> {
    let h = lookup::host(ctx, name)?;
    let live = instances::live_on_host(ctx.catalog.conn(), h.id)?;
    let kept = crate::catalog::snapshots::on_host(ctx.catalog.conn(), h.id)?;
    if force {
        let removed = Removed {
            lost_instances: live.iter().map(|i| i.name.clone()).collect(),
            lost_snapshots: kept.iter().map(|s| s.id).collect(),
        };
        if dry_run {
            return Ok(removed);
        }
        let mut backed_up = Vec::new();
        for i in &live {
            if crate::control::offsite::backups::has_backup(ctx, i)? {
                backed_up.push(i.id);
            }
        }
        ctx.catalog.write(|tx| {
            use crate::catalog::workflows;
            for i in &live {
                if let Some(wf) = i.lease_workflow_id {
                    if workflows::find(tx, wf)?
                        .is_some_and(|w| !workflows::status::is_finished(&w.status))
                    {
                        // What it was making elsewhere cannot be finished or undone through
                        // this host: it is left failed, for a person to delete.
                        workflows::set_status(
                            tx,
                            wf,
                            workflows::status::FAILED,
                            Some(&format!("host {name} was removed")),
                        )?;
                        workflows::release(tx, wf)?;
                        crate::catalog::snapshots::fail_unfinished(tx, wf, false)?;
                        for other in instances::leased_by(tx, wf)? {
                            instances::set_lease(tx, other.id, None)?;
                            if other.id != i.id && other.status == instances::status::CREATING {
                                instances::set_status(tx, other.id, instances::status::FAILED)?;
                            }
                        }
                    }
                }
                instances::set_lease(tx, i.id, None)?;
                instances::set_status(tx, i.id, instances::status::LOST)?;
                // One with a backup lives on in its repository: `recover` brings it back
                // under its name, password and endpoint (which then moves).
                if !backed_up.contains(&i.id) {
                    crate::catalog::endpoints::remove_for_instance(tx, i.id)?;
                }
                events::add(
                    tx,
                    Some((i.id, &i.name)),
                    None,
                    "lost",
                    &format!("{} was lost with host {name}", i.name),
                )?;
            }
            for s in &kept {
                crate::catalog::snapshots::set_status(
                    tx,
                    s.id,
                    crate::catalog::snapshots::status::LOST,
                )?;
            }
            hosts::delete(tx, h.id)?;
            events::add(
                tx,
                None,
                None,
                "host_removed",
                &format!(
                    "host {name} removed by force: {} instance(s) and {} snapshot(s) marked lost",
                    live.len(),
                    kept.len()
                ),
            )
        })?;
        for i in live.iter().filter(|i| !backed_up.contains(&i.id)) {
            ctx.secrets.remove(&i.uid);
        }
        return Ok(removed);
    }
    if !live.is_empty() {
        return Err(invalid(
            format!(
                "host `{name}` still has {} instance(s): {}",
                live.len(),
                live.iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "delete them (or move them) first; if the host is gone for good, `dbctl host remove --force` marks them lost",
        ));
    }
    if !kept.is_empty() {
        return Err(invalid(
            format!("host `{name}` still keeps {} snapshot(s)", kept.len()),
            "delete them with `dbctl snapshot delete` first; if the host is gone for good, `dbctl host remove --force` marks them lost",
        ));
    }
    if dry_run {
        return Ok(Removed::default());
    }
    ctx.catalog.write(|tx| {
        hosts::delete(tx, h.id)?;
        events::add(
            tx,
            None,
            None,
            "host_removed",
            &format!("host {name} removed"),
        )
    })?;
    Ok(Removed::default())
}
