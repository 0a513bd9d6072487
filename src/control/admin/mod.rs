//! The control plane's own records: runs (workflows as people see them), the team key of a
//! shared catalog, copying the catalog to another database, and events. It calls base and
//! restore (a time as people write it; a finished recovery's report).

pub mod catalog_copy;
pub mod events;
pub mod runs;
pub mod team;
