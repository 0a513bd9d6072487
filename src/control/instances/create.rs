//! Creating an instance: the options, the checks before anything is made, the plan.

use crate::catalog::instances::{self, status, InstanceRow};
use crate::catalog::now;
use crate::control::base::engines;
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::base::names;
use crate::control::hosts::placement::Need;
use crate::control::planning;
use crate::control::planning::Plan;
use crate::wire::{Op, PreflightSpec};
use crate::workflow::actions::{self, ActionKind};
use anyhow::Result;

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
    pub policy: crate::control::offsite::policies::PolicyOpts,
    /// Its maintenance window, automatic snapshots and monitor policy.
    pub settings: crate::control::instances::modify::ModifyOpts,
    /// `KEY=VALUE` labels, as given.
    pub labels: Vec<String>,
    /// When it is to be deleted by itself (none by default).
    pub lifetime: crate::control::instances::lifetimes::LifetimeOpts,
    /// What it is a copy of, for `describe` (a clone into another engine).
    pub source: Option<String>,
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
/// Bad input ([`crate::control::base::error::Invalid`]); an unreachable host; the catalog fails.
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
    let policy = crate::control::offsite::policies::resolve(ctx, 0, None, &o.policy)?;
    crate::control::instances::modify::check_settings(&o.settings)?;
    let labels = crate::control::base::labels::parse(&o.labels)?;
    let lifetime = crate::control::instances::lifetimes::from_opts(
        &o.lifetime,
        time::OffsetDateTime::now_utc(),
    )?;
    let mut settings = crate::control::instances::modify::merged(
        crate::catalog::instance_settings::Settings::defaults(0),
        &o.settings,
    );
    crate::control::instances::modify::check_overlap(
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
    crate::control::hosts::reach::call(
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
