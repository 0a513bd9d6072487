//! What every other room stands on: the home and its context (`Ctx`), the config, the error
//! that means bad input, names, labels, engines' client logins, and the lookups that turn a
//! name into an instance or a host. It calls nothing else in `control`.

pub mod config;
pub mod engines;
pub mod error;
pub mod home;
pub mod labels;
pub mod lookup;
pub mod names;
