//! Work on the data itself: integrity checks, restore drills, repartitioning into shards, and
//! clones into another engine. It calls `base`, `hosts`, `planning`, `restore` and `instances`.

pub mod checks;
pub mod cross_engine;
pub mod drills;
pub mod repartition;
