//! What runs with no one typing: the sweep, periodic work (schedules, automatic snapshots,
//! windows that come due), the monitor and the metrics it serves. It calls every other room.

pub mod autosnapshots;
pub mod jobs;
pub mod metrics;
pub mod monitor;
pub mod periodic;
pub mod schedules;
pub mod sweep;
pub mod swept;
