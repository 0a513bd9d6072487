//! Work on the data itself: integrity checks, restore drills, repartitioning into shards, and
//! clones into another engine. It calls base, hosts, planning, instances, restore, offsite and
//! admin, and the daemon's monitor hook.

pub mod checks;
pub mod cross_engine;
pub mod drills;
pub mod repartition;
