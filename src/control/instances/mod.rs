//! One instance's life: its views (describe, list), create, delete, connect, power (stop,
//! start, reboot), hibernation, lifetimes, settings and maintenance windows, and modify. It
//! calls base, hosts, planning, restore and offsite, and the daemon's queue for work that comes
//! due.

pub mod connect;
pub mod create;
pub mod delete;
pub mod hibernation;
pub mod lifecycle;
pub mod lifetimes;
pub mod modify;
pub mod views;
pub mod windows;
