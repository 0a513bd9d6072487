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
    /// Store a finished log file in the instance's log archive (the engine's server calls it).
    #[command(hide = true, alias = "archive-wal")]
    LogArchive {
        /// The instance (its name on this host).
        #[arg(long)]
        instance: String,
        /// The file to store.
        path: PathBuf,
        /// Its name in the archive.
        name: String,
    },
    /// Ship a MariaDB instance's binary logs into its log archive until its server stops
    /// (dbhost starts it with the server, as the instance's OS user).
    #[command(hide = true)]
    BinlogShip {
        /// The instance (its name on this host).
        #[arg(long)]
        instance: String,
    },
}

/// Runs a log-archive command for an engine's server: exit 0 only when it fully succeeded.
fn log_command(
    root: &std::path::Path,
    instance: &str,
    f: impl FnOnce(&agent::layout::Layout) -> anyhow::Result<()>,
) -> i32 {
    let valid = !instance.is_empty()
        && instance
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    let result = if valid {
        f(&agent::layout::Layout::new(root))
    } else {
        Err(anyhow::anyhow!("invalid instance name {instance:?}"))
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "dbhost: {e:#}");
            1
        }
    }
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
        DbhostCommand::LogArchive {
            instance,
            path,
            name,
        } => log_command(&root, &instance, |layout| {
            let cfg = agent::HostConfig::load(&root)?;
            // The instance's engine says how to read its log's commit times.
            let meta = layout
                .meta(&instance)?
                .ok_or_else(|| anyhow::anyhow!("no instance {instance} on this host"))?;
            let engine = agent::engine::by_name(&meta.engine)
                .ok_or_else(|| anyhow::anyhow!("unknown engine {:?}", meta.engine))?;
            let format = engine.log_format(&cfg);
            agent::logs::archive(layout, &instance, &path, &name, &*format).map(|_| ())
        }),
        DbhostCommand::BinlogShip { instance } => log_command(&root, &instance, |_| {
            agent::engine::mariadb::ship_binlogs(&root, &instance)
        }),
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
