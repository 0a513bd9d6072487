//! What runs with no one typing: the sweep, periodic work (schedules, automatic snapshots,
//! windows that come due), the monitor and the metrics it serves. It calls every other room; no
//! room calls it, except the monitor's rule for `recover --before-error`.

pub mod autosnapshots;
pub mod metrics;
pub mod monitor;
pub mod periodic;
pub mod schedules;
pub mod sweep;
