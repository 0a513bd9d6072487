//! The catalog: everything the control plane knows, in one SQLite file in the home or in a
//! PostgreSQL database a team shares ([`Location`]; [`db`] is the only code that tells them
//! apart).
//!
//! SQLite: write-ahead journaling, a busy timeout, foreign keys, file mode 0600, and numbered
//! migrations applied in one transaction and tracked by `PRAGMA user_version`. PostgreSQL: the
//! schema made whole at [`POSTGRES_BASE`], the same numbered migrations after it, tracked in
//! `dbctl_schema` under an advisory lock. All SQL lives below this module.

pub mod backup_policies;
pub mod backups;
pub mod db;
pub mod drills;
pub mod endpoints;
pub mod events;
pub mod exposure;
pub mod health;
pub mod hosts;
pub mod instance_settings;
pub mod instances;
pub mod labels;
pub mod leases;
pub mod lifetimes;
pub mod log_ranges;
pub mod repositories;
pub mod repository_logs;
pub mod schedules;
pub mod snapshots;
pub mod workflows;

use anyhow::{Context, Result};
use db::Conn;
use rusqlite::Connection;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_init.sql"),
    include_str!("migrations/002_snapshots.sql"),
    include_str!("migrations/003_pitr.sql"),
    include_str!("migrations/004_endpoints.sql"),
    include_str!("migrations/005_archive_timeout.sql"),
    include_str!("migrations/006_incarnations.sql"),
    include_str!("migrations/007_lost.sql"),
    include_str!("migrations/008_new_bytes.sql"),
    include_str!("migrations/009_log_branch.sql"),
    include_str!("migrations/010_neutral_steps.sql"),
    include_str!("migrations/011_repositories.sql"),
    include_str!("migrations/012_backups.sql"),
    include_str!("migrations/013_repository_logs.sql"),
    include_str!("migrations/014_schedules.sql"),
    include_str!("migrations/015_leases.sql"),
    include_str!("migrations/016_settings_and_health.sql"),
    include_str!("migrations/017_shared_secrets.sql"),
    include_str!("migrations/018_labels.sql"),
    include_str!("migrations/019_host_contact.sql"),
    include_str!("migrations/020_workflow_nonce.sql"),
    include_str!("migrations/021_lifetimes.sql"),
    include_str!("migrations/022_drills.sql"),
    include_str!("migrations/023_exposure.sql"),
    include_str!("migrations/024_snapshot_kinds.sql"),
];

/// The schema version a new PostgreSQL catalog is made at, in one piece.
const POSTGRES_BASE: usize = 16;
const POSTGRES_SCHEMA: &str = include_str!("migrations/postgres/016_schema.sql");
/// Migrations after [`POSTGRES_BASE`], numbered as SQLite's (the PostgreSQL spelling).
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/017_shared_secrets.sql"),
    include_str!("migrations/postgres/018_labels.sql"),
    include_str!("migrations/postgres/019_host_contact.sql"),
    include_str!("migrations/postgres/020_workflow_nonce.sql"),
    include_str!("migrations/postgres/021_lifetimes.sql"),
    include_str!("migrations/postgres/022_drills.sql"),
    include_str!("migrations/postgres/023_exposure.sql"),
    include_str!("migrations/postgres/024_snapshot_kinds.sql"),
];

pub struct Catalog {
    pub(crate) conn: Conn,
}

/// Where a catalog is: the SQLite file in a home, or a PostgreSQL database a team shares.
#[derive(Clone)]
pub enum Location {
    File(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Location {
    /// A catalog URL (`postgres://` or `postgresql://`), or an SQLite file's path.
    pub fn parse(s: &str) -> Self {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Location::Postgres(s.to_string())
        } else {
            Location::File(PathBuf::from(s.strip_prefix("sqlite://").unwrap_or(s)))
        }
    }

    /// As [`Location::parse`], refusing a URL of another scheme (`mysql://...` would
    /// otherwise be taken as a file name, and a catalog made there).
    ///
    /// # Errors
    /// [`crate::control::base::error::Invalid`] for a scheme other than postgres, postgresql or
    /// sqlite.
    pub fn parse_checked(s: &str) -> Result<Self> {
        if let Some((scheme, _)) = s.split_once("://") {
            let known = ["postgres", "postgresql", "sqlite"];
            if !known.contains(&scheme) {
                return Err(crate::control::base::error::invalid(
                    format!("`{scheme}://` is not a catalog this version can use"),
                    "give a postgres:// (or postgresql://) URL, or a file path for SQLite",
                ));
            }
        }
        Ok(Self::parse(s))
    }

    /// For people: the path, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Postgres(u) => match url::Url::parse(u) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("****"));
                    }
                    parsed.to_string()
                }
                Err(_) => "a PostgreSQL catalog (its URL does not parse)".into(),
            },
        }
    }

    /// Opens (and migrates) the existing catalog.
    ///
    /// # Errors
    /// As [`Catalog::open`] or [`Catalog::open_postgres`].
    pub fn open(&self) -> Result<Catalog> {
        match self {
            Location::File(p) => Catalog::open(p),
            Location::Postgres(u) => Catalog::open_postgres(u),
        }
    }

    /// Makes the catalog if it is not there (`dbctl init`), else opens it.
    ///
    /// # Errors
    /// As [`Catalog::create`] or [`Catalog::open_postgres`].
    pub fn create(&self) -> Result<Catalog> {
        match self {
            Location::File(p) => Catalog::create(p),
            Location::Postgres(u) => Catalog::open_postgres(u),
        }
    }
}

/// Refuses a catalog file that exists but is empty, with a line saying what to do (SQLite
/// would take an empty file for a new database and migrate into it). A file that is not a
/// database at all is refused by SQLite itself on the first read ([`Catalog::open_file`]).
///
/// The file is only looked at, never opened here: closing any other descriptor of a file
/// this process holds SQLite locks on would drop those locks (POSIX record locks belong to
/// the process), and the daemon's threads each hold a connection.
fn check_readable(path: &Path) -> Result<()> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("the catalog {} cannot be opened", path.display()))?
        .len();
    if len == 0 {
        anyhow::bail!(
            "the catalog {} is empty (0 bytes); restore it from a backup of the dbctl home (dbctl never replaces a catalog with an empty one)",
            path.display()
        );
    }
    Ok(())
}

/// Now, as the RFC 3339 UTC text every timestamp in the catalog uses (milliseconds kept, so
/// step durations can be measured).
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let t = t
        .replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Milliseconds from one catalog timestamp to another (None if either does not parse).
pub fn millis_between(from: &str, to: &str) -> Option<i64> {
    let p = |s: &str| crate::times::parse(s);
    Some((p(to)? - p(from)?).whole_milliseconds() as i64)
}

/// Seconds since a catalog timestamp (None if it does not parse).
pub fn age_secs(ts: &str) -> Option<i64> {
    let t = crate::times::parse(ts)?;
    Some((time::OffsetDateTime::now_utc() - t).whole_seconds())
}

impl Catalog {
    /// Creates a new catalog at `path` (mode 0600) and migrates it. Only `dbctl init` makes one.
    ///
    /// # Errors
    /// The file exists already (it is then opened as with [`Catalog::open`]) but is unreadable,
    /// or it cannot be created or migrated.
    pub fn create(path: &Path) -> Result<Self> {
        if !path.exists() {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("creating {}", path.display()))?;
            return Self::open_file(path);
        }
        Self::open(path)
    }

    /// Opens and migrates the existing catalog at `path`. A file that is there but is not a
    /// catalog (empty, truncated, something else) is an error naming it: it is never
    /// re-created empty, which would forget every instance it knew.
    ///
    /// # Errors
    /// The file is missing, unreadable or not a catalog, or a migration fails.
    pub fn open(path: &Path) -> Result<Self> {
        check_readable(path)?;
        Self::open_file(path)
    }

    fn open_file(path: &Path) -> Result<Self> {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        if let Err(e) = conn.pragma_update(None, "journal_mode", "WAL") {
            if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
                anyhow::bail!(
                    "the catalog {} is not an SQLite database; restore it from a backup of the dbctl home (dbctl never replaces a catalog with an empty one)",
                    path.display()
                );
            }
            return Err(e)
                .with_context(|| format!("{} is not a readable dbctl catalog", path.display()));
        }
        Self::setup(conn)
    }

    /// A private in-memory catalog for unit tests.
    ///
    /// # Errors
    /// A migration fails.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let cat = Self {
            conn: Conn::sqlite(conn),
        };
        cat.migrate_sqlite()?;
        Ok(cat)
    }

    /// Opens the PostgreSQL catalog at `url` and brings its schema up to date.
    ///
    /// # Errors
    /// The server does not answer or refuses, or a migration fails.
    pub fn open_postgres(url: &str) -> Result<Self> {
        let cat = Self {
            conn: Conn::postgres(url)?,
        };
        cat.migrate_postgres()?;
        Ok(cat)
    }

    fn migrate_sqlite(&self) -> Result<()> {
        self.conn.begin()?;
        let migrated = (|| {
            let current: usize = self
                .conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if current > MIGRATIONS.len() {
                anyhow::bail!(
                    "the catalog is at schema version {current}, newer than this dbctl knows ({}); use a newer dbctl",
                    MIGRATIONS.len()
                );
            }
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
                self.conn
                    .execute_batch(sql)
                    .with_context(|| format!("applying migration {}", i + 1))?;
            }
            self.conn
                .execute_batch(&format!("PRAGMA user_version = {}", MIGRATIONS.len()))
        })();
        self.finish(migrated)
    }

    /// PostgreSQL catalogs start at the schema of migration [`POSTGRES_BASE`] as a whole,
    /// then take the same numbered migrations as SQLite's from there. Two processes
    /// upgrading at once queue on an advisory lock; the second finds nothing to do.
    fn migrate_postgres(&self) -> Result<()> {
        self.conn.begin()?;
        let migrated = (|| {
            self.conn
                .execute_batch("SELECT pg_advisory_xact_lock(7326482190); CREATE TABLE IF NOT EXISTS dbctl_schema (version BIGINT NOT NULL)")?;
            let current: Option<usize> =
                self.conn
                    .query_opt("SELECT version FROM dbctl_schema", [], |r| r.get(0))?;
            let current = match current {
                Some(v) => v,
                None => {
                    self.conn
                        .execute_batch(POSTGRES_SCHEMA)
                        .context("making the PostgreSQL catalog's schema")?;
                    self.conn.execute(
                        "INSERT INTO dbctl_schema (version) VALUES (?1)",
                        [POSTGRES_BASE],
                    )?;
                    POSTGRES_BASE
                }
            };
            if current > MIGRATIONS.len() {
                anyhow::bail!(
                    "the catalog is at schema version {current}, newer than this dbctl knows ({}); use a newer dbctl",
                    MIGRATIONS.len()
                );
            }
            for (i, sql) in POSTGRES_MIGRATIONS.iter().enumerate() {
                let n = POSTGRES_BASE + 1 + i;
                if n > current {
                    self.conn
                        .execute_batch(sql)
                        .with_context(|| format!("applying migration {n}"))?;
                }
            }
            self.conn
                .execute("UPDATE dbctl_schema SET version = ?1", [MIGRATIONS.len()])?;
            Ok(())
        })();
        self.finish(migrated)
    }

    /// Commits a transaction `result` says went well, else rolls it back.
    fn finish<T>(&self, result: Result<T>) -> Result<T> {
        match result {
            Ok(v) => {
                self.conn.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.rollback();
                Err(e)
            }
        }
    }

    /// Runs `f` in one transaction (SQLite: IMMEDIATE): all of it lands, or none.
    ///
    /// # Errors
    /// `f` fails or the commit fails.
    pub fn write<T>(&mut self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        self.conn.begin()?;
        let v = f(&self.conn);
        self.finish(v)
    }

    /// Runs `f` in a transaction that claims rows rather than the whole catalog (see
    /// [`Conn::begin_claim`]): many runners claim workflows at once on PostgreSQL, each
    /// passing over the rows the others are taking.
    ///
    /// # Errors
    /// `f` fails or the commit fails.
    pub fn claim<T>(&mut self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        self.conn.begin_claim()?;
        let v = f(&self.conn);
        self.finish(v)
    }

    pub fn conn(&self) -> &Conn {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.db");
        drop(Catalog::create(&p).unwrap());
        let c = Catalog::open(&p).unwrap();
        let v: usize = c
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len());
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn automatic_snapshots_are_a_kind_after_migration_and_older_rows_stay() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.db");
        // A catalog as the release before wrote it, with a snapshot a backup refers to.
        {
            let conn = Connection::open(&p).unwrap();
            conn.pragma_update(None, "foreign_keys", "ON").unwrap();
            for sql in &MIGRATIONS[..15] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 15).unwrap();
            conn.execute_batch(
                "INSERT INTO instances (id, name, uid, engine, class, cpus, memory_mb, max_connections, storage_gb, admin_user, status, created_at) VALUES (1, 'db', 'db-1', 'postgres', 'small', 1, 1024, 100, 1, 'a', 'available', 't');
                 INSERT INTO snapshots (id, uid, instance_id, instance_name, kind, status, engine, created_at) VALUES (1, 's1', 1, 'db', 'manual', 'available', 'postgres', 't');
                 INSERT INTO repositories (id, name, url, repo_id, created_at) VALUES (1, 'r', '/x', 'x', 't');
                 INSERT INTO backups (id, repository_id, snapshot_id, instance_id, status, created_at) VALUES (1, 1, 1, 1, 'available', 't');",
            )
            .unwrap();
        }
        let c = Catalog::open(&p).unwrap();
        let insert = |id: i64, kind: &str| {
            c.conn().execute(
                "INSERT INTO snapshots (id, uid, instance_id, instance_name, kind, status, engine, created_at) VALUES (?1, ?2, 1, 'db', ?3, 'available', 'postgres', 't')",
                crate::params![id, format!("s{id}"), kind],
            )
        };
        insert(2, "automatic").unwrap();
        assert!(insert(3, "bogus").is_err(), "the check still holds");
        let kept: i64 = c
            .conn()
            .query_row(
                "SELECT count(*) FROM backups WHERE snapshot_id = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept, 1);
        let fk: i64 = c
            .conn()
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(fk, 0);
    }

    #[test]
    fn steps_written_before_protocol_2_are_rewritten_to_its_words() {
        use crate::wire::{Op, Target};
        use crate::workflow::plan::{Action, StepSpec};
        let c = Catalog::open_in_memory().unwrap();
        let wf = workflows::insert(c.conn(), "clone", None, "interrupted").unwrap();
        // Specs as dbctl wrote them before protocol 2.
        let old: Vec<serde_json::Value> = serde_json::from_str(include_str!(
            "../../tests/fixtures/steps-before-protocol-2.json"
        ))
        .unwrap();
        for (i, spec) in old.iter().enumerate() {
            // Compact, as serde_json wrote them.
            workflows::insert_step(c.conn(), wf, i as u32, "s", &spec.to_string()).unwrap();
        }
        c.conn().execute_batch(MIGRATIONS[9]).unwrap();
        let specs: Vec<StepSpec> = workflows::steps(c.conn(), wf)
            .unwrap()
            .iter()
            .map(|s| serde_json::from_str(&s.spec).unwrap_or_else(|e| panic!("{e}: {}", s.spec)))
            .collect();
        let host_op = |s: &StepSpec| match &s.action {
            Action::Host { op, .. } => op.clone(),
            _ => panic!("not a host step"),
        };
        let Op::LogPrune(p) = host_op(&specs[0]) else {
            panic!("not a prune")
        };
        assert_eq!((p.engine.as_str(), p.keep.len()), ("postgres", 1));
        assert_eq!(
            (p.keep[0].position.as_str(), p.keep[0].branch),
            ("0/4000100", 2)
        );
        let Op::LogPrune(p) = host_op(&specs[1]) else {
            panic!("not a prune")
        };
        assert!(p.keep.is_empty() && p.keep_snapshots == ["s"] && !p.keep_all);
        let Action::Transfer { export, .. } = &specs[2].action else {
            panic!("not a transfer")
        };
        assert!(matches!(export, Op::LogExport(e) if e.from.as_ref().unwrap().branch == 1));
        assert!(matches!(&specs[2].undo, Some(Op::LogPrune(p)) if p.keep.is_empty()));
        let Op::Restore(r) = host_op(&specs[3]) else {
            panic!("not a restore")
        };
        let r = r.recovery.unwrap();
        assert_eq!(r.log_instance, "db-1");
        assert_eq!(r.target, Target::Position("0/3A".into()));
    }

    #[test]
    fn an_empty_or_foreign_file_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.db");
        std::fs::write(&p, b"").unwrap();
        let e = Catalog::open(&p).err().unwrap();
        assert!(format!("{e}").contains("is empty"), "{e}");
        assert!(Catalog::create(&p).is_err());
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 0);
        std::fs::write(&p, b"hello, this is not a database at all").unwrap();
        assert!(format!("{}", Catalog::open(&p).err().unwrap()).contains("not an SQLite"));
    }

    #[test]
    fn timestamps_round_trip() {
        let age = age_secs(&now()).unwrap();
        assert!((0..5).contains(&age));
    }
}
