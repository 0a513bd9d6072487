//! The data hosts: their registry (add, refresh, remove, the host key), reaching them (one
//! call, a round of calls at once, explaining a silence), placement (which host can take an
//! instance), the inventory reconciled on refresh, and the data set aside on them. It calls
//! base, and offsite to ask whether an instance on a host being removed has a backup.

pub mod fanout;
pub mod inventory;
pub mod placement;
pub mod reach;
pub mod registry;
pub mod replaced;
