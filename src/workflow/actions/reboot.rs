//! reboot: an instance's server stopped and started again on its data.

use super::steps::{host_step, iref, start_step};
use super::{AfterFailure, Meaning};
use crate::catalog::instances::InstanceRow;
use crate::wire::Op;
use crate::workflow::plan::{Expect, PlannedStep};

/// What its end means for the catalog. Undo started the server again.
pub const MEANING: Meaning = Meaning {
    name: "reboot",
    after_failure: AfterFailure::Unchanged,
    success_event: "rebooted",
};

/// reboot: stop (undo: start) -> start, answering queries.
pub fn steps(i: &InstanceRow, host_id: i64) -> Vec<PlannedStep> {
    vec![
        host_step(
            "stop",
            host_id,
            Op::Stop(iref(i)),
            Some(Expect::Stopped),
            Some(Op::Start(iref(i))),
            &i.uid,
        ),
        start_step(i, host_id),
    ]
}
