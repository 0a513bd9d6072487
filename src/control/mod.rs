//! The operations behind dbctl's commands, in rooms by concern (each room's `mod.rs` says what
//! lives there and what it may call); `planning` (how a plan is checked, written and run)
//! serves them all.
//!
//! Nothing here knows of clap, terminals or tables; the CLI builds options and prints results.

pub mod admin;
pub mod base;
pub mod daemon;
pub mod data;
pub mod hosts;
pub mod instances;
pub mod offsite;
pub mod planning;
pub mod restore;
