//! One integration-test binary (faster to build than many), one module per topic.

mod common;

mod catalog;
mod cli;
mod drills;
mod isolation;
mod lifecycle;
mod local;
mod mariadb;
mod pitr;
mod recovery;
mod repository;
mod shards;
mod snapshots;
mod ssh;
mod trust;
