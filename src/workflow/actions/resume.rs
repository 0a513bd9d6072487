//! resume: a hibernated instance rebuilt on a host with room from its final snapshot and
//! every log after it, taking its name and endpoint back (the steps are recovery's, with no
//! old server to stop).

use super::{AfterFailure, Meaning};

/// What its end means for the catalog. A failed resume leaves it hibernated.
pub const MEANING: Meaning = Meaning {
    name: "resume",
    after_failure: AfterFailure::Unchanged,
    success_event: "resumed",
};
