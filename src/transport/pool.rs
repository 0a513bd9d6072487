//! SSH sessions kept open between calls, for a long-running process (the daemon) that asks
//! the same hosts the same questions every few seconds: one authenticated session per host
//! is kept idle and each call opens a channel on it, so a pass over a fleet costs a channel
//! per host instead of a TCP connection, a key exchange and an authentication.
//!
//! Each kept session may also keep a conversation open: a channel running `dbhost rpc` that
//! takes one read-only request after another, so the daemon's steady state costs a message
//! and its answer per question, not a process started on the host (nor the login shell
//! that starts it).
//!
//! Off unless [`keep_sessions`] was called: a one-shot command gains nothing from it. A
//! session is taken out while a call uses it (libssh2 serializes a session's channels, so
//! two calls sharing one would wait on each other) and put back after a clean end. One that
//! the host closed meanwhile fails before an answer came, and a read-only question is asked
//! again on a fresh one; one idle for longer than [`IDLE_LIMIT`] is closed.

use ssh2::{Channel, Session};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A session unused this long is closed rather than reused: the host may be gone for good,
/// and its sshd may have forgotten it.
pub const IDLE_LIMIT: Duration = Duration::from_secs(300);

/// What a session was opened and authenticated for: a session is reused only for the same
/// address, user, identity and pinned key (a re-pinned key means a new handshake).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub address: String,
    pub port: u16,
    pub user: String,
    pub identity: std::path::PathBuf,
    pub pinned: String,
}

/// A session to one host, with the conversation kept open on it, if any.
pub struct Line {
    pub session: Session,
    /// `dbhost rpc` waiting for its next read-only request.
    pub serving: Option<Channel>,
}

struct Idle {
    line: Line,
    since: Instant,
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static IDLE: OnceLock<Mutex<HashMap<Key, Idle>>> = OnceLock::new();

fn idle() -> &'static Mutex<HashMap<Key, Idle>> {
    IDLE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// From now on, this process keeps one idle session per host between calls.
pub fn keep_sessions() {
    ENABLED.store(true, Ordering::SeqCst);
}

/// Whether sessions are kept.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::SeqCst)
}

/// The idle line for `key`, if one is kept and not too old (taken out: the caller has it
/// alone until it gives it back).
pub fn take(key: &Key) -> Option<Line> {
    if !enabled() {
        return None;
    }
    let mut map = idle().lock().ok()?;
    let found = map.remove(key)?;
    (found.since.elapsed() < IDLE_LIMIT).then_some(found.line)
}

/// Keeps `line` for the next call to the same host. A second idle line for one host (two
/// calls to it at once) is closed: one per host is kept.
pub fn give_back(key: Key, line: Line) {
    if !enabled() {
        return;
    }
    if let Ok(mut map) = idle().lock() {
        map.entry(key).or_insert(Idle {
            line,
            since: Instant::now(),
        });
    }
}

/// How many sessions are kept idle now.
pub fn idle_count() -> usize {
    idle().lock().map(|m| m.len()).unwrap_or(0)
}

/// Closes every idle session that has not been used for [`IDLE_LIMIT`] (hosts removed from the
/// catalog or gone quiet), so a long-lived daemon does not hold their connections forever.
pub fn close_stale() {
    if let Ok(mut map) = idle().lock() {
        map.retain(|_, i| i.since.elapsed() < IDLE_LIMIT);
    }
}
