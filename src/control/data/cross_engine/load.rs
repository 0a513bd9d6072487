//! Carrying MariaDB's databases into PostgreSQL with pgloader: a command file in a private
//! directory (never a password on a command line), pgloader's refusals read from its output,
//! and what it could not convert named.

use super::verify::verify;
use super::{databases_sql, CrossReport, SYSTEM_DATABASES};
use crate::control::base::home::Ctx;
use crate::control::data::repartition::ident;
use crate::control::instances::connect::Connection;
use crate::workflow::progress::Progress;
use anyhow::{Context, Result};

/// A name pgloader's command file and URLs can carry as it is.
pub(super) fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'-')
}

/// A directory only this user can enter, removed when dropped (its files are not followed
/// through links: `remove_dir_all` never follows them).
struct PrivateDir(std::path::PathBuf);

fn url_host(h: &str) -> String {
    if h.contains(':') {
        format!("[{h}]")
    } else {
        h.to_string()
    }
}

/// Percent-encodes all but letters and digits, for a URL's user or password.
pub(super) fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// pgloader's command for one database: the source clone's into the new instance's.
/// PostgreSQL's session runs in UTC, so DATETIME values are read as UTC; MariaDB's keeps the
/// server's zone, as the verification's does.
fn command_file(my: &Connection, pg: &Connection, db: &str) -> String {
    format!(
        "LOAD DATABASE\n  FROM mysql://{}:{}@{}:{}/{db}\n  INTO postgresql://{}:{}@{}:{}/{db}\n WITH create tables, create indexes, reset sequences, foreign keys, downcase identifiers, workers = 2, concurrency = 1, prefetch rows = 25000\n SET PostgreSQL PARAMETERS timezone to 'UTC'\n;\n",
        escape(&my.user),
        escape(&my.password),
        url_host(&my.host),
        my.port,
        escape(&pg.user),
        escape(&pg.password),
        url_host(&pg.host),
        pg.port,
    )
}

/// Carries every database of the scratch clone into the new instance and checks it.
pub(super) fn carry(
    ctx: &Ctx,
    scratch: &str,
    name: &str,
    progress: &dyn Progress,
) -> Result<CrossReport> {
    let my = crate::control::instances::connect::connection(ctx, scratch)?;
    let pg = crate::control::instances::connect::connection(ctx, name)?;
    let dbs: Vec<String> = my
        .client_rows(&databases_sql())?
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect();
    if let Some(odd) = dbs.iter().find(|d| !plain_name(d)) {
        anyhow::bail!(
            "the database `{odd}` has a name pgloader cannot be given (letters, digits, _, $ and - only)"
        );
    }
    let dir = PrivateDir::new()?;
    let loading = std::time::Instant::now();
    let mut not_carried = Vec::new();
    let mut admin = pg.pg_client(None)?;
    for db in &dbs {
        progress.message(&format!("pgloader: {db}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {}", ident(db)))
            .with_context(|| format!("creating the database {db}"))?;
        let file = dir.0.join(format!("{db}.load"));
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&file)?;
            f.write_all(command_file(&my, &pg, db).as_bytes())?;
        }
        // Debian's pgloader has a heap of 1 GiB, which a few wide tables exhaust ("Heap
        // exhausted, game over"): a larger one is asked for (address space, not memory),
        // and fewer rows are read ahead.
        let out = std::process::Command::new("pgloader")
            .args(["--dynamic-space-size", "4096"])
            .arg("--root-dir")
            .arg(&dir.0)
            .arg("--logfile")
            .arg(dir.0.join(format!("{db}.log")))
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .output()
            .context("running pgloader")?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let refused = refusals(&text);
        if !out.status.success() {
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            anyhow::bail!(
                "pgloader failed on the database {db} ({}): {}",
                out.status,
                if refused.is_empty() {
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                } else {
                    refused.join(" | ")
                }
            );
        }
        not_carried.extend(refused.into_iter().map(|r| format!("{db}: pgloader: {r}")));
    }
    drop(admin);
    let load_secs = loading.elapsed().as_secs_f64();
    let verifying = std::time::Instant::now();
    progress.message("verifying every table");
    let mut tables = Vec::new();
    let mut notes = Vec::new();
    let mut databases = Vec::new();
    for db in &dbs {
        let (t, n, schema) = verify(&my, &pg, db)?;
        databases.push(format!(
            "{db} → database {db}, schema {schema} (on its search_path)"
        ));
        tables.extend(t);
        notes.extend(n);
    }

    not_carried.extend(unconverted(&my)?);
    for t in &tables {
        for c in &t.uncompared {
            notes.push(format!(
                "{}.{c}: no exact common form, compared by the row count only",
                t.table
            ));
        }
    }
    Ok(CrossReport {
        source: String::new(),
        name: String::new(),
        engine: String::new(),
        from: String::new(),
        databases,
        verified: tables.iter().all(|t| t.ok),
        tables,
        not_carried,
        notes,
        left_behind: Vec::new(),
        ready_secs: 0.0,
        load_secs,
        verify_secs: verifying.elapsed().as_secs_f64(),
        secs: 0.0,
    })
}

/// pgloader's ERROR and WARNING lines, without their timestamps.
pub(super) fn refusals(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let at = l.find(" ERROR ").or_else(|| l.find(" WARNING "))?;
            let line = l[at + 1..].trim();
            Some(line.chars().take(300).collect())
        })
        .collect()
}

/// Triggers, routines, views and events: what pgloader leaves behind.
fn unconverted(my: &Connection) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT CONCAT('trigger ', trigger_schema, '.', trigger_name) FROM information_schema.triggers WHERE trigger_schema NOT IN ({SYSTEM_DATABASES});
         SELECT CONCAT(LOWER(routine_type), ' ', routine_schema, '.', routine_name) FROM information_schema.routines WHERE routine_schema NOT IN ({SYSTEM_DATABASES});
         SELECT CONCAT('view ', table_schema, '.', table_name) FROM information_schema.views WHERE table_schema NOT IN ({SYSTEM_DATABASES});
         SELECT CONCAT('event ', event_schema, '.', event_name) FROM information_schema.events WHERE event_schema NOT IN ({SYSTEM_DATABASES});"
    );
    Ok(my
        .client_rows(&sql)?
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .map(|w| format!("{w} (not carried by pgloader: recreate it by hand)"))
        .collect())
}

impl PrivateDir {
    fn new() -> Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let p = std::env::temp_dir().join(format!("dbctl-pgloader-{:016x}", rand::random::<u64>()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&p)
            .with_context(|| format!("making {}", p.display()))?;
        Ok(Self(p))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
