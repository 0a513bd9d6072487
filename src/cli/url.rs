//! `dbctl url`: a connection URL with credentials, for applications' settings.

use super::Env;

use anyhow::Result;
use clap::Args;

/// Print a connection URL with the admin credentials (for an application's settings; to open
/// a session use `dbctl connect`, which keeps the password off command lines).
#[derive(Debug, Args)]
pub struct UrlArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
}

pub fn run(env: &Env, a: &UrlArgs) -> Result<()> {
    let ctx = env.open()?;
    let url = crate::control::instances::connect::url(&ctx, &a.name)?;
    if env.printer.is_json() {
        env.printer.json(&serde_json::json!({ "url": url }));
    } else {
        env.printer.line(&url);
    }
    Ok(())
}
