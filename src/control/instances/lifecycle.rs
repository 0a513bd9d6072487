//! Stopping, starting and rebooting an instance's server in place, as RDS does: a stopped
//! instance keeps its data, host, port and endpoint, and nothing else starts it.

use crate::catalog::instances::status;
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::planning;
use crate::control::planning::Plan;
use crate::workflow::actions::{self, ActionKind};
use anyhow::Result;

/// The three changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    Stop,
    Start,
    Reboot,
}

/// Plans stopping, starting or rebooting `name`; writes it unless `dry_run`.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown or busy instance, or one not in the state the
/// change starts from (stop and reboot need it available, start needs it stopped).
pub fn plan(ctx: &mut Ctx, name: &str, power: Power, dry_run: bool) -> Result<Plan> {
    let (inst, host) = planning::settled(ctx, name)?;
    let (kind, from, hint) = match power {
        Power::Stop => (
            ActionKind::Stop,
            status::AVAILABLE,
            "only a running instance can be stopped",
        ),
        Power::Reboot => (
            ActionKind::Reboot,
            status::AVAILABLE,
            "only a running instance can be rebooted; a stopped one is started with `dbctl start`",
        ),
        Power::Start => (
            ActionKind::Start,
            status::STOPPED,
            "only a stopped instance, or one whose server is down on its data, can be started; one whose data is gone is brought back with `dbctl recover`",
        ),
    };
    // A server that went down on its own data (the monitor left it to a person, say) is
    // started as a stopped one is: a start is crash recovery and loses nothing, where a
    // recovery would rebuild it to an older point.
    let down =
        power == Power::Start && inst.status == status::AVAILABLE && server_down(&inst, &host);
    if inst.status != from && !down {
        return Err(invalid(
            format!("instance `{name}` is {}", inst.status),
            hint,
        ));
    }
    let steps = match power {
        Power::Stop => actions::stop::steps(&inst, host.id),
        Power::Start => actions::start::steps(&inst, host.id),
        Power::Reboot => actions::reboot::steps(&inst, host.id),
    };
    let plan = Plan::new(
        kind,
        name,
        &host.name,
        format!("on host {}", host.name),
        steps.clone(),
    );
    planning::submit(ctx, plan, dry_run, |tx| {
        let wf = planning::write_workflow(tx, kind, &inst, &steps)?;
        Ok((wf, steps))
    })
}

/// Whether the instance's host says its server is not running on data that is there (false
/// when the host does not answer: nothing is started blind).
fn server_down(
    inst: &crate::catalog::instances::InstanceRow,
    host: &crate::catalog::hosts::HostRow,
) -> bool {
    let op = crate::wire::Op::Status(crate::wire::InstanceRef {
        instance: inst.uid.clone(),
    });
    crate::control::hosts::reach::call(host, op)
        .ok()
        .and_then(|v| serde_json::from_value::<crate::wire::InstanceStatus>(v).ok())
        .is_some_and(|st| st.exists && !st.running && !st.data_missing)
}
