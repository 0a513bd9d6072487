//! `dbctl schedule ...`: actions on instances at cron times (UTC) or once.

use super::output::{opt, Printer};
use super::Env;
use crate::control::daemon::schedules;
use crate::control::daemon::schedules::ScheduleView;
use anyhow::Result;
use clap::{Args, Subcommand};

/// Schedule snapshots, backups, hibernation, resume, stop and start; `dbctl sweep` fires
/// what is due.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    Add(AddArgs),
    List(ListArgs),
    Remove(IdArgs),
    Pause(IdArgs),
    Unpause(IdArgs),
}

/// Add a schedule: ACTION (snapshot, backup, hibernate, resume, stop, start, drill) on NAME
/// at the times of a standard 5-field cron expression in UTC, or once at a time. A drill runs
/// within the pass that fires it (`dbctl drill`), from the host tier or, with --from
/// repository, from the repository.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The instance.
    #[arg(add = crate::cli::complete::instances())]
    pub name: String,
    /// snapshot, backup, hibernate, resume, stop, start or drill.
    #[arg(add = crate::cli::complete::schedule_actions())]
    pub action: String,
    /// For a drill: the tier it restores from.
    #[arg(long, value_enum)]
    pub from: Option<super::drill::From>,
    /// "MIN HOUR DOM MON DOW" in UTC, e.g. "0 19 * * FRI".
    #[arg(long, value_name = "EXPR", conflicts_with = "at")]
    pub cron: Option<String>,
    /// Once, at this time (RFC 3339, "YYYY-MM-DD HH:MM:SS" UTC).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

/// List schedules with their next and last run.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this instance's.
    #[arg(add = crate::cli::complete::instances())]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The schedule's id (`dbctl schedule list`).
    pub id: i64,
}

/// The action as stored: a drill from the repository has its own.
fn action(a: &AddArgs) -> Result<String> {
    match (a.action.as_str(), a.from) {
        ("drill", Some(super::drill::From::Repository)) => {
            Ok(schedules::DRILL_FROM_REPOSITORY.into())
        }
        ("drill", _) | (_, None) => Ok(a.action.clone()),
        (other, Some(_)) => Err(crate::control::base::error::invalid(
            format!("--from is for a drill, not {other}"),
            "leave it out",
        )),
    }
}

pub fn run(env: &Env, c: &ScheduleCommand) -> Result<()> {
    let ctx = env.open()?;
    let p = &env.printer;
    match c {
        ScheduleCommand::Add(a) => print(
            p,
            &[schedules::add(
                &ctx,
                &a.name,
                &action(a)?,
                a.cron.as_deref(),
                a.at.as_deref(),
            )?],
        ),
        ScheduleCommand::List(a) => print(p, &schedules::list(&ctx, a.name.as_deref())?),
        ScheduleCommand::Remove(a) => print(p, &[schedules::remove(&ctx, a.id)?]),
        ScheduleCommand::Pause(a) => print(p, &[schedules::pause(&ctx, a.id, true)?]),
        ScheduleCommand::Unpause(a) => print(p, &[schedules::pause(&ctx, a.id, false)?]),
    }
    Ok(())
}

fn print(p: &Printer, all: &[ScheduleView]) {
    if p.is_json() {
        match all {
            [one] => p.json(one),
            _ => p.json(&all),
        }
        return;
    }
    p.table(
        &[
            "id", "instance", "action", "when", "next", "last", "workflow", "error",
        ],
        all.iter()
            .map(|s| {
                let r = &s.row;
                vec![
                    r.id.to_string(),
                    s.instance.clone(),
                    r.action.clone(),
                    match (&r.cron, &r.at) {
                        (Some(c), _) => format!("cron {c}"),
                        (None, Some(a)) => format!("once {a}"),
                        _ => "-".into(),
                    },
                    if r.paused {
                        "paused".into()
                    } else {
                        opt(&r.next_run)
                    },
                    opt(&r.last_run),
                    opt(&r.last_workflow),
                    opt(&r.last_error),
                ]
            })
            .collect(),
    );
}
