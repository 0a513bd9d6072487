//! The `workflows` and `steps` tables: persisted plans and each step's state and outputs.

use super::db::{params, Conn as Connection, OptionalExtension, Row};
use anyhow::{Context, Result};
use serde::Serialize;

/// Workflow states.
pub mod status {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const UNDOING: &str = "undoing";
    pub const INTERRUPTED: &str = "interrupted";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    /// Stopped for good on request (`workflow cancel`), its completed steps undone.
    pub const CANCELLED: &str = "cancelled";

    pub fn is_finished(s: &str) -> bool {
        s == SUCCEEDED || s == FAILED || s == CANCELLED
    }

    /// Ended without succeeding (its steps were undone, or an undo failed).
    pub fn is_unsuccessful(s: &str) -> bool {
        s == FAILED || s == CANCELLED
    }
}

/// Step states.
pub mod step_status {
    pub const PENDING: &str = "pending";
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
    pub const UNDONE: &str = "undone";
    pub const UNDO_FAILED: &str = "undo_failed";
    /// Stopped part-way (a host that did not answer, Ctrl-C, a runner that died): it may
    /// have acted; resuming sends it again under the same request id.
    pub const INTERRUPTED: &str = "interrupted";
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowRow {
    pub id: i64,
    pub action: String,
    pub instance_id: Option<i64>,
    pub status: String,
    pub error: Option<String>,
    /// "hostname:pid" of the dbctl process running it.
    pub runner: Option<String>,
    pub heartbeat_at: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub workflow_id: i64,
    pub idx: u32,
    pub name: String,
    /// The step's spec as JSON (see `workflow::plan::StepSpec`).
    pub spec: String,
    pub status: String,
    pub attempts: u32,
    pub output: Option<String>,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

const WF_COLS: &str =
    "id, action, instance_id, status, error, runner, heartbeat_at, created_at, started_at, finished_at";

fn wf_row(r: &Row) -> anyhow::Result<WorkflowRow> {
    Ok(WorkflowRow {
        id: r.get(0)?,
        action: r.get(1)?,
        instance_id: r.get(2)?,
        status: r.get(3)?,
        error: r.get(4)?,
        runner: r.get(5)?,
        heartbeat_at: r.get(6)?,
        created_at: r.get(7)?,
        started_at: r.get(8)?,
        finished_at: r.get(9)?,
    })
}

/// # Errors
/// The insert fails.
pub fn insert(
    conn: &Connection,
    action: &str,
    instance_id: Option<i64>,
    status: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO workflows (action, instance_id, status, created_at, nonce) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            action,
            instance_id,
            status,
            super::now(),
            format!("{:016x}", rand::random::<u64>())
        ],
    )?;
    let id = conn.last_insert_rowid()?;
    if status == self::status::QUEUED {
        // The process that made it runs it at once (or, queued with --detach, exits and
        // leaves it to a sweep): its own until that process dies, so another process's sweep
        // (a daemon's) never takes it from under it in the moment before it is claimed.
        conn.execute(
            "UPDATE workflows SET runner = ?2, heartbeat_at = ?3 WHERE id = ?1",
            params![id, this_process(), conn.now()?],
        )?;
    }
    Ok(id)
}

/// The runner name of this process: `HOST:PID`.
pub fn this_process() -> String {
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{host}:{}", std::process::id())
}

/// Workflow `id`, its row claimed by this transaction ([`super::Catalog::claim`]); None when
/// another transaction is claiming it at this moment.
///
/// # Errors
/// The workflow is unknown or the query fails.
pub fn get_for_claim(conn: &Connection, id: i64) -> Result<Option<WorkflowRow>> {
    let sql = format!(
        "SELECT id FROM workflows WHERE id = ?1{}",
        conn.skip_locked()
    );
    match conn.query_opt(&sql, [id], |r| r.get::<i64>(0))? {
        Some(_) => get(conn, id).map(Some),
        None if find(conn, id)?.is_some() => Ok(None),
        None => get(conn, id).map(Some),
    }
}

/// The prefix of every request workflow `wf` sends a host: `wf<N>-<nonce>`, the same each
/// time a step is re-sent (so a host's journal replays its answer) and never another
/// catalog's. Workflows made before nonces keep `wf<N>`.
///
/// # Errors
/// The workflow is unknown or the read fails.
pub fn request_prefix(conn: &Connection, wf: i64) -> Result<String> {
    let nonce: Option<String> =
        conn.query_row("SELECT nonce FROM workflows WHERE id = ?1", [wf], |r| {
            r.get(0)
        })?;
    Ok(match nonce {
        Some(n) => format!("wf{wf}-{n}"),
        None => format!("wf{wf}"),
    })
}

/// # Errors
/// The insert fails.
pub fn insert_step(
    conn: &Connection,
    workflow_id: i64,
    idx: u32,
    name: &str,
    spec: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO steps (workflow_id, idx, name, spec, status) VALUES (?1, ?2, ?3, ?4, 'pending')",
        params![workflow_id, idx, name, spec],
    )?;
    Ok(())
}

/// # Errors
/// The query fails.
pub fn find(conn: &Connection, id: i64) -> Result<Option<WorkflowRow>> {
    conn.query_row(
        &format!("SELECT {WF_COLS} FROM workflows WHERE id = ?1"),
        [id],
        wf_row,
    )
    .optional()
}

/// # Errors
/// No workflow has that id.
pub fn get(conn: &Connection, id: i64) -> Result<WorkflowRow> {
    find(conn, id)?.with_context(|| format!("workflow {id} is not in the catalog"))
}

/// # Errors
/// The query fails.
pub fn steps(conn: &Connection, workflow_id: i64) -> Result<Vec<StepRow>> {
    let mut st = conn.prepare(
        "SELECT workflow_id, idx, name, spec, status, attempts, output, error, started_at, finished_at
         FROM steps WHERE workflow_id = ?1 ORDER BY idx",
    )?;
    let rows = st
        .query_map([workflow_id], |r| {
            Ok(StepRow {
                workflow_id: r.get(0)?,
                idx: r.get(1)?,
                name: r.get(2)?,
                spec: r.get(3)?,
                status: r.get(4)?,
                attempts: r.get(5)?,
                output: r.get(6)?,
                error: r.get(7)?,
                started_at: r.get(8)?,
                finished_at: r.get(9)?,
            })
        })?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The newest `limit` workflows, newest first.
///
/// # Errors
/// The query fails.
pub fn list(conn: &Connection, limit: u32) -> Result<Vec<WorkflowRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {WF_COLS} FROM workflows ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = st
        .query_map([limit], wf_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// # Errors
/// The query fails.
pub fn count_by_status(conn: &Connection) -> Result<Vec<(String, i64)>> {
    conn.query_all(
        "SELECT status, count(*) FROM workflows GROUP BY status ORDER BY status",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// # Errors
/// The query fails.
pub fn latest_for_instance(conn: &Connection, instance_id: i64) -> Result<Option<WorkflowRow>> {
    conn.query_row(
        &format!("SELECT {WF_COLS} FROM workflows WHERE instance_id = ?1 ORDER BY id DESC LIMIT 1"),
        [instance_id],
        wf_row,
    )
    .optional()
}

/// Workflows not finished: queued ones and those whose runner may be gone.
///
/// # Errors
/// The query fails.
pub fn unfinished(conn: &Connection) -> Result<Vec<WorkflowRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {WF_COLS} FROM workflows WHERE status NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY id"
    ))?;
    let rows = st
        .query_map([], wf_row)?
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Records `runner` as the process running the workflow, now in state `status`. A fresh run
/// clears the error of an earlier interruption; an undo keeps the failure it is undoing.
///
/// # Errors
/// The update fails.
pub fn claim(conn: &Connection, id: i64, runner: &str, status: &str) -> Result<()> {
    conn.execute(
        "UPDATE workflows SET runner = ?2, heartbeat_at = ?3, status = ?4,
             started_at = COALESCE(started_at, ?3),
             error = CASE WHEN ?4 = 'undoing' THEN error ELSE NULL END
         WHERE id = ?1",
        params![id, runner, conn.now()?, status],
    )?;
    Ok(())
}

/// Clears the runner: nobody is working on the workflow now.
///
/// # Errors
/// The update fails.
pub fn release(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("UPDATE workflows SET runner = NULL WHERE id = ?1", [id])?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn heartbeat(conn: &Connection, id: i64, runner: &str) -> Result<()> {
    conn.execute(
        "UPDATE workflows SET heartbeat_at = ?3 WHERE id = ?1 AND runner = ?2",
        params![id, runner, conn.now()?],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn set_status(conn: &Connection, id: i64, status: &str, error: Option<&str>) -> Result<()> {
    let finished = status::is_finished(status).then(super::now);
    conn.execute(
        "UPDATE workflows SET status = ?2, error = COALESCE(?3, error), finished_at = ?4 WHERE id = ?1",
        params![id, status, error, finished],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn step_started(conn: &Connection, wf: i64, idx: u32) -> Result<()> {
    conn.execute(
        "UPDATE steps SET status = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, ?3), error = NULL
         WHERE workflow_id = ?1 AND idx = ?2",
        params![wf, idx, super::now()],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn step_finished(
    conn: &Connection,
    wf: i64,
    idx: u32,
    status: &str,
    output: Option<&str>,
    error: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE steps SET status = ?3, output = COALESCE(?4, output), error = ?5, finished_at = ?6
         WHERE workflow_id = ?1 AND idx = ?2",
        params![wf, idx, status, output, error, super::now()],
    )?;
    Ok(())
}

/// Records how a step's undo ended, keeping the step's own error.
///
/// # Errors
/// The update fails.
pub fn step_undo_finished(
    conn: &Connection,
    wf: i64,
    idx: u32,
    status: &str,
    undo_error: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE steps SET status = ?3, finished_at = ?5,
             error = CASE WHEN CAST(?4 AS TEXT) IS NULL THEN error
                          WHEN error IS NULL THEN 'undo: ' || CAST(?4 AS TEXT)
                          ELSE error || '; undo: ' || CAST(?4 AS TEXT) END
         WHERE workflow_id = ?1 AND idx = ?2",
        params![wf, idx, status, undo_error, super::now()],
    )?;
    Ok(())
}

/// Marks a step that stopped part-way as interrupted, with why.
///
/// # Errors
/// The update fails.
pub fn step_interrupted(conn: &Connection, wf: i64, idx: u32, error: &str) -> Result<()> {
    conn.execute(
        "UPDATE steps SET status = 'interrupted', error = ?3 WHERE workflow_id = ?1 AND idx = ?2",
        params![wf, idx, error],
    )?;
    Ok(())
}

/// # Errors
/// The update fails.
pub fn step_error(conn: &Connection, wf: i64, idx: u32, error: &str) -> Result<()> {
    conn.execute(
        "UPDATE steps SET error = ?3 WHERE workflow_id = ?1 AND idx = ?2",
        params![wf, idx, error],
    )?;
    Ok(())
}
