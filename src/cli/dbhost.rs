//! dbhost's command line: `rpc` for dbctl, `version` and `facts` for people.

use crate::agent;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// dbhost: the host manager dbctl drives over SSH (or as a local subprocess).
///
/// Works as an SSH forced command, e.g. in authorized_keys:
/// command="/usr/local/bin/dbhost --root /srv/h1 rpc",restrict ssh-ed25519 AAAA...
#[derive(Debug, Parser)]
#[command(name = "dbhost", version)]
pub struct DbhostCli {
    /// Root directory for instances, journal and settings [default: /var/lib/dbhost as root]
    #[arg(long, global = true, env = crate::env::DBHOST_ROOT, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[command(subcommand)]
    pub command: DbhostCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbhostCommand {
    /// Serve one JSON request from stdin, answering in JSON lines (used by dbctl).
    Rpc,
    /// Print dbhost's version and protocol.
    Version,
    /// Print this host's facts (capacity, engines, storage) as JSON.
    Facts,
}

fn default_root() -> PathBuf {
    if nix::unistd::Uid::effective().is_root() {
        PathBuf::from("/var/lib/dbhost")
    } else {
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".local/share/dbhost"))
            .unwrap_or_else(|| PathBuf::from("dbhost"))
    }
}

pub fn main() -> i32 {
    let cli = match DbhostCli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let root = cli.root.unwrap_or_else(default_root);
    let mut out = std::io::stdout().lock();
    match cli.command {
        DbhostCommand::Rpc => {
            let mut input = std::io::stdin().lock();
            let mut err = std::io::stderr().lock();
            agent::rpc(&root, &mut input, &mut out, &mut err)
        }
        DbhostCommand::Version => {
            let _ = writeln!(
                out,
                "dbhost {} (protocol {})",
                crate::wire::VERSION,
                crate::wire::PROTOCOL
            );
            0
        }
        DbhostCommand::Facts => match agent::ops::Host::open(&root).and_then(|h| h.facts()) {
            Ok(f) => {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&f).unwrap_or_default()
                );
                0
            }
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "error: {e:#}");
                1
            }
        },
    }
}
