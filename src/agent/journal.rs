//! The request journal: the idempotency that makes a re-sent step never act twice.
//!
//! A mutating request runs under an exclusive lock named by its id, and its successful result is
//! stored under the same id. A second request with that id (a workflow step re-run after dbctl
//! crashed, or the same step sent while the first is still running) waits for the lock and
//! replays the stored result instead of acting again.

use anyhow::{bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

pub struct Journal {
    dir: PathBuf,
}

/// Held while a request runs; dropping it releases the lock.
pub struct Entry {
    path: PathBuf,
    _lock: Flock<File>,
}

impl Journal {
    pub fn new(root: &Path) -> Self {
        Self {
            dir: root.join("requests"),
        }
    }

    /// Locks the entry for `request_id`, waiting for any other holder.
    ///
    /// # Errors
    /// The id has characters outside `[A-Za-z0-9._-]`, or the journal directory is not writable.
    pub fn lock(&self, request_id: &str) -> Result<Entry> {
        if request_id.is_empty()
            || request_id.len() > 200
            || !request_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            || request_id.starts_with('.')
        {
            bail!("request_id {request_id:?} must be 1-200 characters of [A-Za-z0-9._-]");
        }
        // dbhost's alone: an instance's OS user (a tenant's superuser has a shell as it) must
        // not read a step's answer nor hold a lock a retried step waits on.
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        let lock_path = self.dir.join(format!("{request_id}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&lock_path)
            .with_context(|| format!("opening {}", lock_path.display()))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .with_context(|| format!("locking {}", lock_path.display()))?;
        Ok(Entry {
            path: self.dir.join(format!("{request_id}.json")),
            _lock: lock,
        })
    }
}

impl Journal {
    /// Removes entries older than `max_age`: a workflow step is re-sent within minutes or
    /// days of its first try, never months later. Best effort; errors are ignored.
    pub fn prune(&self, max_age: std::time::Duration) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > max_age);
            if old && e.path().extension().is_some_and(|x| x == "json") {
                let _ = std::fs::remove_file(e.path());
                let _ = std::fs::remove_file(e.path().with_extension("lock"));
            }
        }
    }
}

impl Entry {
    /// The stored result of an earlier run of the same request, if it completed.
    pub fn recorded(&self) -> Option<Value> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Stores a successful result durably (write, fsync, rename).
    ///
    /// # Errors
    /// The journal file cannot be written.
    pub fn record(&self, value: &Value) -> Result<()> {
        crate::fsutil::write_atomic(&self.path, serde_json::to_vec(value)?.as_slice(), 0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_replays() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        {
            let e = j.lock("wf1-s0").unwrap();
            assert!(e.recorded().is_none());
            e.record(&serde_json::json!({"port": 5})).unwrap();
        }
        let e = j.lock("wf1-s0").unwrap();
        assert_eq!(e.recorded().unwrap()["port"], 5);
    }

    #[test]
    fn prunes_only_old_entries() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        j.lock("old")
            .unwrap()
            .record(&serde_json::json!(1))
            .unwrap();
        j.prune(std::time::Duration::from_secs(3600));
        assert!(j.lock("old").unwrap().recorded().is_some());
        j.prune(std::time::Duration::ZERO);
        assert!(j.lock("old").unwrap().recorded().is_none());
    }

    #[test]
    fn the_journal_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        j.lock("wf1-s0")
            .unwrap()
            .record(&serde_json::json!(1))
            .unwrap();
        let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path().join("requests")), 0o700);
        assert_eq!(mode(dir.path().join("requests/wf1-s0.lock")), 0o600);
        assert_eq!(mode(dir.path().join("requests/wf1-s0.json")), 0o600);
    }

    #[test]
    fn rejects_path_like_ids() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        for bad in ["../x", "a/b", "", ".hidden", "a b"] {
            assert!(j.lock(bad).is_err(), "{bad:?} accepted");
        }
    }
}
