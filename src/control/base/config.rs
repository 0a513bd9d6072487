//! dbctl's config.toml: instance classes (built-in, overridable, extendable) and placement.

use crate::control::base::error::invalid;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `postgres://...`: the catalog a team shares (DBCTL_CATALOG and --catalog come first).
    pub catalog: Option<String>,
    pub classes: BTreeMap<String, Class>,
    pub placement: Placement,
    pub endpoints: Endpoints,
    pub events: Events,
    pub monitor: Monitor,
    pub snapshots: Snapshots,
    pub metrics: Metrics,
    pub drills: Drills,
    pub replaced: Replaced,
}

/// Data that recovery and in-place restores replaced: set aside on its host, never deleted
/// by anything automatic before this.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Replaced {
    /// Days the set-aside data is kept before the daemon removes it (`dbctl host prune`
    /// removes it sooner, by a person's hand).
    pub keep_days: u32,
}

impl Default for Replaced {
    fn default() -> Self {
        Self { keep_days: 7 }
    }
}

/// What is expected of restore drills.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Drills {
    /// `list` and `host list` warn of every instance whose newest passing drill is older than
    /// this many days (or that has none); 0: no warnings.
    pub warn_after_days: u32,
}

/// The daemon's Prometheus metrics.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Metrics {
    /// A loopback address and port to serve `/metrics` on (e.g. `127.0.0.1:9187`); unset:
    /// none are served.
    pub listen: Option<String>,
}

/// How the daemon watches instances.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Monitor {
    /// Seconds between two checks of every instance.
    pub interval_secs: u64,
    /// How long checks must keep failing before the monitor acts (Patroni's and RDS's
    /// 20-30 s): a server restarting or a slow answer is not an incident.
    pub failure_budget_secs: u64,
    /// Recoveries started for one incident before the monitor gives up and leaves it to
    /// people.
    pub max_recoveries: u32,
    /// A host with less free disk than this (GiB) puts its instances in `degraded`.
    pub disk_warning_gb: u64,
    /// How long a server whose process runs may go without answering before the monitor
    /// restarts it in place (never rebuilds it: busy or slow is not gone).
    pub restart_unanswered_after_secs: u64,
    /// How many hosts the monitor and `host list --refresh` talk to at once.
    pub concurrency: usize,
    /// How long one round over the fleet waits for a host's answers: one that has not
    /// answered by then counts as not answering (a failed check), so a silent host never
    /// delays the others' verdicts. It is not asked again until its last call ends.
    pub check_timeout_secs: u64,
    /// A program and its first arguments, run as an argument vector (never through a shell)
    /// on every state change the monitor sees, with the instance, its new state and the
    /// detail appended, and the same in DBCTL_INSTANCE, DBCTL_STATE, DBCTL_PREVIOUS_STATE,
    /// DBCTL_DETAIL.
    pub hook: Vec<String>,
}

impl Default for Monitor {
    fn default() -> Self {
        Self {
            interval_secs: 10,
            failure_budget_secs: 20,
            max_recoveries: 2,
            disk_warning_gb: 2,
            restart_unanswered_after_secs: 300,
            concurrency: 32,
            check_timeout_secs: 10,
            hook: Vec::new(),
        }
    }
}

/// What the automatic snapshots keep.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Snapshots {
    /// Every automatic snapshot of the last this many hours is kept.
    pub keep_hours: u32,
    /// Before that, the newest of each day for this many days.
    pub keep_days: u32,
}

impl Default for Snapshots {
    fn default() -> Self {
        Self {
            keep_hours: 24,
            keep_days: 7,
        }
    }
}

/// How long the history is kept.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Events {
    /// Events older than this many days are removed by `sweep`.
    pub retention_days: u32,
}

impl Default for Events {
    fn default() -> Self {
        Self { retention_days: 90 }
    }
}

/// What happens when an endpoint moves to another address.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Endpoints {
    /// A program and its first arguments, run as an argument vector (never through a shell)
    /// with the endpoint's name, old address and new address appended, and the same in
    /// DBCTL_ENDPOINT, DBCTL_OLD_ADDRESS, DBCTL_NEW_ADDRESS: e.g. to update DNS or a pooler.
    pub hook: Vec<String>,
}

/// A named instance size.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Class {
    pub cpus: f64,
    pub memory_mb: u64,
    pub max_connections: u32,
    /// Storage reserved when `--storage-gb` is not given.
    #[serde(default = "default_storage")]
    pub storage_gb: u64,
}

fn default_storage() -> u64 {
    10
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Placement {
    /// How many class CPUs a host may hold per real CPU.
    pub cpu_overcommit: f64,
    /// How much class memory a host may hold per MiB of RAM.
    pub memory_overcommit: f64,
}

impl Default for Placement {
    fn default() -> Self {
        Self {
            cpu_overcommit: 4.0,
            memory_overcommit: 1.0,
        }
    }
}

pub fn builtin_classes() -> BTreeMap<String, Class> {
    let c = |cpus, memory_mb, max_connections, storage_gb| Class {
        cpus,
        memory_mb,
        max_connections,
        storage_gb,
    };
    BTreeMap::from([
        ("small".to_string(), c(1.0, 1024, 100, 10)),
        ("medium".to_string(), c(2.0, 4096, 200, 50)),
        ("large".to_string(), c(4.0, 16384, 500, 200)),
    ])
}

impl Config {
    /// Reads config.toml; a missing file means all defaults.
    ///
    /// # Errors
    /// The file is unreadable or invalid.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(t) => {
                let cfg: Config = toml::from_str(&t).map_err(|e| {
                    invalid(
                        format!("{} is not valid: {}", path.display(), e.message()),
                        "fix the file (fixtures/config.toml has a commented example)",
                    )
                })?;
                if let Some(c) = &cfg.catalog {
                    crate::catalog::Location::parse_checked(c).map_err(|_| {
                        invalid(
                            format!(
                                "{}: catalog `{c}` is not a catalog this version can use",
                                path.display()
                            ),
                            "give a postgres:// (or postgresql://) URL, or a file path for SQLite",
                        )
                    })?;
                }
                Ok(cfg)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Built-in classes with config.toml's on top.
    pub fn classes(&self) -> BTreeMap<String, Class> {
        let mut all = builtin_classes();
        all.extend(self.classes.clone());
        all
    }

    /// # Errors
    /// [`crate::control::base::error::Invalid`] listing the known classes.
    pub fn class(&self, name: &str) -> Result<Class> {
        let all = self.classes();
        all.get(name).copied().ok_or_else(|| {
            invalid(
                format!("unknown class `{name}`"),
                format!(
                    "use one of: {} (or define it under [classes.{name}] in config.toml)",
                    all.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_overrides_and_extends_classes() {
        let cfg: Config = toml::from_str(
            "[classes.small]\ncpus = 0.5\nmemory_mb = 512\nmax_connections = 50\n[classes.huge]\ncpus = 64\nmemory_mb = 1048576\nmax_connections = 2000\nstorage_gb = 4000\n",
        )
        .unwrap();
        assert_eq!(cfg.class("small").unwrap().memory_mb, 512);
        assert_eq!(cfg.class("huge").unwrap().storage_gb, 4000);
        assert_eq!(cfg.class("medium").unwrap().cpus, 2.0);
        let err = cfg.class("nope").unwrap_err().to_string();
        assert!(err.contains("huge, large, medium, small"), "{err}");
    }

    #[test]
    fn fixture_config_parses() {
        let text = include_str!("../../../fixtures/config.toml");
        let cfg: Config = toml::from_str(text).unwrap();
        assert!(cfg.classes().len() >= 3);
    }
}
