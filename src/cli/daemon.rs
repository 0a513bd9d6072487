//! `dbctl daemon`: the control plane's own work, in the foreground, on an interval.

use super::Env;
use crate::control::daemon::monitor;
use crate::control::daemon::sweep;
use crate::workflow::interrupt;
use anyhow::Result;
use clap::Args;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Run in the foreground (under systemd: fixtures/dbctl-daemon.service): every interval, one
/// pass as `dbctl sweep` makes it (schedules, periodic backups, queued and abandoned
/// workflows, log shipping, expiry). Several daemons and operators may share one catalog:
/// each workflow, schedule run and instance's shipping or expiry is claimed by one of them,
/// and a claim whose holder died lapses. Besides, the monitor checks every running instance
/// every `[monitor] interval_secs` and restarts or rebuilds a failed one by its policy (see
/// `describe`'s health). One log line a pass that did something and one per change of
/// health, JSON when stdout is not a terminal. Stops after the pass under way on SIGINT or
/// SIGTERM.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// One pass, then exit (as `sweep`, logging as the daemon does).
    #[arg(long)]
    pub once: bool,
    /// Seconds between the starts of two passes.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub interval: u64,
    /// Do not watch the instances (no health checks, no automatic recovery).
    #[arg(long)]
    pub no_monitor: bool,
}

/// Prints one log line: JSON, or `at key=value ...` on a terminal.
fn log(p: &super::output::Printer, json: bool, l: &serde_json::Value) {
    if json {
        p.line(&l.to_string());
    } else {
        p.note(&format!(
            "{} {}",
            l["at"].as_str().unwrap_or(""),
            l.as_object()
                .map(|o| o
                    .iter()
                    .filter(|(k, v)| *k != "at" && !v.is_null())
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "))
                .unwrap_or_default()
        ));
    }
}

/// Runs one monitor pass and logs what changed; recoveries it starts go to `run`.
fn monitor_pass(env: &Env, json: bool, run: &dyn Fn(i64)) {
    let line = match monitor::pass(&env.home, run) {
        Ok(seen) => {
            for o in seen.observations.iter().filter(|o| match &o.previous {
                Some(p) => o.action.is_some() || *p != o.state,
                None => o.state != "healthy",
            }) {
                let level = if o.state == "healthy" { "info" } else { "warn" };
                log(
                    &env.printer,
                    json,
                    &serde_json::json!({"at": crate::catalog::now(), "level": level, "monitor": o}),
                );
            }
            return;
        }
        Err(e) => serde_json::json!({
            "at": crate::catalog::now(),
            "level": "error",
            "monitor": format!("{e:#}"),
        }),
    };
    log(&env.printer, json, &line);
}

/// The report of each recovery or in-place restore among `ran` that succeeded, one line each.
fn log_recoveries(env: &Env, json: bool, ran: &[crate::control::admin::runs::SweepResult]) {
    let done = ran
        .iter()
        .filter(|w| w.outcome == "succeeded" && (w.action == "recover" || w.action == "restore"));
    for w in done {
        let Ok(ctx) = env.open() else { return };
        if let Ok(r) = crate::control::restore::recover::report(&ctx, w.workflow_id) {
            log(
                &env.printer,
                json,
                &serde_json::json!({"at": crate::catalog::now(), "level": if r.lost { "warn" } else { "info" }, "workflow": w.workflow_id, "recovery": r}),
            );
        }
    }
}

/// Runs a workflow the monitor started, to its end.
pub(super) fn run_workflow(env: &Env, wf: i64) {
    let ran = env.open().and_then(|mut ctx| {
        let outcome =
            crate::control::admin::runs::execute(&mut ctx, wf, &crate::workflow::progress::Silent)?;
        // What a recovery brought back and what not, in the daemon's own log too.
        if matches!(outcome, crate::workflow::executor::Outcome::Succeeded) {
            if let Ok(r) = crate::control::restore::recover::report(&ctx, wf) {
                log(
                    &env.printer,
                    !std::io::stdout().is_terminal(),
                    &serde_json::json!({"at": crate::catalog::now(), "level": if r.lost { "warn" } else { "info" }, "workflow": wf, "recovery": r}),
                );
            }
        }
        Ok(())
    });
    if let Err(e) = ran {
        log(
            &env.printer,
            !std::io::stdout().is_terminal(),
            &serde_json::json!({"at": crate::catalog::now(), "level": "error", "workflow": wf, "error": format!("{e:#}")}),
        );
    }
}

pub fn run(env: &Env, a: &DaemonArgs) -> Result<()> {
    interrupt::install_term();
    let json = !std::io::stdout().is_terminal();
    if a.interval == 0 {
        return Err(crate::control::base::error::invalid(
            "--interval 0 would never rest",
            "give at least 1 second",
        ));
    }
    let config = env.open()?.config;
    let every = Duration::from_secs(config.monitor.interval_secs.max(1));
    // Bad settings are said now, in one line, not on a thread later.
    let listen = config
        .metrics
        .listen
        .as_deref()
        .map(crate::control::daemon::metrics::check_listen)
        .transpose()?;
    if a.once {
        let swept = passes(env, a, json);
        if !a.no_monitor {
            monitor_pass(env, json, &|wf| run_workflow(env, wf));
        }
        return swept;
    }
    // An address another process holds (a second daemon on this machine) leaves this one
    // without metrics, said once: the daemon's work matters more than its scrapes.
    let metrics = listen.and_then(|addr| match crate::control::daemon::metrics::bind(addr) {
        Ok(l) => Some(l),
        Err(e) => {
            log(
                &env.printer,
                json,
                &serde_json::json!({"at": crate::catalog::now(), "level": "warning", "metrics": format!("not serving metrics on {addr} ({e}): running without them")}),
            );
            None
        }
    });
    // The monitor asks the same hosts every few seconds: their sessions stay open.
    crate::transport::pool::keep_sessions();
    std::thread::scope(|s| {
        if let Some(server) = &metrics {
            s.spawn(move || {
                if let Err(e) = crate::control::daemon::metrics::serve_on(&env.home, server, &interrupt::requested) {
                    log(
                        &env.printer,
                        json,
                        &serde_json::json!({"at": crate::catalog::now(), "level": "error", "metrics": format!("{e:#}")}),
                    );
                }
            });
        }
        if !a.no_monitor {
            // On a thread of its own, so that a long pass (a backup, a clone) never delays a
            // check; each recovery it starts runs on one more.
            s.spawn(move || loop {
                let started = Instant::now();
                monitor_pass(env, json, &|wf| {
                    s.spawn(move || run_workflow(env, wf));
                });
                crate::transport::pool::close_stale();
                if rest_until(started + every) {
                    return;
                }
            });
        }
        passes(env, a, json)
    })
}

/// Sleeps until `next`; whether a stop was asked for meanwhile.
pub(super) fn rest_until(next: Instant) -> bool {
    while Instant::now() < next {
        if interrupt::requested() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    interrupt::requested()
}

/// Sweep's passes, every interval (one with --once).
fn passes(env: &Env, a: &DaemonArgs, json: bool) -> Result<()> {
    let p = &env.printer;
    loop {
        let started = Instant::now();
        let result = sweep::pass(&env.home);
        let line = match &result {
            Ok(s) if s.idle() => None,
            Ok(s) => Some(serde_json::json!({
                "at": crate::catalog::now(),
                "level": if s.failure().is_some() { "error" } else { "info" },
                "scheduled": s.scheduled.len(),
                "queued": s.queued.len(),
                "workflows": s.workflows.iter().map(|w| serde_json::json!({"id": w.workflow_id, "action": w.action, "outcome": w.outcome})).collect::<Vec<_>>(),
                "shipped_files": s.shipped.iter().map(|x| x.files).sum::<usize>(),
                "damaged_logs": s.shipped.iter().flat_map(|x| x.damaged.iter().map(move |f| format!("{}: {f}", x.instance))).collect::<Vec<_>>(),
                "expired_backups": s.expired.iter().map(|x| x.backups.len()).sum::<usize>(),
                "expired_instances": s.instances_expired.iter().map(|x| x.instance.clone()).collect::<Vec<_>>(),
                "error": s.failure().map(|e| format!("{e:#}")),
            })),
            Err(e) => Some(serde_json::json!({
                "at": crate::catalog::now(),
                "level": "error",
                "error": format!("{e:#}"),
            })),
        };
        if let Some(l) = line {
            log(p, json, &l);
        }
        // A recovery the pass ran to its end (one the monitor started that the pass claimed
        // first, or one a dead runner left) says what it brought back here too.
        if let Ok(s) = &result {
            log_recoveries(env, json, &s.workflows);
        }
        if a.once {
            return match result {
                Ok(s) => s.failure().map_or(Ok(()), Err),
                Err(e) => Err(e),
            };
        }
        if rest_until(started + Duration::from_secs(a.interval)) {
            return Ok(());
        }
    }
}
