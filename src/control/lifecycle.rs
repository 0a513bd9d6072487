//! Stopping, starting and rebooting an instance's server in place, as RDS does: a stopped
//! instance keeps its data, host, port and endpoint, and nothing else starts it.

use super::error::invalid;
use super::home::Ctx;
use super::planning::{self, Plan};
use crate::catalog::instances::status;
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
/// [`super::error::Invalid`] for an unknown or busy instance, or one not in the state the
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
            "only a stopped instance can be started; a broken one is brought back with `dbctl recover`",
        ),
    };
    if inst.status != from {
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
