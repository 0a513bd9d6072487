//! `dbctl catalog`: the catalog itself (a shared one's team key).

use super::Env;
use crate::control::admin::team;
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

/// The catalog: moving it to PostgreSQL (or back), and the team key that seals a shared
/// catalog's secrets.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Copy this home's whole catalog, secrets included, into another one that is empty:
    /// postgres://USER@HOST:PORT/DB (the password from PGPASSWORD, never the command line)
    /// or an SQLite file's path. This home goes on using its catalog until DBCTL_CATALOG or
    /// config.toml's `catalog` names the new one.
    Migrate {
        /// The catalog to copy into.
        #[arg(long, value_name = "URL|PATH")]
        to: String,
    },
    /// The team key, to copy to another control machine.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Write this machine's team key to FILE (0600; never over an existing file).
    Export {
        /// Where to write it.
        file: PathBuf,
    },
    /// Take the team key in FILE (from `export` on another machine), checked against the
    /// catalog; then `url` and `connect` work here for every instance.
    Import {
        /// The exported key.
        file: PathBuf,
    },
}

/// The catalog `--to` names; a PostgreSQL URL takes its password from PGPASSWORD.
fn target(to: &str) -> Result<crate::catalog::Location> {
    let loc = crate::catalog::Location::parse_checked(to)?;
    let crate::catalog::Location::Postgres(u) = &loc else {
        return Ok(loc);
    };
    let mut parsed = ::url::Url::parse(u).map_err(|e| {
        crate::control::base::error::invalid(
            format!("--to `{u}` is not a URL: {e}"),
            "give postgres://USER@HOST:PORT/DB",
        )
    })?;
    if parsed.password().is_some() {
        return Err(crate::control::base::error::invalid(
            "--to carries a password, which every user of this machine can read on its command line",
            "leave it out and set PGPASSWORD",
        ));
    }
    if let Ok(pw) = std::env::var("PGPASSWORD") {
        let _ = parsed.set_password(Some(&pw));
    }
    Ok(crate::catalog::Location::Postgres(parsed.to_string()))
}

pub fn run(env: &Env, c: &CatalogCommand) -> Result<()> {
    let ctx = env.open()?;
    let p = &env.printer;
    match c {
        CatalogCommand::Migrate { to } => {
            let target = target(to)?;
            let copied = crate::control::admin::catalog_copy::migrate(&ctx, &target)?;
            if p.is_json() {
                p.json(&copied);
                return Ok(());
            }
            p.note(&format!(
                "copied {} rows and {} secrets into {}; point this home at it with DBCTL_CATALOG or config.toml's `catalog`",
                copied.rows, copied.secrets, copied.to
            ));
            return Ok(());
        }
        CatalogCommand::Key(KeyCommand::Export { file }) => {
            team::export_key(&ctx, file)?;
            p.note(&format!(
                "team key written to {}; copy it to the other machine and run `dbctl catalog key import FILE` there, then delete it",
                file.display()
            ));
        }
        CatalogCommand::Key(KeyCommand::Import { file }) => {
            team::import_key(&ctx, file)?;
            p.note("team key imported: this machine opens the shared catalog's secrets");
        }
    }
    if p.is_json() {
        p.json(&serde_json::json!({"ok": true}));
    }
    Ok(())
}
