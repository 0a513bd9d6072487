//! `dbctl daemon`: the control plane's own work, in the foreground, on an interval.

use super::Env;
use crate::control::sweep;
use crate::workflow::interrupt;
use anyhow::Result;
use clap::Args;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Run in the foreground (under systemd: fixtures/dbctl-daemon.service): every interval, one
/// pass as `dbctl sweep` makes it (schedules, periodic backups, queued and abandoned
/// workflows, log shipping, expiry). Several daemons and operators may share one catalog:
/// each workflow, schedule run and instance's shipping or expiry is claimed by one of them,
/// and a claim whose holder died lapses. One log line a pass that did something, JSON when
/// stdout is not a terminal. Stops after the pass under way on SIGINT or SIGTERM.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// One pass, then exit (as `sweep`, logging as the daemon does).
    #[arg(long)]
    pub once: bool,
    /// Seconds between the starts of two passes.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub interval: u64,
}

pub fn run(env: &Env, a: &DaemonArgs) -> Result<()> {
    interrupt::install_term();
    let json = !std::io::stdout().is_terminal();
    let p = &env.printer;
    if a.interval == 0 {
        return Err(crate::control::error::invalid(
            "--interval 0 would never rest",
            "give at least 1 second",
        ));
    }
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
                "expired_backups": s.expired.iter().map(|x| x.backups.len()).sum::<usize>(),
                "error": s.failure().map(|e| format!("{e:#}")),
            })),
            Err(e) => Some(serde_json::json!({
                "at": crate::catalog::now(),
                "level": "error",
                "error": format!("{e:#}"),
            })),
        };
        if let Some(l) = line {
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
        if a.once {
            return match result {
                Ok(s) => s.failure().map_or(Ok(()), Err),
                Err(e) => Err(e),
            };
        }
        let next = started + Duration::from_secs(a.interval);
        while Instant::now() < next {
            if interrupt::requested() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if interrupt::requested() {
            return Ok(());
        }
    }
}
