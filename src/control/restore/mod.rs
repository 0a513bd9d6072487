//! Getting data back: the restorable window and the choice of a point, snapshots, restores in
//! place and to a copy, clones, and recovery with its report of what it brought back. It calls
//! base, hosts, planning, offsite (a backup to restore from) and instances (a clone's
//! lifetime).

pub mod clones;
pub mod coverage;
pub mod pitr;
pub mod recover;
pub mod restores;
pub mod snapshots;
pub mod targets;
