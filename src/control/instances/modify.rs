//! `modify`: an instance's class, storage, archive timeout, windows and monitor policy, as an
//! RDS user changes them. A class change needs a restart, so without `--apply-immediately`
//! it waits for the maintenance window (listed as pending); the rest apply now. A class the
//! host has no room for moves the instance to a host that has it.

use crate::catalog::instance_settings::{self, on_failure, Settings};
use crate::catalog::instances::{self as irows, status, InstanceRow};
use crate::catalog::{backup_policies, hosts, now};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::instances::windows;
use crate::control::planning;
use crate::control::planning::Plan;
use crate::control::restore::recover::rebuild;
use crate::control::restore::recover::Rebuild;
use crate::wire::{Size, Target};
use crate::workflow::actions::{self, ActionKind};
use anyhow::Result;
use serde::Serialize;

/// What `modify` (or `create`) asks; None leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct ModifyOpts {
    pub class: Option<String>,
    pub storage_gb: Option<u64>,
    pub archive_timeout_secs: Option<u32>,
    pub backup_window: Option<String>,
    pub backup_retention_days: Option<u32>,
    /// `ddd:HH:MM-ddd:HH:MM`, or `none`.
    pub maintenance_window: Option<String>,
    pub snapshot_interval_mins: Option<u32>,
    pub on_failure: Option<String>,
    pub apply_immediately: bool,
}

/// What a modify did.
#[derive(Debug, Serialize)]
pub struct Modified {
    pub instance: String,
    /// Settings changed now, as `name: old -> new`.
    pub applied: Vec<String>,
    /// A class change waiting for the maintenance window.
    pub pending_class: Option<String>,
    pub maintenance_window: Option<String>,
    /// The workflow that applies an engine change now.
    #[serde(skip)]
    pub plan: Option<Plan>,
}

/// Checks the settings that are the same on `create` and `modify`.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] naming the bad one.
pub fn check_settings(o: &ModifyOpts) -> Result<()> {
    if let Some(w) = &o.maintenance_window {
        if w != "none" {
            windows::parse_maintenance(w)?;
        }
    }
    if let Some(f) = &o.on_failure {
        if f != on_failure::RECOVER && f != on_failure::NOTIFY {
            return Err(invalid(
                format!("--on-failure `{f}` is not a policy"),
                "give recover (the monitor rebuilds a failed instance) or notify (it only runs the notification hook)",
            ));
        }
    }
    if o.snapshot_interval_mins.is_some_and(|m| m > 7 * 24 * 60) {
        return Err(invalid(
            "--snapshot-interval is longer than a week",
            "give minutes between automatic snapshots, up to 10080 (0 turns them off)",
        ));
    }
    if o.archive_timeout_secs
        .is_some_and(|t| !(1..=3600).contains(&t))
    {
        return Err(invalid(
            format!(
                "--archive-timeout {} is out of range",
                o.archive_timeout_secs.unwrap_or_default()
            ),
            "give 1 to 3600 seconds (the longest a commit may wait to be archived)",
        ));
    }
    Ok(())
}

/// `s` with what `o` asks of the catalog-only settings.
pub(crate) fn merged(mut s: Settings, o: &ModifyOpts) -> Settings {
    if let Some(w) = &o.maintenance_window {
        s.maintenance_window = (w != "none").then(|| w.clone());
    }
    if let Some(m) = o.snapshot_interval_mins {
        s.snapshot_interval_mins = m;
    }
    if let Some(f) = &o.on_failure {
        s.on_failure = f.clone();
    }
    s
}

/// Refuses a maintenance window that overlaps the daily backup window: a restart in the
/// middle of a backup would fail it.
pub(crate) fn check_overlap(maintenance: Option<&str>, backup: Option<&str>) -> Result<()> {
    let (Some(m), Some(b)) = (maintenance, backup) else {
        return Ok(());
    };
    let (mw, bw) = (
        windows::parse_maintenance(m)?,
        crate::control::offsite::policies::parse_window(b)?,
    );
    if windows::overlaps_daily(&mw, bw) {
        return Err(invalid(
            format!("the maintenance window {m} overlaps the backup window {b}"),
            "choose windows that do not meet (a restart would interrupt the backup)",
        ));
    }
    Ok(())
}

/// Plans `modify NAME ...`: writes the settings that apply now and, for an engine change
/// due now, a workflow (returned in `plan`; nothing is written with `dry_run`).
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for bad input (nothing is changed), a busy instance, a class
/// no host can hold.
pub fn plan_modify(ctx: &mut Ctx, name: &str, o: &ModifyOpts, dry_run: bool) -> Result<Modified> {
    let inst = crate::control::base::lookup::instance(ctx, name)?;
    check_settings(o)?;
    let new_class = o
        .class
        .as_deref()
        .map(|c| ctx.config.class(c))
        .transpose()?;
    if let Some(gb) = o.storage_gb {
        if gb < inst.storage_gb {
            return Err(invalid(
                format!(
                    "--storage-gb {gb} is less than the {} GiB `{name}` has",
                    inst.storage_gb
                ),
                "storage can grow, never shrink; to make it smaller, clone it with --storage-gb into a new instance",
            ));
        }
    }
    let conn = ctx.catalog.conn();
    let old_settings = instance_settings::get(conn, inst.id)?;
    let settings = merged(old_settings.clone(), o);
    let policy = backup_policies::get(conn, inst.id)?;
    if (o.backup_window.is_some() || o.backup_retention_days.is_some()) && policy.is_none() {
        return Err(invalid(
            format!("`{name}` has no backup policy"),
            format!(
                "give it a repository first: dbctl backup policy {name} --backup-repository NAME"
            ),
        ));
    }
    let backup_window = match (&o.backup_window, &policy) {
        (Some(w), _) if w == "none" => None,
        (Some(w), _) => Some(w.clone()),
        (None, Some(p)) => p.backup_window.clone(),
        (None, None) => None,
    };
    let policy_opts = crate::control::offsite::policies::PolicyOpts {
        window: o.backup_window.clone(),
        retention_days: o.backup_retention_days,
        ..Default::default()
    };
    if policy_opts.any() {
        crate::control::offsite::policies::resolve(ctx, inst.id, policy.as_ref(), &policy_opts)?;
    }
    check_overlap(
        settings.maintenance_window.as_deref(),
        backup_window.as_deref(),
    )?;

    // The class: now, or waiting for the window.
    let class_now = if o.apply_immediately {
        o.class.clone().or(old_settings.pending_class.clone())
    } else {
        None
    }
    .filter(|c| *c != inst.class);
    let class_later = if o.apply_immediately {
        None
    } else {
        o.class.clone()
    };
    let timeout_now = o
        .archive_timeout_secs
        .filter(|t| *t != inst.archive_timeout_secs);
    let engine_change = class_now.is_some() || timeout_now.is_some();
    let asked_something = o.class.is_some()
        || o.storage_gb.is_some()
        || o.archive_timeout_secs.is_some()
        || o.backup_window.is_some()
        || o.backup_retention_days.is_some()
        || o.maintenance_window.is_some()
        || o.snapshot_interval_mins.is_some()
        || o.on_failure.is_some();
    let applies_pending = o.apply_immediately && old_settings.pending_class.is_some();
    if !(asked_something || applies_pending) {
        return Err(invalid(
            format!("nothing to change for `{name}`"),
            if o.apply_immediately {
                "it has no pending change; give a setting (see `dbctl modify --help`)"
            } else {
                "give a setting (see `dbctl modify --help`)"
            },
        ));
    }
    if engine_change || o.storage_gb.is_some_and(|g| g > inst.storage_gb) {
        if ![status::AVAILABLE, status::STOPPED].contains(&inst.status.as_str()) {
            let hint = if inst.status == status::HIBERNATED {
                "a hibernated instance takes its new class when it resumes: dbctl resume NAME --class C"
            } else {
                "wait until it is available (`dbctl describe` shows why it is not)"
            };
            return Err(invalid(
                format!("instance `{name}` is {}", inst.status),
                hint,
            ));
        }
        planning::check_not_busy(ctx, &inst)?;
    }
    let storage = o.storage_gb.filter(|g| *g > inst.storage_gb);
    let host = inst
        .host_id
        .map(|id| hosts::get(ctx.catalog.conn(), id))
        .transpose()?;

    // Whether the host holds the instance at its new size.
    let target_class = class_now.as_deref().unwrap_or(&inst.class).to_string();
    let target = match &class_now {
        Some(_) => new_class.unwrap_or(ctx.config.class(&target_class)?),
        None => crate::control::base::config::Class {
            cpus: inst.cpus,
            memory_mb: inst.memory_mb,
            max_connections: inst.max_connections,
            storage_gb: inst.storage_gb,
        },
    };
    let need = crate::control::hosts::placement::Need {
        engine: inst.engine.clone(),
        cpus: target.cpus,
        memory_mb: target.memory_mb,
        storage_gb: storage.unwrap_or(inst.storage_gb),
    };
    let misfit = match &host {
        Some(h) => {
            let others: Vec<InstanceRow> = irows::holding_room_on(ctx.catalog.conn(), h.id)?
                .into_iter()
                .filter(|i| i.id != inst.id)
                .collect();
            crate::control::hosts::placement::misfit(h, &others, &need, &ctx.config.placement)
        }
        None => None,
    };
    if let (Some(why), None) = (&misfit, &class_now) {
        // More storage alone, where the host has no room for it.
        return Err(invalid(
            format!(
                "host `{}` has no room for {} GiB of storage for `{name}`: {why}",
                host.as_ref().map_or("", |h| h.name.as_str()),
                need.storage_gb
            ),
            "free room there, or move the instance with a class change (dbctl modify NAME --class C --apply-immediately)",
        ));
    }

    let plan = if engine_change {
        let timeout = timeout_now.unwrap_or(inst.archive_timeout_secs);
        let host = host
            .clone()
            .ok_or_else(|| anyhow::anyhow!("`{name}` has no host"))?;
        if misfit.is_some() {
            if inst.status != status::AVAILABLE {
                return Err(invalid(
                    format!(
                        "host `{}` has no room for class {target_class}, and `{name}` is {}, so it cannot be moved",
                        host.name, inst.status
                    ),
                    "start it first (a move copies a running instance), or choose a class that fits",
                ));
            }
            // Snapshot, restore elsewhere with every log to the latest point, switch the
            // endpoint, retire the old copy: recover's workflow onto a host with room.
            Some(rebuild(
                ctx,
                &inst,
                Rebuild {
                    kind: ActionKind::Modify,
                    target: Target::Latest,
                    onto: None,
                    home: None,
                    old_server: Some(host.id),
                    class: Some(target_class.clone()),
                    storage_gb: storage,
                    archive_timeout_secs: Some(timeout),
                    tiers: crate::control::restore::coverage::Tiers::Any,
                    fresh_snapshot: true,
                },
                dry_run,
            )?)
        } else {
            let size = Size {
                cpus: target.cpus,
                memory_mb: target.memory_mb,
                max_connections: target.max_connections,
            };
            let restart = class_now.is_some() && inst.status == status::AVAILABLE;
            let steps =
                actions::modify::steps(&inst, host.id, &target_class, size, timeout, restart);
            let note = if restart {
                format!("on host {}: new settings, then a restart", host.name)
            } else {
                format!("on host {}: new settings, reloaded", host.name)
            };
            let plan = Plan::new(ActionKind::Modify, name, &host.name, note, steps.clone());
            Some(planning::submit(ctx, plan, dry_run, |tx| {
                let wf = planning::write_workflow(tx, ActionKind::Modify, &inst, &steps)?;
                Ok((wf, steps))
            })?)
        }
    } else {
        None
    };

    let mut applied = Vec::new();
    let mut note = |what: &str, old: String, new: String| {
        if old != new {
            applied.push(format!("{what}: {old} -> {new}"));
        }
    };
    let show = |w: &Option<String>| w.clone().unwrap_or_else(|| "none".into());
    note(
        "maintenance_window",
        show(&old_settings.maintenance_window),
        show(&settings.maintenance_window),
    );
    note(
        "snapshot_interval_mins",
        old_settings.snapshot_interval_mins.to_string(),
        settings.snapshot_interval_mins.to_string(),
    );
    note(
        "on_failure",
        old_settings.on_failure.clone(),
        settings.on_failure.clone(),
    );
    if let Some(gb) = storage {
        note("storage_gb", inst.storage_gb.to_string(), gb.to_string());
    }
    if let Some(p) = &policy {
        if let Some(w) = &o.backup_window {
            note("backup_window", show(&p.backup_window), w.clone());
        }
        if let Some(d) = o.backup_retention_days {
            note(
                "backup_retention_days",
                p.retention_days.to_string(),
                d.to_string(),
            );
        }
    }
    if let Some(c) = &class_now {
        note("class", inst.class.clone(), c.clone());
    }
    if let Some(t) = timeout_now {
        note(
            "archive_timeout_secs",
            inst.archive_timeout_secs.to_string(),
            t.to_string(),
        );
    }
    let mut settings = settings;
    match (&class_later, &class_now) {
        (Some(c), _) if *c == inst.class => {
            settings.pending_class = None;
            settings.pending_since = None;
        }
        (Some(c), _) => {
            settings.pending_class = Some(c.clone());
            settings.pending_since = Some(now());
        }
        // Applied now: the workflow's last step clears it once the class is in place.
        (None, _) => {}
    }
    if o.apply_immediately && class_now.is_none() && old_settings.pending_class.is_some() {
        // Pending the class it already has.
        settings.pending_class = None;
        settings.pending_since = None;
    }
    if !dry_run {
        let policy_update = match &policy {
            Some(p) if policy_opts.any() => {
                crate::control::offsite::policies::resolve(ctx, inst.id, Some(p), &policy_opts)?
            }
            _ => None,
        };
        ctx.catalog.write(|tx| {
            instance_settings::put(tx, &settings)?;
            if let Some(gb) = storage {
                // The new host of a move reserves it there; in place it is only room.
                irows::set_storage(tx, inst.id, gb)?;
            }
            if let Some(p) = &policy_update {
                backup_policies::put(tx, p)?;
            }
            if !applied.is_empty() || settings.pending_class.is_some() {
                let mut msg = applied.join(", ");
                if let Some(c) = &class_later.filter(|c| *c != inst.class) {
                    if !msg.is_empty() {
                        msg += "; ";
                    }
                    msg += &format!("class {c} pending until the maintenance window");
                }
                crate::catalog::events::add(
                    tx,
                    Some((inst.id, &inst.name)),
                    plan.as_ref().and_then(|p| p.workflow_id),
                    "modified",
                    &msg,
                )?;
            }
            Ok(())
        })?;
    }
    Ok(Modified {
        instance: inst.name,
        applied,
        pending_class: settings.pending_class,
        maintenance_window: settings.maintenance_window,
        plan,
    })
}

/// How long the instance did not serve during modify workflow `wf`: the restart in place,
/// or a move from stopping the old server to the endpoint at the new one. None when the
/// workflow did not get that far.
///
/// # Errors
/// The catalog fails.
pub fn downtime_secs(ctx: &Ctx, wf: i64) -> Result<Option<f64>> {
    let steps = crate::catalog::workflows::steps(ctx.catalog.conn(), wf)?;
    let at = |name: &str, start: bool| -> Option<time::OffsetDateTime> {
        let s = steps.iter().find(|s| s.name == name)?;
        let t = if start { &s.started_at } else { &s.finished_at };
        crate::times::parse(t.as_deref()?)
    };
    let span = match (
        at(actions::modify::RECONFIGURE, true),
        at(actions::modify::RECONFIGURE, false),
    ) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => at(actions::recover::STOP_OLD, true).zip(at("take-over", false)),
    };
    Ok(span.map(|(a, b)| (b - a).as_seconds_f64()))
}

/// The instances whose pending class change is due now (inside their maintenance window),
/// each applied by a modify workflow; one queuer per instance at a time.
///
/// # Errors
/// The catalog cannot be read.
pub fn queue_due(
    ctx: &mut Ctx,
    at: time::OffsetDateTime,
) -> Result<Vec<crate::control::daemon::periodic::Queued>> {
    let mut out = Vec::new();
    for inst in irows::list_live(ctx.catalog.conn())? {
        let s = instance_settings::get(ctx.catalog.conn(), inst.id)?;
        let (Some(_), Some(w)) = (&s.pending_class, &s.maintenance_window) else {
            continue;
        };
        if !windows::parse_maintenance(w).is_ok_and(|w| w.contains(at)) {
            continue;
        }
        if ![status::AVAILABLE, status::STOPPED].contains(&inst.status.as_str())
            || planning::check_not_busy(ctx, &inst).is_err()
        {
            continue;
        }
        let o = ModifyOpts {
            apply_immediately: true,
            ..Default::default()
        };
        out.extend(crate::control::daemon::periodic::queue_once(
            ctx,
            &format!("maintenance:{}", inst.id),
            &inst.name,
            |ctx| {
                plan_modify(ctx, &inst.name, &o, false).map(|m| m.plan.and_then(|p| p.workflow_id))
            },
        )?);
    }
    Ok(out)
}
