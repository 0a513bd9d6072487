//! `dbctl catalog migrate --to`: the whole catalog copied into another one (SQLite to a
//! team's PostgreSQL, or back), refusing a target that holds anything, with its secrets
//! sealed into the shared catalog (or unsealed back into the home's files).

use crate::catalog::db::{Conn, Dialect, Value};
use crate::catalog::Location;
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use anyhow::{Context, Result};
use serde::Serialize;

/// The tables, parents before children (each row's references are copied before it).
const TABLES: &[&str] = &[
    "hosts",
    "instances",
    "workflows",
    "steps",
    "events",
    "snapshots",
    "wal_ranges",
    "endpoints",
    "repositories",
    "backups",
    "repository_logs",
    "repository_marks",
    "backup_policies",
    "schedules",
    "instance_settings",
    "instance_health",
    "labels",
    "instance_lifetimes",
    "drills",
    "instance_exposure",
];

/// Tables whose `id` the database hands out (its sequence moves past the copied ids).
const IDENTITY: &[&str] = &[
    "hosts",
    "instances",
    "workflows",
    "events",
    "snapshots",
    "repositories",
    "backups",
    "repository_logs",
    "schedules",
    "drills",
];

/// What was copied.
#[derive(Debug, Serialize)]
pub struct Copied {
    pub to: String,
    pub rows: usize,
    pub secrets: usize,
}

fn columns(conn: &Conn, table: &str) -> Result<Vec<String>> {
    match conn.dialect() {
        Dialect::Sqlite => conn.query_all(
            "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
            [table],
            |r| r.get(0),
        ),
        Dialect::Postgres => conn.query_all(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position",
            [table],
            |r| r.get(0),
        ),
    }
}

/// Copies this home's catalog into the one at `to`, which must hold nothing yet.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for a target with rows in it or the same catalog; a database
/// that refuses.
pub fn migrate(ctx: &Ctx, to: &Location) -> Result<Copied> {
    let here = ctx.home.catalog_location(&ctx.config);
    if here.describe() == to.describe() {
        return Err(invalid(
            "that is the catalog this home uses already",
            "give another catalog with --to",
        ));
    }
    let target = to.create()?;
    let dst = target.conn();
    for t in TABLES.iter().chain(&["secrets"]) {
        let n: i64 = dst.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))?;
        if n > 0 {
            return Err(invalid(
                format!(
                    "the catalog at {} is not empty ({t} has {n} rows)",
                    to.describe()
                ),
                "give an empty database: dbctl never merges two catalogs",
            ));
        }
    }
    let src = ctx.catalog.conn();
    dst.begin()?;
    let copied = (|| -> Result<usize> {
        let mut rows = 0;
        for t in TABLES {
            let cols = columns(src, t)?.join(", ");
            let values: Vec<Vec<Value>> =
                src.query_all(&format!("SELECT {cols} FROM {t}"), [], |r| {
                    (0..cols.split(',').count())
                        .map(|i| r.get::<ValueOut>(i).map(|v| v.0))
                        .collect()
                })?;
            let marks: Vec<String> = (1..=cols.split(',').count())
                .map(|i| format!("?{i}"))
                .collect();
            let insert = format!("INSERT INTO {t} ({cols}) VALUES ({})", marks.join(", "));
            for row in &values {
                let params: Vec<&dyn crate::catalog::db::ToValue> = row
                    .iter()
                    .map(|v| v as &dyn crate::catalog::db::ToValue)
                    .collect();
                dst.execute(&insert, params.as_slice())
                    .with_context(|| format!("copying a row of {t}"))?;
                rows += 1;
            }
        }
        if dst.dialect() == Dialect::Postgres {
            for t in IDENTITY {
                dst.execute_batch(&format!(
                    "SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT max(id) FROM {t}), 0) + 1, false)"
                ))?;
            }
        }
        Ok(rows)
    })();
    let rows = match copied {
        Ok(n) => {
            dst.commit()?;
            n
        }
        Err(e) => {
            let _ = dst.rollback();
            return Err(e);
        }
    };
    let secrets = copy_secrets(ctx, to)?;
    Ok(Copied {
        to: to.describe(),
        rows,
        secrets,
    })
}

/// Every secret of this home's catalog, kept the target's way.
fn copy_secrets(ctx: &Ctx, to: &Location) -> Result<usize> {
    let target = match to {
        Location::File(_) => crate::secrets::Secrets::new(&ctx.home.dir),
        Location::Postgres(url) => {
            crate::secrets::Secrets::shared(&ctx.home.dir, Conn::postgres(url)?)
        }
    };
    target.ensure_team_key()?;
    let mut n = 0;
    for inst in crate::catalog::instances::list_all(ctx.catalog.conn())? {
        if let Ok(p) = ctx.secrets.get(&inst.uid) {
            target.put(&inst.uid, &p)?;
            n += 1;
        }
    }
    for r in crate::catalog::repositories::list(ctx.catalog.conn())? {
        for f in [
            crate::repo::key_file(&r.name),
            crate::repo::s3_file(&r.name),
            crate::repo::password_file(&r.name),
        ] {
            if ctx.secrets.has_file(&f)? && !target.has_file(&f)? {
                target.create_file(&f, &ctx.secrets.read_file(&f)?)?;
                n += 1;
            }
        }
    }
    Ok(n)
}

/// A column read as it is, whatever its kind.
struct ValueOut(Value);

impl crate::catalog::db::FromValue for ValueOut {
    fn from_value(v: &Value) -> Result<Self> {
        Ok(ValueOut(v.clone()))
    }
}
