//! `dbctl check`: an instance's data checked now.

use super::Env;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Check an instance's data: the engine's own integrity checks over every database
/// (PostgreSQL: pg_amcheck with --heapallindexed, installing the amcheck extension where it is
/// missing; MariaDB: CHECK TABLE ... EXTENDED through mariadb-check), then each query in
/// --sql FILE, which must return true or at least one row. Exits 1 when anything fails.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The instance (it must be running).
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// A file of queries separated by `;`; each must return true or at least one row.
    #[arg(long = "sql", value_name = "FILE")]
    pub sql: Option<PathBuf>,
    /// The database the queries run in [default: postgres, or none for MariaDB].
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,
}

pub fn run(env: &Env, a: &CheckArgs) -> Result<()> {
    let ctx = env.open()?;
    let queries = match &a.sql {
        Some(f) => crate::control::data::checks::queries_in(f)?,
        None => Vec::new(),
    };
    let r = crate::control::data::checks::run(&ctx, &a.name, a.database.as_deref(), queries)?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&r);
    } else {
        let mut rows = vec![vec![
            r.tool.clone(),
            if r.engine_ok { "ok" } else { "FAILED" }.into(),
            r.engine_detail.clone(),
        ]];
        rows.extend(r.queries.iter().map(|q| {
            vec![
                q.sql.clone(),
                if q.ok { "ok" } else { "FAILED" }.into(),
                q.detail.clone().unwrap_or_default(),
            ]
        }));
        p.table(&["check", "result", "detail"], rows);
    }
    if r.ok() {
        Ok(())
    } else {
        let failed = usize::from(!r.engine_ok) + r.queries.iter().filter(|q| !q.ok).count();
        Err(anyhow::anyhow!("{failed} check(s) of {} failed", a.name))
    }
}
