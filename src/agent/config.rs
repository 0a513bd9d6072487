//! dbhost's own settings, read from `<root>/dbhost.toml` (all optional).

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "dbhost.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// OS user the database servers run as when dbhost runs as root.
    pub os_user: String,
    /// Address the servers listen on (`*` for all).
    pub listen_address: String,
    /// Ports dbhost picks from when a request names none, inclusive.
    pub port_range: [u16; 2],
    /// Where each engine's binaries are (`[bin_dirs]`, keyed by engine name); an engine not
    /// named here is looked for where its packages put it.
    pub bin_dirs: std::collections::BTreeMap<String, PathBuf>,
    /// The older spelling of `bin_dirs.postgres`, still read so existing hosts keep working.
    pub postgres_bin_dir: Option<PathBuf>,
    /// Storage backend: `auto` (btrfs when the root is on btrfs, else plain), `plain`, `btrfs`.
    pub storage: String,
    /// Longest a server may stay suspended for a snapshot (MariaDB's BACKUP STAGE locks)
    /// once dbhost stops talking to it: the server ends the session, and with it the locks.
    pub suspend_timeout_secs: u32,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            os_user: "postgres".into(),
            listen_address: "*".into(),
            port_range: [5433, 5999],
            bin_dirs: Default::default(),
            postgres_bin_dir: None,
            storage: "auto".into(),
            suspend_timeout_secs: 60,
        }
    }
}

impl HostConfig {
    /// # Errors
    /// The file exists but cannot be read or parsed, or its port range is empty.
    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join(FILE_NAME);
        let mut cfg: HostConfig = match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HostConfig::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        if let Some(d) = cfg.postgres_bin_dir.take() {
            cfg.bin_dirs.entry("postgres".into()).or_insert(d);
        }
        if cfg.port_range[0] == 0 || cfg.port_range[0] > cfg.port_range[1] {
            bail!(
                "{}: port_range {:?} is empty; give [low, high] with 0 < low <= high",
                path.display(),
                cfg.port_range
            );
        }
        Ok(cfg)
    }

    /// The address to bind when testing whether a port is free.
    pub fn bind_address(&self) -> &str {
        match self.listen_address.as_str() {
            "*" | "" => "0.0.0.0",
            a => a,
        }
    }
}
