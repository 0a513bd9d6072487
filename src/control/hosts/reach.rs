//! Calling hosts: one call to one host, the same call to many at once (a round), and the
//! one explanation of a host that did not answer.

use crate::catalog::hosts::{self, HostRow};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::hosts::fanout::Outcome;
use crate::transport::{self, CallError};
use crate::wire::{Facts, Op, Request};
use anyhow::{Context, Result};
use serde_json::Value;

/// Sends a read-only request to a host outside any workflow.
///
/// # Errors
/// [`CallError`] from the transport or dbhost.
pub fn call(host: &HostRow, op: Op) -> Result<Value, CallError> {
    let t = transport::for_host(host)?;
    let id = format!("adhoc-{:016x}", rand::random::<u64>());
    t.call(&Request::new(id, op), &mut |_| {})
}

/// Sends a read-only `op` that any host running `engine` can answer (a reckoning over
/// records the request carries) to the first that does: those not in `avoid` (known not to
/// answer) first. A request the engine finds invalid is the user's to fix.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for bad input; no host answers.
pub(crate) fn any_host_call(
    ctx: &crate::control::base::home::Ctx,
    engine: &str,
    op: &Op,
    avoid: &[i64],
) -> Result<Value> {
    let mut candidates: Vec<HostRow> = hosts::list(ctx.catalog.conn())?
        .into_iter()
        .filter(|h| h.facts.engines.iter().any(|e| e.name == engine))
        .collect();
    candidates.sort_by_key(|h| avoid.contains(&h.id));
    let mut last = None;
    for host in candidates {
        match call(&host, op.clone()) {
            Ok(v) => return Ok(v),
            Err(CallError::Remote(w)) if w.code == crate::wire::ErrorCode::InvalidInput => {
                return Err(invalid(w.message, w.hint.unwrap_or_default()))
            }
            Err(e) => last = Some(explain_for(&host, e)),
        }
    }
    Err(last.unwrap_or_else(|| {
        anyhow::anyhow!(
            "no host running {engine} answers, and one is needed to read its log positions"
        )
    }))
}

/// [`call`], its error said as [`explain`] says it.
///
/// # Errors
/// The host does not answer, refuses, or dbhost fails the request: one line naming it.
pub fn ask(host: &HostRow, op: Op) -> Result<Value> {
    call(host, op).map_err(|e| explain_for(host, e))
}

/// [`explain`] for a host of the catalog: its name and its address as dbctl reaches it.
pub fn explain_for(host: &HostRow, e: CallError) -> anyhow::Error {
    explain(&host.name, &format!("{}:{}", host.address, host.port), e)
}

/// Adds the host's name and address to a call error, as one line.
pub fn explain(host: &str, address: &str, e: CallError) -> anyhow::Error {
    match e {
        CallError::Unreachable(m) => anyhow::anyhow!(
            "host `{host}` at {address} does not answer: {m}; check the address and port, and that sshd and dbhost run there"
        ),
        CallError::Refused(m) => anyhow::anyhow!("host `{host}` at {address} refused: {m}"),
        CallError::Remote(w) => anyhow::anyhow!("host `{host}` at {address}: {w}"),
    }
}

/// What one round learned from one host.
pub struct Reply<X> {
    /// Its facts; None when it did not answer (or answered with something else).
    pub facts: Option<Facts>,
    /// Why it counts as not answering.
    pub silent: Option<String>,
    /// What the round's further questions to it found, when it answered.
    pub then: Option<X>,
}

/// Asks every host in `rows` for its facts and then, on the same thread and session, the
/// round's further questions (`then`): `[monitor] concurrency` hosts at a time, waiting at
/// most `[monitor] check_timeout_secs` for all of them, so a silent host counts as silent
/// without holding up the rest. Records in one transaction who answered, when, how fast,
/// and their facts. The replies in `rows`' order.
///
/// # Errors
/// The catalog fails.
pub fn round<X: Send + 'static>(
    ctx: &mut Ctx,
    rows: &[HostRow],
    then: impl Fn(&HostRow) -> X + Send + Sync + 'static,
) -> Result<Vec<Reply<X>>> {
    let m = &ctx.config.monitor;
    let limit = m.check_timeout_secs.max(1);
    let answers = crate::control::hosts::fanout::within(
        rows.to_vec(),
        |h| format!("host:{}:{}:{}", h.id, h.address, h.port),
        m.concurrency,
        std::time::Duration::from_secs(limit),
        move |h| {
            let t0 = std::time::Instant::now();
            match call(h, Op::Facts) {
                Ok(v) => {
                    let ms = t0.elapsed().as_millis() as u64;
                    (Ok((facts_of(v).ok(), ms)), Some(then(h)))
                }
                // dbhost answered, if not with facts: the host is there.
                Err(CallError::Remote(_)) => {
                    let ms = t0.elapsed().as_millis() as u64;
                    (Ok((None, ms)), Some(then(h)))
                }
                Err(e) => (Err(format!("{} ({e})", h.name)), None),
            }
        },
    );
    let at = ctx.catalog.conn().now()?;
    let mut out = Vec::new();
    ctx.catalog.write(|tx| {
        for (h, a) in rows.iter().zip(answers) {
            let reply = match a {
                Outcome::Done((Ok((facts, ms)), then)) => {
                    hosts::record_contact(tx, h.id, &at, Some(ms))?;
                    if let Some(f) = &facts {
                        hosts::update_facts(tx, h.id, f, &at)?;
                    }
                    Reply {
                        facts,
                        silent: None,
                        then,
                    }
                }
                Outcome::Done((Err(e), _)) => Reply {
                    facts: None,
                    silent: Some(e),
                    then: None,
                },
                Outcome::Late => Reply {
                    facts: None,
                    silent: Some(format!("{} did not answer within {limit} s", h.name)),
                    then: None,
                },
                Outcome::StillBusy => Reply {
                    facts: None,
                    silent: Some(format!(
                        "{} has not yet answered the check before this one",
                        h.name
                    )),
                    then: None,
                },
            };
            out.push(reply);
        }
        Ok(())
    })?;
    Ok(out)
}

/// The host's facts, refusing a host whose configured storage cannot work.
pub(super) fn facts_of(v: Value) -> Result<Facts> {
    let facts: Facts = serde_json::from_value(v).context("reading the host's facts")?;
    if facts.storage_backend.ends_with("(unavailable)") {
        return Err(invalid(
            format!(
                "host storage is set to {} but {} is not on that filesystem",
                facts.storage_backend.trim_end_matches(" (unavailable)"),
                facts.root
            ),
            "put the dbhost root on a btrfs filesystem, or set storage = \"plain\" (or \"auto\") in its dbhost.toml",
        ));
    }
    Ok(facts)
}
