//! `dbctl catalog`: the catalog itself (a shared one's team key).

use super::Env;
use crate::control::team;
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

/// The catalog: the team key that seals a shared (PostgreSQL) catalog's secrets.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
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

pub fn run(env: &Env, c: &CatalogCommand) -> Result<()> {
    let ctx = env.open()?;
    let p = &env.printer;
    match c {
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
