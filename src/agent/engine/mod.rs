//! Database engines behind one interface: what dbhost's generic instance operations call.
//!
//! Nothing engine-specific (file names, config keys, tools) leaves an engine's module.

pub mod postgres;

use crate::agent::layout::{InstanceMeta, Layout};
use crate::agent::osuser::RunAs;
use crate::agent::HostConfig;
use crate::wire::{EngineFact, ProvisionSpec};
use anyhow::Result;

/// What an engine is given to work with on this host.
pub struct HostCtx<'a> {
    pub layout: &'a Layout,
    pub cfg: &'a HostConfig,
    pub run_as: &'a RunAs,
}

/// Whether a server runs and answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Liveness {
    pub running: bool,
    pub pid: Option<u32>,
    pub accepting: bool,
}

pub trait Engine {
    fn name(&self) -> &'static str;

    /// The installed engine's version and binaries, or None when it is not installed.
    fn detect(&self, cfg: &HostConfig) -> Option<EngineFact>;

    /// Initializes a new data directory at `data_dir` (owned by the OS user, empty) for `spec`,
    /// listening on `port`, with the admin role and password of the spec.
    ///
    /// # Errors
    /// The engine's tools fail; the message carries their output.
    fn init(
        &self,
        host: &HostCtx,
        spec: &ProvisionSpec,
        port: u16,
        data_dir: &std::path::Path,
    ) -> Result<()>;

    /// Starts the server and waits until it accepts connections. Already running is success.
    ///
    /// # Errors
    /// The server does not start; the message carries the end of its log.
    fn start(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()>;

    /// Stops the server (fast shutdown). Not running is success.
    ///
    /// # Errors
    /// The server does not stop in time.
    fn stop(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()>;

    /// Whether the server runs and answers a query.
    ///
    /// # Errors
    /// The engine's tools cannot be run at all.
    fn liveness(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<Liveness>;
}

/// Every engine this build knows.
pub fn all() -> Vec<Box<dyn Engine>> {
    vec![Box::new(postgres::Postgres)]
}

/// The engine called `name`, if this build knows it.
pub fn by_name(name: &str) -> Option<Box<dyn Engine>> {
    all().into_iter().find(|e| e.name() == name)
}
