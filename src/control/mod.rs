//! The operations behind dbctl's commands: hosts, instances, placement, workflows, sweeping.
//!
//! Nothing here knows of clap, terminals or tables; the CLI builds options and prints results.

pub mod autosnapshots;
pub mod backups;
pub mod catalog_copy;
pub mod checks;
pub mod clones;
pub mod config;
pub mod cross_engine;
pub mod drills;
pub mod engines;
pub mod error;
pub mod events;
pub mod expiry;
pub mod fanout;
pub mod hibernation;
pub mod home;
pub mod hosts;
pub mod instances;
pub mod inventory;
pub mod labels;
pub mod lifecycle;
pub mod lifetimes;
pub mod metrics;
pub mod modify;
pub mod monitor;
pub mod names;
pub mod periodic;
pub mod pitr;
pub mod placement;
pub mod planning;
pub mod policies;
pub mod recover;
pub mod repartition;
pub mod replaced;
pub mod repositories;
pub mod restores;
pub mod runs;
pub mod schedules;
pub mod shipping;
pub mod snapshots;
pub mod sweep;
pub mod team;
pub mod windows;
