//! Who runs a workflow: the runner recorded in the catalog, its heartbeat, and taking over
//! from one that died.

use super::NotClaimed;
use crate::catalog::workflows::{self, status};
use crate::catalog::Catalog;
use anyhow::Result;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a runner's heartbeat may be silent before another process may take over.
pub const STALE_AFTER_SECS: i64 = 30;
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// This process, as recorded in `workflows.runner`.
pub fn me() -> String {
    workflows::this_process()
}

/// Whether the recorded runner may still be working on its workflow (its heartbeat judged by
/// the catalog database's clock, which wrote it).
pub fn runner_alive(
    conn: &crate::catalog::db::Conn,
    runner: Option<&str>,
    heartbeat_at: Option<&str>,
) -> bool {
    let Some(runner) = runner else { return false };
    let parse = |t: &str| crate::times::parse(t);
    // When the database cannot say what time it is, the runner is given the benefit.
    let Some(now) = conn.now().ok().as_deref().and_then(parse) else {
        return true;
    };
    let fresh = heartbeat_at
        .and_then(parse)
        .is_some_and(|t| (now - t).whole_seconds() < STALE_AFTER_SECS);
    let mine = me();
    let (my_host, _) = mine.rsplit_once(':').unwrap_or_default();
    match runner.rsplit_once(':') {
        // On this machine the process table is the better witness than the clock.
        Some((h, pid)) if h == my_host => {
            fresh
                && pid
                    .parse::<i32>()
                    .is_ok_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
        }
        _ => fresh,
    }
}

/// The workflows this process is running now: the runner name is the process's, so the
/// catalog alone cannot tell two of its threads apart (the monitor's recovery and the
/// sweep's pass in one daemon).
/// Each by its request prefix (`wf<N>-<nonce>`), which no other catalog's workflow has.
static RUNNING_HERE: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// A workflow held by one thread of this process until dropped.
pub(super) struct HeldHere(String);

impl Drop for HeldHere {
    fn drop(&mut self) {
        RUNNING_HERE
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.0);
    }
}

/// Holds workflow `wf` of `catalog` for this thread, or says another thread of this process
/// runs it.
///
/// # Errors
/// [`NotClaimed`] while another thread here holds it; the catalog fails.
pub(super) fn hold_here(catalog: &Catalog, wf: i64) -> Result<HeldHere> {
    let key = workflows::request_prefix(catalog.conn(), wf)?;
    let mut held = RUNNING_HERE.lock().unwrap_or_else(|p| p.into_inner());
    if !held.insert(key.clone()) {
        return Err(NotClaimed(format!(
            "workflow {wf} is being run by this process already; wait for it with `dbctl workflow wait {wf}`"
        ))
        .into());
    }
    Ok(HeldHere(key))
}

/// Takes workflow `wf` for `runner`, or says who has it. Returns the status it runs in
/// (`running`, or `undoing` for one that was being undone).
///
/// # Errors
/// [`NotClaimed`] for a finished workflow or one a live runner has; the catalog fails.
pub(super) fn claim(catalog: &mut Catalog, wf: i64, runner: &str) -> Result<String> {
    // The workflow's row alone is claimed (on PostgreSQL, `FOR UPDATE SKIP LOCKED`): runners
    // claiming other workflows go on meanwhile, and one claiming this one is not waited for.
    catalog.claim(|tx| {
        let Some(w) = workflows::get_for_claim(tx, wf)? else {
            return Err(NotClaimed(format!(
                "workflow {wf} is being taken by another runner at this moment; wait for it with `dbctl workflow wait {wf}`"
            ))
            .into());
        };
        if status::is_finished(&w.status) {
            return Err(NotClaimed(format!("workflow {wf} already {}", w.status)).into());
        }
        if w.runner.as_deref() != Some(runner)
            && runner_alive(tx, w.runner.as_deref(), w.heartbeat_at.as_deref())
        {
            return Err(NotClaimed(format!(
                "workflow {wf} is being run by {} now; wait for it with `dbctl workflow wait {wf}`",
                w.runner.unwrap_or_default()
            ))
            .into());
        }
        let next = if w.status == status::UNDOING {
            status::UNDOING
        } else {
            status::RUNNING
        };
        workflows::claim(tx, wf, runner, next)?;
        Ok(next.to_string())
    })
}

/// Keeps the runner's heartbeat fresh from a thread of its own (its own catalog connection)
/// while the workflow runs; stops when dropped.
pub(super) struct Heartbeat {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    /// No thread at all without a catalog file (an in-memory catalog in tests).
    pub(super) fn start(at: Option<crate::catalog::Location>, wf: i64, runner: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = at.map(|at| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let Ok(cat) = at.open() else {
                    return;
                };
                let mut since = Duration::ZERO;
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(200));
                    since += Duration::from_millis(200);
                    if since >= HEARTBEAT_EVERY {
                        since = Duration::ZERO;
                        let _ = workflows::heartbeat(cat.conn(), wf, &runner);
                    }
                }
            })
        });
        Self { stop, handle }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
