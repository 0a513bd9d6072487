//! Every environment variable dbctl and dbhost read, in one place.

/// dbctl's home: config.toml, catalog.db, secrets/.
pub const DBCTL_HOME: &str = "DBCTL_HOME";
/// The catalog: `postgres://user:password@host:port/database` for a PostgreSQL catalog a
/// team shares; unset, the SQLite file in the home.
pub const DBCTL_CATALOG: &str = "DBCTL_CATALOG";
/// Path of the dbhost binary the local transport runs (default: next to dbctl, then PATH).
pub const DBCTL_DBHOST: &str = "DBCTL_DBHOST";
/// Test-only fault injection, e.g. `crash-after:provision` (see `src/failpoints.rs`).
pub const DBCTL_FAILPOINTS: &str = "DBCTL_FAILPOINTS";
/// dbhost's root directory when --root is not given.
pub const DBHOST_ROOT: &str = "DBHOST_ROOT";
