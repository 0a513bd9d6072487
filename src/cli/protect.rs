//! `dbctl protect`: keep an instance past its expiry.

use super::Env;
use anyhow::Result;
use clap::Args;

/// Keep an instance that would delete itself (`clone --expires-in`, `--delete-when-idle`):
/// for good, until a time, or no longer (--off). Its expiry stays recorded and applies again
/// once the protection ends.
#[derive(Debug, Args)]
pub struct ProtectArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// Until this time: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC), or a duration from now (8h, 2d)
    /// [default: for good].
    #[arg(long, value_name = "TIME", conflicts_with = "off")]
    pub until: Option<String>,
    /// Take the protection away.
    #[arg(long)]
    pub off: bool,
}

pub fn run(env: &Env, a: &ProtectArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let l = crate::control::instances::lifetimes::protect(
        &mut ctx,
        &a.name,
        a.until.as_deref(),
        a.off,
    )?;
    let p = &env.printer;
    if p.is_json() {
        p.json(&l);
        return Ok(());
    }
    let summary =
        crate::control::instances::lifetimes::summary(&l, time::OffsetDateTime::now_utc());
    p.note(&format!(
        "{}: {}",
        a.name,
        if summary.is_empty() {
            "lives until deleted".to_string()
        } else {
            summary
        }
    ));
    Ok(())
}
