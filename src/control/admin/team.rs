//! The team key of a shared catalog: copied between control machines as a file, so that
//! every operator's dbctl can open the secrets the catalog keeps sealed.

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use anyhow::{Context, Result};
use std::path::Path;

/// Writes this home's team key to `to` (0600, never over a file that is there).
///
/// # Errors
/// This home holds no key, or `to` exists or cannot be written.
pub fn export_key(ctx: &Ctx, to: &Path) -> Result<()> {
    if !ctx.secrets.is_shared() {
        return Err(invalid(
            "this home's catalog is its own SQLite file, which needs no team key",
            "set DBCTL_CATALOG (or config.toml's `catalog`) to the shared catalog first",
        ));
    }
    ctx.secrets.team_key()?;
    let text = std::fs::read_to_string(ctx.secrets.file(crate::secrets::TEAM_KEY))?;
    write_out(to, &text)
}

/// Writes a secret out for a person to keep: 0600, never over a file that is there.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] when `to` exists or cannot be written.
pub fn write_out(to: &Path, text: &str) -> Result<()> {
    crate::fsutil::create_private(to, text.as_bytes()).map_err(|e| {
        invalid(
            format!("cannot write {}: {e}", to.display()),
            "give a path that does not exist yet",
        )
    })
}

/// Makes the key in `from` this home's team key, once it is checked against the catalog.
///
/// # Errors
/// The file is unreadable, not a key, or not this catalog's.
pub fn import_key(ctx: &Ctx, from: &Path) -> Result<()> {
    let text = std::fs::read_to_string(from)
        .with_context(|| format!("reading {}", from.display()))
        .map_err(|e| {
            invalid(
                format!("{e:#}"),
                "give the file `dbctl catalog key export` wrote",
            )
        })?;
    ctx.secrets.import_team_key(&text)
}
