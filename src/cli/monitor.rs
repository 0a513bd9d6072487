//! `dbctl monitor`: the daemon's health checks, now, from the terminal or a script.

use super::Env;
use crate::control::daemon::monitor;
use crate::control::daemon::monitor::Pass;
use crate::workflow::interrupt;
use anyhow::Result;
use clap::Args;
use std::time::{Duration, Instant};

/// Check every running instance and every host now, as the daemon's monitor does: each host
/// asked for its facts and its instances' status (`[monitor] concurrency` at a time, a host
/// silent for `[monitor] check_timeout_secs` counted as not answering), a verdict after the
/// failure budget, and the instance's failure policy applied (a recovery it starts runs
/// before the next pass). With `--passes`, the SSH session to each host stays open between
/// passes, as in the daemon.
///
/// Prints each pass: the instances that are not healthy or changed state, and the hosts that
/// did not answer (`-o json`: one JSON object per pass and line). Exits 0 when in the last
/// pass every host answered and every instance checked was serving (healthy or degraded),
/// 1 otherwise.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// How many passes to make.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub passes: u32,
    /// Seconds between the starts of two passes [default: `[monitor] interval_secs`].
    #[arg(long, value_name = "SECS")]
    pub interval: Option<u64>,
}

pub fn run(env: &Env, a: &MonitorArgs) -> Result<()> {
    interrupt::install_term();
    if a.passes == 0 {
        return Err(crate::control::base::error::invalid(
            "--passes 0 would check nothing",
            "give at least 1",
        ));
    }
    let every = Duration::from_secs(
        a.interval
            .unwrap_or(env.open()?.config.monitor.interval_secs)
            .max(1),
    );
    crate::transport::pool::keep_sessions();
    let mut last = None;
    for n in 1..=a.passes {
        let started = Instant::now();
        let pass = monitor::pass(&env.home, &|wf| super::daemon::run_workflow(env, wf))?;
        print(env, n, &pass);
        last = Some(pass);
        if n == a.passes || super::daemon::rest_until(started + every) {
            break;
        }
    }
    let Some(pass) = last else { return Ok(()) };
    let failing = pass
        .observations
        .iter()
        .filter(|o| o.state != "healthy" && o.state != "degraded")
        .count();
    if failing > 0 || !pass.silent_hosts.is_empty() {
        return Err(anyhow::anyhow!(
            "{failing} instance(s) not serving, {} host(s) not answering",
            pass.silent_hosts.len()
        ));
    }
    Ok(())
}

fn print(env: &Env, n: u32, pass: &Pass) {
    let p = &env.printer;
    if p.is_json() {
        let mut v = serde_json::to_value(pass).unwrap_or_default();
        v["pass"] = n.into();
        p.line(&v.to_string());
        return;
    }
    p.note(&format!(
        "pass {n}: {} host(s), {} answered; {} instance(s) checked in {:.2} s",
        pass.hosts,
        pass.hosts - pass.silent_hosts.len(),
        pass.instances,
        pass.seconds
    ));
    for h in &pass.silent_hosts {
        p.note(&format!("  not answering: {h}"));
    }
    let notable: Vec<_> = pass
        .observations
        .iter()
        .filter(|o| {
            o.state != "healthy" || o.action.is_some() || o.previous.as_deref() != Some("healthy")
        })
        .collect();
    if !notable.is_empty() {
        p.table(
            &["instance", "state", "was", "action", "detail"],
            notable
                .iter()
                .map(|o| {
                    vec![
                        o.instance.clone(),
                        o.state.clone(),
                        o.previous.clone().unwrap_or_default(),
                        o.action.clone().unwrap_or_default(),
                        o.detail.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        );
    }
}
