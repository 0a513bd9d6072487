//! The monitor: every running instance checked (its host answers, its server runs and
//! answers a query, its data directory is there), a verdict only after checks have kept
//! failing for the failure budget, and then, per the instance's policy, a remedy with no
//! person involved. What a check means and which remedy fits are decided in [`decide`]
//! (pure functions); this module asks the hosts, keeps the health records and acts:
//!
//! - a server that is down on intact data is started again (crash recovery, seconds);
//! - one that stopped because its disk is full is `degraded`, and started once there is room;
//! - one whose process runs but does not answer (a full connection table, a stall) is left
//!   running, and at most restarted in place after `restart_unanswered_after_secs`;
//! - if it refuses to start on its data, or reads pages whose checksums fail, it is rebuilt
//!   to just before the first error seen; one whose data directory is gone, to the latest
//!   point; the data a rebuild replaces is set aside on its host, never deleted;
//! - a host that does not answer is left to people: its server cannot be fenced from here,
//!   and a second server on the same data would be worse than the outage;
//! - one that serves while its logs fail to reach the archive, or on a host whose disk is
//!   nearly full, is `degraded`: people are told, nothing is rebuilt.
//!
//! It never acts on an instance a person stopped or hibernated, or one a workflow holds, and
//! never starts a second recovery while one is under way; after `max_recoveries` failed ones
//! it gives up and says so. Every state change runs the notification hook.

pub mod decide;

use crate::control::base::home::Ctx;
use crate::control::base::home::Home;

use crate::catalog::health::{self, state, Health};
use crate::catalog::instance_settings::{self, on_failure};
use crate::catalog::instances::{self as irows, status, InstanceRow};
use crate::catalog::{events, hosts, workflows};
use crate::wire::{InstanceRef, InstanceStatus, Op, Target};
use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

/// What one check of one instance found, and what the monitor did.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    pub instance: String,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What it did about it: `restarted`, `recovering`, `notified`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The recovery it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<i64>,
}

/// What one pass did: its verdicts and what it asked.
#[derive(Debug, Clone, Serialize)]
pub struct Pass {
    /// The instances checked (running, not held by a workflow or another daemon).
    pub instances: usize,
    pub hosts: usize,
    /// The hosts that did not answer, each with why.
    pub silent_hosts: Vec<String>,
    pub seconds: f64,
    pub observations: Vec<Observation>,
}

use decide::{Finding, Problem, RebuildTo, Remedy};

/// What one check found, or why there was none.
type Checked = Finding;

/// Whether `inst` serves, and what is wrong with it if not.
fn check(ctx: &Ctx, inst: &InstanceRow) -> Checked {
    let host = match inst.host_id {
        Some(id) => match hosts::get(ctx.catalog.conn(), id) {
            Ok(h) => Some(h),
            Err(e) => return Finding::Problem(Problem::HostSilent(format!("{e:#}"))),
        },
        None => None,
    };
    check_on(host.as_ref(), inst).0
}

/// What one check learned besides the verdict: the client sessions it has and what losing
/// its data now would lose, when the host said.
#[derive(Debug, Clone, Default)]
struct Learned {
    sessions: Option<u32>,
    exposure: Option<crate::wire::Exposure>,
}

/// [`check`] with the instance's host already read (so it can run on any thread), and what
/// else the host said of it.
fn check_on(
    host: Option<&crate::catalog::hosts::HostRow>,
    inst: &InstanceRow,
) -> (Checked, Learned) {
    match status_on(host, inst) {
        Ok(st) => (
            decide::verdict(&st),
            Learned {
                sessions: st.sessions,
                exposure: st.exposure,
            },
        ),
        Err(p) => (Finding::Problem(p), Learned::default()),
    }
}

/// What the host says of the instance's server, or the problem asking it.
fn status_on(
    host: Option<&crate::catalog::hosts::HostRow>,
    inst: &InstanceRow,
) -> Result<InstanceStatus, Problem> {
    let Some(host) = host else {
        return Err(Problem::Gone);
    };
    crate::control::hosts::reach::call(
        host,
        Op::Status(InstanceRef {
            instance: inst.uid.clone(),
        }),
    )
    .map_err(|e| Problem::HostSilent(format!("{} ({e})", host.name)))
    .and_then(|a| {
        serde_json::from_value::<InstanceStatus>(a).map_err(|e| Problem::HostSilent(e.to_string()))
    })
}

/// A warning when a host's free disk is under the configured limit.
fn disk_warning(
    ctx: &Ctx,
    h: &crate::catalog::hosts::HostRow,
    f: &crate::wire::Facts,
) -> Option<String> {
    let limit = ctx.config.monitor.disk_warning_gb;
    (f.disk_free_gb < limit).then(|| {
        format!(
            "host {} has {} GiB of disk free (under {limit})",
            h.name, f.disk_free_gb
        )
    })
}

/// One pass over every running instance. `run` runs a recovery workflow the monitor
/// started (the daemon on a thread of its own, `--once` right away).
///
/// Every host is asked at once (bounded by `[monitor] concurrency`) for its facts and then,
/// on the same thread and session, for the status of each of its instances: one round trip
/// per question, one slow host holding up only its own thread until the round's deadline.
///
/// # Errors
/// The catalog cannot be opened or read.
pub fn pass(home: &Home, run: &dyn Fn(i64)) -> Result<Pass> {
    let started = std::time::Instant::now();
    let mut ctx = home.open()?;
    let me = crate::workflow::executor::me();
    let all_hosts = hosts::list(ctx.catalog.conn())?;
    // Stopped, hibernated, being made or deleted, failed for a person: not the monitor's.
    // Each instance this process checks is claimed, so several daemons share the fleet.
    let live: Vec<InstanceRow> = irows::list_live(ctx.catalog.conn())?
        .into_iter()
        .filter(|i| i.status == status::AVAILABLE)
        .collect();
    let mine: Vec<InstanceRow> = ctx.catalog.write(|tx| {
        let mut mine = Vec::new();
        for inst in live {
            if crate::catalog::leases::take(tx, &format!("monitor:{}", inst.id), &me, 60)? {
                mine.push(inst);
            }
        }
        Ok(mine)
    })?;
    let mut on_host: std::collections::BTreeMap<i64, Vec<InstanceRow>> = Default::default();
    for inst in &mine {
        if let Some(h) = inst.host_id {
            on_host.entry(h).or_default().push(inst.clone());
        }
    }
    let on_host = std::sync::Arc::new(on_host);
    let asked = on_host.clone();
    let replies = crate::control::hosts::reach::round(&mut ctx, &all_hosts, move |h| {
        asked
            .get(&h.id)
            .map(|insts| {
                insts
                    .iter()
                    .map(|i| (i.id, check_on(Some(h), i)))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    })?;
    // Each instance's finding: from its host's reply, or its host's silence.
    let mut found: std::collections::BTreeMap<i64, (Checked, Option<String>)> = Default::default();
    let mut silent_hosts = Vec::new();
    // Instances a client was connected to: not idle (`clone --delete-when-idle`).
    let mut in_use = Vec::new();
    // What losing each one's data would lose now (the metrics' loss window).
    let mut exposures = Vec::new();
    for (h, reply) in all_hosts.iter().zip(replies) {
        let disk = reply.facts.as_ref().and_then(|f| disk_warning(&ctx, h, f));
        match (reply.then, reply.silent) {
            (Some(checks), _) => {
                for (id, (c, learned)) in checks {
                    if learned.sessions.is_some_and(|n| n > 0) {
                        in_use.push(id);
                    }
                    if let Some(e) = learned.exposure {
                        exposures.push((id, e));
                    }
                    found.insert(id, (c, disk.clone()));
                }
            }
            (None, why) => {
                let why = why.unwrap_or_else(|| format!("{} did not answer", h.name));
                silent_hosts.push(why.clone());
                for inst in on_host.get(&h.id).into_iter().flatten() {
                    found.insert(
                        inst.id,
                        (Finding::Problem(Problem::HostSilent(why.clone())), None),
                    );
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut first_error = None;
    let mut serving = Vec::new();
    for inst in &mine {
        let (checked, disk) = found
            .remove(&inst.id)
            .unwrap_or((Finding::Problem(Problem::Gone), None));
        if matches!(checked, Finding::Healthy | Finding::Degraded(_)) {
            serving.push(inst);
        }
        match observe(&mut ctx, inst, disk, checked, run) {
            Ok(Some(o)) => out.push(o),
            Ok(None) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    refresh_windows(&ctx, &serving);
    let now = crate::times::format(OffsetDateTime::now_utc());
    ctx.catalog.write(|tx| {
        for id in &in_use {
            crate::catalog::lifetimes::saw_activity(tx, *id, &now)?;
        }
        for (id, e) in &exposures {
            crate::catalog::exposure::put(
                tx,
                &crate::catalog::exposure::Exposure {
                    instance_id: *id,
                    checked_at: now.clone(),
                    archived_through: e.archived_through.clone(),
                    at_risk_since: e.at_risk_since.clone(),
                },
            )?;
        }
        for inst in &mine {
            crate::catalog::leases::release(tx, &format!("monitor:{}", inst.id), &me)?;
        }
        Ok(())
    })?;
    match first_error {
        Some(e) => Err(e),
        None => Ok(Pass {
            instances: mine.len(),
            hosts: all_hosts.len(),
            silent_hosts,
            seconds: started.elapsed().as_secs_f64(),
            observations: out,
        }),
    }
}

/// How old an instance's recorded restorable window may get before a pass reckons it again:
/// `describe` and the metrics' loss window read it, and it must not age for want of asking.
const WINDOW_FRESH_SECS: i64 = 60;

/// Reckons again the restorable window of each serving instance whose record is older than
/// [`WINDOW_FRESH_SECS`] (one read-only question to its host each). A host that does not
/// answer leaves the old record, whose age then shows.
fn refresh_windows(ctx: &Ctx, serving: &[&InstanceRow]) {
    let now = OffsetDateTime::now_utc();
    for inst in serving {
        let fresh = crate::catalog::log_ranges::get(ctx.catalog.conn(), inst.id)
            .ok()
            .flatten()
            .and_then(|r| crate::times::parse(&r.refreshed_at))
            .is_some_and(|t| (now - t).whole_seconds() < WINDOW_FRESH_SECS);
        if !fresh {
            let _ = crate::control::restore::pitr::window(ctx, inst);
        }
    }
}

/// Checks one instance and acts on what it finds; None when it is not the monitor's to
/// check now (a workflow holds it).
fn observe(
    ctx: &mut Ctx,
    inst: &InstanceRow,
    disk: Option<String>,
    checked: Checked,
    run: &dyn Fn(i64),
) -> Result<Option<Observation>> {
    let conn = ctx.catalog.conn();
    let prev = health::get(conn, inst.id)?;
    // A recovery under way (the monitor's or anyone's) decides; so does a person's workflow.
    if let Some(wf) = inst.lease_workflow_id {
        if workflows::find(conn, wf)?.is_some_and(|w| !workflows::status::is_finished(&w.status)) {
            return Ok(None);
        }
    }
    let at = OffsetDateTime::now_utc();
    let stamp = crate::times::format(at);
    let prev_state = prev.as_ref().map(|h| h.state.clone());
    let mut h = prev.clone().unwrap_or(Health {
        instance_id: inst.id,
        state: state::HEALTHY.into(),
        ..Default::default()
    });
    h.checked_at = stamp.clone();
    let mut obs = Observation {
        instance: inst.name.clone(),
        state: String::new(),
        previous: prev_state.clone(),
        detail: None,
        action: None,
        workflow_id: None,
    };
    let problem = match checked {
        Finding::Healthy | Finding::Degraded(_) | Finding::Waiting(_) => {
            let incident = h.first_error_at.clone();
            // A server waiting for room is not seen serving: its last healthy moment stays.
            let (warning, seen_serving) = match checked {
                Finding::Degraded(d) => (Some(d), true),
                Finding::Waiting(d) => (Some(d), false),
                _ => (disk, true),
            };
            let now_state = if warning.is_some() {
                state::DEGRADED
            } else {
                state::HEALTHY
            };
            h = Health {
                instance_id: inst.id,
                state: now_state.into(),
                checked_at: stamp.clone(),
                healthy_at: if seen_serving {
                    Some(stamp)
                } else {
                    prev.as_ref().and_then(|p| p.healthy_at.clone())
                },
                detail: warning.clone(),
                ..Default::default()
            };
            health::put(ctx.catalog.conn(), &h)?;
            obs.state = h.state.clone();
            obs.detail = warning.clone();
            let was = prev_state.as_deref();
            let new_detail = prev.as_ref().and_then(|p| p.detail.as_deref()) != warning.as_deref();
            if was.is_some_and(|s| s != now_state)
                || (was.is_none() && warning.is_some())
                || (now_state == state::DEGRADED && new_detail)
            {
                let mut msg = match (&warning, incident) {
                    (Some(w), _) if seen_serving => format!("serving, but {w}"),
                    (Some(w), _) => format!("not serving: {w}"),
                    (None, Some(t)) => format!("healthy again (the incident began at {t})"),
                    (None, None) => "healthy again".into(),
                };
                // Back from a recovery the monitor started: what it brought back and what not.
                let recovered = prev
                    .as_ref()
                    .filter(|p| p.state == state::RECOVERING)
                    .and_then(|p| p.workflow_id)
                    .and_then(|wf| crate::control::restore::recover::report(ctx, wf).ok());
                if let Some(r) = &recovered {
                    msg = format!("{msg}: {}", r.lines().join("; "));
                    obs.workflow_id = prev.as_ref().and_then(|p| p.workflow_id);
                }
                changed_with(ctx, inst, &obs, was, &msg, recovered.as_ref())?;
                obs.detail = Some(msg);
            }
            return Ok(Some(obs));
        }
        Finding::Problem(p) => p,
    };
    let detail = problem.describe();
    if h.first_error_at.is_none() || [state::HEALTHY, state::DEGRADED].contains(&h.state.as_str()) {
        h.first_error_at = Some(stamp.clone());
        h.failures = 0;
        h.recoveries = 0;
        h.workflow_id = None;
    }
    h.failures += 1;
    h.detail = Some(detail.clone());
    obs.detail = Some(detail.clone());
    let budget = ctx.config.monitor.failure_budget_secs as f64;
    let failing_for = h
        .first_error_at
        .as_deref()
        .and_then(crate::times::parse)
        .map_or(0.0, |t| (at - t).as_seconds_f64());
    let settings = instance_settings::get(ctx.catalog.conn(), inst.id)?;
    let since = h.first_error_at.clone().unwrap_or_default();
    let give_up = |ctx: &mut Ctx, h: &mut Health, obs: &mut Observation, why: String| {
        h.state = state::NOTIFIED.into();
        health::put(ctx.catalog.conn(), h)?;
        obs.state = h.state.clone();
        obs.action = Some("notified".into());
        obs.detail = Some(why.clone());
        changed(ctx, inst, obs, prev_state.as_deref(), &why)
    };
    let standing = decide::Standing {
        left_to_people: h.state == state::NOTIFIED,
        failing_for,
        failures: h.failures,
        budget_secs: budget,
        notify_only: settings.on_failure == on_failure::NOTIFY,
        recoveries: h.recoveries,
        max_recoveries: ctx.config.monitor.max_recoveries,
    };
    match decide::escalation(&standing) {
        decide::Escalation::AlreadyLeft => {
            health::put(ctx.catalog.conn(), &h)?;
            obs.state = h.state;
            return Ok(Some(obs));
        }
        decide::Escalation::CheckAgain => {
            h.state = state::FAILING.into();
            health::put(ctx.catalog.conn(), &h)?;
            obs.state = h.state.clone();
            if prev_state.as_deref() != Some(state::FAILING) {
                let msg = format!("{detail}; checking again before acting");
                changed(ctx, inst, &obs, prev_state.as_deref(), &msg)?;
            }
            return Ok(Some(obs));
        }
        decide::Escalation::LeaveToPeople(why) => {
            let how = if standing.notify_only {
                format!("{why} (`dbctl recover {}` rebuilds it)", inst.name)
            } else {
                why
            };
            let why = format!("failed since {since}: {detail}; {how}");
            give_up(ctx, &mut h, &mut obs, why)?;
            return Ok(Some(obs));
        }
        decide::Escalation::Act => {}
    }
    let max = standing.max_recoveries;
    let restart_after = ctx.config.monitor.restart_unanswered_after_secs;
    let mut remedy = decide::remedy(&problem, failing_for, restart_after, &inst.name);
    // Healthy again after an action on its own data: the record and the hook say what it took.
    let back = |ctx: &mut Ctx, h: &mut Health, obs: &mut Observation, action: &str, msg: String| {
        *h = Health {
            instance_id: inst.id,
            state: state::HEALTHY.into(),
            checked_at: stamp.clone(),
            healthy_at: Some(stamp.clone()),
            ..Default::default()
        };
        health::put(ctx.catalog.conn(), h)?;
        obs.state = h.state.clone();
        obs.action = Some(action.into());
        changed(ctx, inst, obs, prev_state.as_deref(), &msg)?;
        obs.detail = Some(msg);
        anyhow::Ok(())
    };
    if remedy == Remedy::Start {
        match restart(ctx, inst) {
            Ok(()) => {
                let msg =
                    format!("{detail} (since {since}); the monitor started it again on its data");
                back(ctx, &mut h, &mut obs, "restarted", msg)?;
                return Ok(Some(obs));
            }
            Err(e) => {
                let now = status_of(ctx, inst);
                remedy = decide::after_failed_start(now.as_ref(), &format!("{e:#}"));
            }
        }
    }
    let target = match remedy {
        Remedy::Start => unreachable!("a start is tried above"),
        Remedy::Wait(ref why) | Remedy::WaitForRoom(ref why) => {
            // Nothing rebuilt: a full disk waits as `degraded`, a running server as `failing`.
            h.state = if matches!(remedy, Remedy::WaitForRoom(_)) {
                state::DEGRADED
            } else {
                state::FAILING
            }
            .into();
            let msg = format!("{detail} (since {since}); {why}");
            h.detail = Some(msg.clone());
            health::put(ctx.catalog.conn(), &h)?;
            obs.state = h.state.clone();
            obs.detail = Some(msg.clone());
            // Said once per state and reason, not every pass.
            if prev_state.as_deref() != Some(h.state.as_str())
                || prev.as_ref().and_then(|p| p.detail.as_deref()) != Some(msg.as_str())
            {
                changed(ctx, inst, &obs, prev_state.as_deref(), &msg)?;
            }
            return Ok(Some(obs));
        }
        Remedy::LeaveToPeople(why) => {
            let why = format!("failed since {since}: {detail}; {why}");
            give_up(ctx, &mut h, &mut obs, why)?;
            return Ok(Some(obs));
        }
        Remedy::RestartInPlace => {
            h.recoveries += 1;
            match restart_in_place(ctx, inst) {
                Ok(()) => {
                    let msg = format!(
                        "{detail} (since {since}) for over {restart_after} s; the monitor restarted it in place on its data"
                    );
                    back(ctx, &mut h, &mut obs, "restarted", msg)?;
                }
                Err(e) => {
                    h.state = state::FAILING.into();
                    health::put(ctx.catalog.conn(), &h)?;
                    obs.state = h.state.clone();
                    let msg = format!(
                        "{detail} (since {since}); a restart in place failed ({e:#}); it is not rebuilt while its process runs on its data"
                    );
                    changed(ctx, inst, &obs, prev_state.as_deref(), &msg)?;
                    obs.detail = Some(msg);
                }
            }
            return Ok(Some(obs));
        }
        Remedy::Rebuild(RebuildTo::Latest) => Target::Latest,
        Remedy::Rebuild(RebuildTo::BeforeError) => {
            before_error(ctx, inst, &since, h.healthy_at.as_deref())
        }
    };
    let planned = crate::control::restore::recover::plan_recover(
        ctx,
        &inst.name,
        Some(target.clone()),
        None,
        false,
        false,
    );
    h.recoveries += 1;
    match planned.and_then(|p| {
        p.workflow_id
            .ok_or_else(|| anyhow::anyhow!("no workflow written"))
    }) {
        Ok(wf) => {
            h.state = state::RECOVERING.into();
            h.workflow_id = Some(wf);
            health::put(ctx.catalog.conn(), &h)?;
            obs.state = h.state.clone();
            obs.action = Some("recovering".into());
            obs.workflow_id = Some(wf);
            let to = match &target {
                Target::Latest => "the latest point".to_string(),
                Target::Time(t) => format!("{t}, just before the first error"),
                other => format!("{other:?}"),
            };
            let msg = format!(
                "failed since {since}: {detail}; recovery {} of {max} started (workflow {wf}), to {to}; the data it replaces is set aside on its host, not deleted",
                h.recoveries
            );
            changed(ctx, inst, &obs, prev_state.as_deref(), &msg)?;
            obs.detail = Some(msg);
            run(wf);
        }
        Err(e) => {
            // Nothing was started: this incident's count of recoveries says so.
            h.recoveries -= 1;
            h.state = state::FAILED.into();
            health::put(ctx.catalog.conn(), &h)?;
            obs.state = h.state.clone();
            let msg =
                format!("failed since {since}: {detail}; no recovery could be started: {e:#}");
            if prev_state.as_deref() != Some(state::FAILED) {
                changed(ctx, inst, &obs, prev_state.as_deref(), &msg)?;
            }
            obs.detail = Some(msg);
        }
    }
    Ok(Some(obs))
}

/// What the instance's host says of its server now (None: it did not say).
fn status_of(ctx: &Ctx, inst: &InstanceRow) -> Option<InstanceStatus> {
    let host = hosts::get(ctx.catalog.conn(), inst.host_id?).ok()?;
    status_on(Some(&host), inst).ok()
}

/// Stops a server that runs but does not answer and starts it again on its own data.
fn restart_in_place(ctx: &Ctx, inst: &InstanceRow) -> Result<()> {
    let host = hosts::get(ctx.catalog.conn(), inst.host_id.unwrap_or_default())?;
    let r = InstanceRef {
        instance: inst.uid.clone(),
    };
    crate::control::hosts::reach::call(&host, Op::Stop(r)).map_err(|e| anyhow::anyhow!("{e}"))?;
    restart(ctx, inst)
}

/// Starts a server that is down, through its host, and sees it answer.
fn restart(ctx: &Ctx, inst: &InstanceRow) -> Result<()> {
    let host = hosts::get(ctx.catalog.conn(), inst.host_id.unwrap_or_default())?;
    let r = InstanceRef {
        instance: inst.uid.clone(),
    };
    crate::control::hosts::reach::call(&host, Op::Start(r)).map_err(|e| anyhow::anyhow!("{e}"))?;
    match check(ctx, inst) {
        Finding::Problem(p) => Err(anyhow::anyhow!(p.describe())),
        Finding::Waiting(w) => Err(anyhow::anyhow!(w)),
        Finding::Healthy | Finding::Degraded(_) => Ok(()),
    }
}

/// The point just before the first error recorded at `since`: a second earlier, but never
/// before the last check that found it healthy (`healthy_at`: whatever it had committed by
/// then was sound); the latest point when the archive ends before that (nothing later was
/// committed), or when no point before it can be restored (the error came before the oldest
/// snapshot was consistent: the logs after it are all there is).
fn before_error(ctx: &Ctx, inst: &InstanceRow, since: &str, healthy_at: Option<&str>) -> Target {
    let Some(t) = crate::times::parse(since) else {
        return Target::Latest;
    };
    let mut just_before = t - time::Duration::seconds(1);
    if let Some(ok) = healthy_at
        .and_then(crate::times::parse)
        .filter(|ok| *ok < t)
    {
        just_before = just_before.max(ok);
    }
    let window = crate::control::restore::pitr::window(ctx, inst).ok();
    let bound =
        |b: Option<&Option<String>>| b.and_then(|s| s.as_deref()).and_then(crate::times::parse);
    let latest = bound(window.as_ref().map(|w| &w.latest));
    let earliest = bound(window.as_ref().map(|w| &w.earliest));
    match (earliest, latest) {
        (_, Some(l)) if l <= just_before => Target::Latest,
        (Some(e), _) if just_before < e => Target::Latest,
        _ => Target::Time(crate::times::format(just_before)),
    }
}

/// The target of `recover NAME --before-error`: just before the first error the monitor
/// recorded for the incident it is in.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] when the monitor has recorded none.
pub fn before_first_error(ctx: &Ctx, name: &str) -> Result<Target> {
    let inst = crate::control::base::lookup::instance(ctx, name)?;
    let h = health::get(ctx.catalog.conn(), inst.id)?.filter(|h| h.state != state::HEALTHY);
    let healthy_at = h.as_ref().and_then(|h| h.healthy_at.clone());
    match h.and_then(|h| h.first_error_at) {
        Some(t) => Ok(before_error(ctx, &inst, &t, healthy_at.as_deref())),
        None => Err(crate::control::base::error::invalid(
            format!("the monitor has recorded no error for `{name}`"),
            "give the point with --at TIME (`dbctl events NAME` shows what happened), or run `dbctl daemon` so the monitor watches it",
        )),
    }
}

/// Records a state change as an event and runs the notification hook.
fn changed(
    ctx: &Ctx,
    inst: &InstanceRow,
    obs: &Observation,
    previous: Option<&str>,
    message: &str,
) -> Result<()> {
    changed_with(ctx, inst, obs, previous, message, None)
}

/// [`changed`], after a recovery whose report the hook is also given in its environment.
fn changed_with(
    ctx: &Ctx,
    inst: &InstanceRow,
    obs: &Observation,
    previous: Option<&str>,
    message: &str,
    recovery: Option<&crate::control::restore::recover::Report>,
) -> Result<()> {
    events::add(
        ctx.catalog.conn(),
        Some((inst.id, &inst.name)),
        obs.workflow_id,
        &format!("health_{}", obs.state),
        message,
    )?;
    let extra: Vec<(&str, String)> = recovery
        .map(|r| {
            vec![
                (
                    "DBCTL_RECOVERED_TO",
                    r.reached
                        .clone()
                        .or(r.recovered_to.clone())
                        .unwrap_or_default(),
                ),
                (
                    "DBCTL_NOT_BROUGHT_BACK",
                    r.not_brought_back.clone().unwrap_or_default(),
                ),
                ("DBCTL_LOST", if r.lost { "yes" } else { "no" }.to_string()),
            ]
        })
        .unwrap_or_default();
    if let Err(e) = notify(
        &ctx.config.monitor.hook,
        &inst.name,
        &obs.state,
        previous,
        message,
        &extra,
    ) {
        events::add(
            ctx.catalog.conn(),
            Some((inst.id, &inst.name)),
            None,
            "hook_failed",
            &format!("the monitor's notification hook failed: {e:#}"),
        )?;
    }
    Ok(())
}

/// Runs the hook as an argument vector (never a shell), with 30 s to finish.
pub(crate) fn notify(
    hook: &[String],
    instance: &str,
    new_state: &str,
    previous: Option<&str>,
    detail: &str,
    extra: &[(&str, String)],
) -> Result<()> {
    let Some((program, args)) = hook.split_first() else {
        return Ok(());
    };
    let mut child = std::process::Command::new(program)
        .args(args)
        .args([instance, new_state, detail])
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .env("DBCTL_INSTANCE", instance)
        .env("DBCTL_STATE", new_state)
        .env("DBCTL_PREVIOUS_STATE", previous.unwrap_or(""))
        .env("DBCTL_DETAIL", detail)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("{program}: {e}"))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(st) = child.try_wait()? {
            if st.success() {
                return Ok(());
            }
            anyhow::bail!("{program} exited with {st}");
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("{program} did not finish in 30 s and was killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
