//! `dbctl label`: change the labels of an instance, a host or a snapshot after creation.

use super::Env;
use crate::control::base::labels;
use crate::control::base::labels::On;
use anyhow::Result;
use clap::Args;

/// Set or take off labels (kubectl's form: KEY=VALUE sets, KEY- takes off) on an instance, or
/// with --host on a host, with --snapshot on a snapshot. `list --label`, `host list --label`
/// and `snapshot list --label` see them at once; each change is an event.
#[derive(Debug, Args)]
pub struct LabelArgs {
    /// The instance (or, with --host, the host; with --snapshot, the snapshot's id).
    #[arg(add = crate::cli::complete::label_targets())]
    pub name: String,
    /// KEY=VALUE to set a label, KEY- to take one off.
    #[arg(required = true, value_name = "KEY=VALUE|KEY-")]
    pub changes: Vec<String>,
    /// NAME is a host.
    #[arg(long, conflicts_with = "snapshot")]
    pub host: bool,
    /// NAME is a snapshot's id.
    #[arg(long)]
    pub snapshot: bool,
}

pub fn run(env: &Env, a: &LabelArgs) -> Result<()> {
    let mut ctx = env.open()?;
    let on = match (a.host, a.snapshot) {
        (true, _) => On::Host,
        (_, true) => On::Snapshot,
        _ => On::Instance,
    };
    let now = labels::change(&mut ctx, on, &a.name, &a.changes)?;
    if env.printer.is_json() {
        env.printer.json(&now);
    } else {
        let text: Vec<String> = now.iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.printer.line(&if text.is_empty() {
            "-".to_string()
        } else {
            text.join(",")
        });
    }
    Ok(())
}
