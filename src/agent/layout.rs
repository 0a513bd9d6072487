//! Where dbhost keeps things under its root directory.
//!
//! ```text
//! <root>/dbhost.toml               optional settings
//! <root>/requests/<id>.json|.lock  the request journal
//! <root>/run/                      the servers' unix sockets (short path, shared)
//! <root>/instances/<name>/         one per instance:
//!     port          the reserved port (written first, under ports.lock)
//!     data.partial  an initdb in progress; removed when a provision is re-run
//!     data/         the data directory, owned by the engine's OS user
//!     instance.json written last: the instance exists once this does
//!     server.log
//!     restore-<logs>/ logs copied for a restored copy's replay, until it is promoted
//! <root>/<logs>/<name>/            an instance's log archive (<logs>: see `LOGS`)
//! <root>/snapshots/<name>/         one per snapshot (<name>.partial while being made):
//!     data/         the captured data directory (a read-only subvolume on btrfs)
//!     manifest.json every file's size and SHA-256
//!     snapshot.json what it is: instance, engine, position, time, sizes
//! ```

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The name of the log archive's directory: the one the first engine gave it, kept so that
/// existing hosts keep their archives.
const LOGS: &str = "wal";

#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

/// What dbhost records about an instance once it is provisioned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceMeta {
    pub engine: String,
    pub engine_version: String,
    pub port: u16,
    pub admin_user: String,
    /// The instance's own OS user (None: the host's `os_user`, as before instances had one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_user: Option<String>,
    /// A restored copy's replay that its engine runs once the server has started (cleared
    /// when it has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<crate::wire::RecoverySpec>,
}

impl Layout {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn instances(&self) -> PathBuf {
        self.root.join("instances")
    }
    pub fn instance(&self, name: &str) -> PathBuf {
        self.instances().join(name)
    }
    pub fn data(&self, name: &str) -> PathBuf {
        self.instance(name).join("data")
    }
    /// An instance's previous data while an in-place restore replaces it.
    pub fn aside_data(&self, name: &str) -> PathBuf {
        self.instance(name).join("data.aside")
    }
    pub fn partial_data(&self, name: &str) -> PathBuf {
        self.instance(name).join("data.partial")
    }
    /// A snapshot stream a restore receives, before its data becomes the partial copy.
    pub fn incoming(&self, name: &str) -> PathBuf {
        self.instance(name).join("incoming.partial")
    }
    pub fn meta_path(&self, name: &str) -> PathBuf {
        self.instance(name).join("instance.json")
    }
    pub fn port_path(&self, name: &str) -> PathBuf {
        self.instance(name).join("port")
    }
    /// Every instance's log archive, one directory each.
    pub fn logs_root(&self) -> PathBuf {
        self.root.join(LOGS)
    }
    pub fn log(&self, name: &str) -> PathBuf {
        self.instance(name).join("server.log")
    }
    pub fn sockets(&self) -> PathBuf {
        self.root.join("run")
    }
    pub fn snapshots(&self) -> PathBuf {
        self.root.join("snapshots")
    }
    /// Where data a recovery or an in-place restore replaced is set aside.
    pub fn replaced(&self) -> PathBuf {
        self.root.join("replaced")
    }
    pub fn snapshot(&self, name: &str) -> PathBuf {
        self.snapshots().join(name)
    }
    pub fn snapshot_partial(&self, name: &str) -> PathBuf {
        self.snapshots().join(format!("{name}.partial"))
    }
    pub fn ports_lock(&self) -> PathBuf {
        self.root.join("ports.lock")
    }

    /// The instance's metadata, or None when it was never fully provisioned.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed.
    pub fn meta(&self, name: &str) -> Result<Option<InstanceMeta>> {
        let p = self.meta_path(name);
        match std::fs::read_to_string(&p) {
            Ok(t) => Ok(Some(
                serde_json::from_str(&t).with_context(|| format!("parsing {}", p.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }

    /// Ports reserved by every instance on this host, except `except`.
    pub fn reserved_ports(&self, except: &str) -> Vec<u16> {
        let Ok(entries) = std::fs::read_dir(self.instances()) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.file_name().to_str() != Some(except))
            .filter_map(|e| std::fs::read_to_string(e.path().join("port")).ok())
            .filter_map(|t| t.trim().parse().ok())
            .collect()
    }
}
