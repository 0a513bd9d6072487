//! dbctl: a control plane (`dbctl`) and host manager (`dbhost`) for database fleets.
//!
//! `cli` parses and prints; `control` holds the operations; `workflow` compiles and runs
//! persisted step lists; `catalog` owns the SQLite file; `transport` reaches hosts; `agent` is
//! dbhost, which shares only `wire` with the rest.

// Output goes through cli::output::Printer (data to stdout, notes to stderr), never print!.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod agent;
pub mod catalog;
pub mod cli;
pub mod control;
pub mod env;
pub mod failpoints;
pub mod fsutil;
pub mod repo;
pub mod secrets;
pub mod times;
pub mod transport;
pub mod wire;
pub mod workflow;
