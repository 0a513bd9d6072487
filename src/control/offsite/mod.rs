//! The second tier, off the host: repositories, backups into them, backup policies, log
//! shipping and the expiry of what is kept. It calls base, hosts, planning, restore (the
//! window) and admin (the team key).

pub mod backups;
pub mod expiry;
pub mod policies;
pub mod repositories;
pub mod shipping;
