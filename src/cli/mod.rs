//! dbctl's command line: clap definitions, dispatch, output and exit codes. No business logic.

pub mod backup;
pub mod catalog;
pub mod check;
pub mod clone;
pub mod complete;
pub mod connect;
pub mod create;
pub mod daemon;
pub mod dbhost;
pub mod delete;
pub mod describe;
pub mod docs;
pub mod drill;
pub mod endpoint;
pub mod events;
pub mod guide;
pub mod hibernation;
pub mod host;
pub mod init;
pub mod label;
pub mod list;
pub mod modify;
pub mod monitor;
pub mod output;
pub mod plan;
pub mod power;
pub mod progress;
pub mod protect;
pub mod recover;
pub mod repartition;
pub mod repository;
pub mod restore;
pub mod schedule;
pub mod snapshot;
pub mod sweep;
pub mod timeline;
pub mod url;
pub mod window;
pub mod workflow;

use crate::control::base::error::Invalid;
use crate::control::base::error::Resumable;
use crate::control::base::error::WaitTimedOut;
use crate::control::base::error::WorkflowFailed;
use crate::control::base::home::Ctx;
use crate::control::base::home::Home;
use clap::{Parser, Subcommand};
use output::{Format, Printer};
use std::path::PathBuf;

/// Exit statuses scripts can branch on.
pub mod exit {
    pub const OK: i32 = 0;
    /// The command or its workflow failed (a failed workflow has been undone).
    pub const FAILED: i32 = 1;
    /// Bad input or usage; nothing was changed.
    pub const USAGE: i32 = 2;
    /// The workflow stopped part-way and can be resumed (`dbctl workflow resume ID`).
    pub const RESUMABLE: i32 = 3;
    /// `workflow wait --timeout` gave up; the workflow goes on.
    pub const TIMED_OUT: i32 = 4;
}

const AFTER_HELP: &str = "Exit status: 0 ok, 1 failed (a failed workflow is undone), 2 bad input or usage (nothing changed), 3 workflow stopped part-way: resume it with `dbctl workflow resume ID`, 4 `workflow wait --timeout` gave up (the workflow goes on).";

/// dbctl: create, snapshot, clone, restore and recover PostgreSQL and MariaDB instances on
/// your own hosts, and keep them recoverable with no one typing.
#[derive(Debug, Parser)]
#[command(name = "dbctl", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Where dbctl keeps config.toml, catalog.db and secrets [default: ~/.local/share/dbctl]
    #[arg(long, global = true, env = crate::env::DBCTL_HOME, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The catalog: postgres://USER@HOST:PORT/DB for one a team shares (its password in
    /// DBCTL_CATALOG or config.toml's `catalog`, never here) [default: DBCTL_CATALOG, then
    /// config.toml's, then catalog.db in the home]
    #[arg(long, global = true, value_name = "URL")]
    pub catalog: Option<String>,
    /// Output format for data on stdout.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::InitArgs),
    #[command(subcommand)]
    Host(host::HostCommand),
    Create(create::CreateArgs),
    Clone(clone::CloneArgs),
    Restore(restore::RestoreArgs),
    Recover(recover::RecoverArgs),
    RestorableWindow(window::WindowArgs),
    Delete(delete::DeleteArgs),
    /// Stop an instance's server, keeping its data on its host.
    Stop(power::PowerArgs),
    /// Start a stopped instance's server.
    Start(power::PowerArgs),
    /// Stop and start an instance's server.
    Reboot(power::PowerArgs),
    Hibernate(hibernation::HibernateArgs),
    Resume(hibernation::ResumeArgs),
    Modify(modify::ModifyArgs),
    Protect(protect::ProtectArgs),
    Label(label::LabelArgs),
    Describe(describe::DescribeArgs),
    Check(check::CheckArgs),
    Repartition(repartition::RepartitionArgs),
    Drill(drill::DrillArgs),
    List(list::ListArgs),
    Url(url::UrlArgs),
    Connect(connect::ConnectArgs),
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    #[command(subcommand)]
    Endpoint(endpoint::EndpointCommand),
    #[command(subcommand)]
    Repository(repository::RepositoryCommand),
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    #[command(subcommand)]
    Workflow(workflow::WorkflowCommand),
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    Events(events::EventsArgs),
    Sweep(sweep::SweepArgs),
    Daemon(daemon::DaemonArgs),
    Monitor(monitor::MonitorArgs),
    #[command(hide = true)]
    GenerateDocs(docs::DocsArgs),
}

/// What every command gets: where home is and how to print.
pub struct Env {
    pub home: Home,
    pub printer: Printer,
}

impl Env {
    /// # Errors
    /// The home is not initialized or cannot be opened.
    pub fn open(&self) -> anyhow::Result<Ctx> {
        self.home.open()
    }
}

/// The catalog --catalog or DBCTL_CATALOG names. A password in --catalog is refused: a
/// command line is readable by every user of the machine.
fn catalog_asked(flag: Option<&str>) -> anyhow::Result<Option<crate::catalog::Location>> {
    if let Some(u) = flag {
        if ::url::Url::parse(u).is_ok_and(|p| p.password().is_some()) {
            return Err(crate::control::base::error::invalid(
                "--catalog carries a password, which every user of this machine can read on its command line",
                "put the URL in DBCTL_CATALOG or in config.toml's `catalog` instead",
            ));
        }
        return crate::catalog::Location::parse_checked(u).map(Some);
    }
    std::env::var(crate::env::DBCTL_CATALOG)
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| crate::catalog::Location::parse_checked(&v))
        .transpose()
}

/// Parses the command line, runs the command and returns the exit status.
pub fn main() -> i32 {
    complete::answer_the_shell();
    let parsed = guide::command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    crate::workflow::interrupt::install();
    let mut home = Home::resolve(cli.home.clone());
    let printer = Printer { format: cli.output };
    match catalog_asked(cli.catalog.as_deref()) {
        Ok(c) => home.catalog = c,
        Err(e) => return report(&e),
    }
    let env = Env { home, printer };
    let result = match &cli.command {
        Command::Init(a) => init::run(&env, a),
        Command::Host(c) => host::run(&env, c),
        Command::Create(a) => create::run(&env, a),
        Command::Clone(a) => clone::run(&env, a),
        Command::Restore(a) => restore::run(&env, a),
        Command::Recover(a) => recover::run(&env, a),
        Command::Endpoint(c) => endpoint::run(&env, c),
        Command::Repository(c) => repository::run(&env, c),
        Command::Backup(c) => backup::run(&env, c),
        Command::Schedule(c) => schedule::run(&env, c),
        Command::RestorableWindow(a) => window::run(&env, a),
        Command::Snapshot(c) => snapshot::run(&env, c),
        Command::Delete(a) => delete::run(&env, a),
        Command::Stop(a) => power::run(&env, a, crate::control::instances::lifecycle::Power::Stop),
        Command::Start(a) => {
            power::run(&env, a, crate::control::instances::lifecycle::Power::Start)
        }
        Command::Reboot(a) => {
            power::run(&env, a, crate::control::instances::lifecycle::Power::Reboot)
        }
        Command::Label(a) => label::run(&env, a),
        Command::Hibernate(a) => hibernation::hibernate(&env, a),
        Command::Resume(a) => hibernation::resume(&env, a),
        Command::Modify(a) => modify::run(&env, a),
        Command::Protect(a) => protect::run(&env, a),
        Command::Describe(a) => describe::run(&env, a),
        Command::Check(a) => check::run(&env, a),
        Command::Repartition(a) => repartition::run(&env, a),
        Command::Drill(a) => drill::run(&env, a),
        Command::List(a) => list::run(&env, a),
        Command::Url(a) => url::run(&env, a),
        Command::Connect(a) => connect::run(&env, a),
        Command::Workflow(c) => workflow::run(&env, c),
        Command::Catalog(c) => catalog::run(&env, c),
        Command::Events(a) => events::run(&env, a),
        Command::Daemon(a) => daemon::run(&env, a),
        Command::Sweep(a) => sweep::run(&env, a),
        Command::Monitor(a) => monitor::run(&env, a),
        Command::GenerateDocs(a) => docs::run(a),
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => report(&e),
    }
}

/// Prints an error the way users read them and picks its exit status.
pub fn report(e: &anyhow::Error) -> i32 {
    if let Some(inv) = e.downcast_ref::<Invalid>() {
        eprintln_err(&format!("error: {inv}"));
        return exit::USAGE;
    }
    if let Some(t) = e.downcast_ref::<WaitTimedOut>() {
        eprintln_err(&format!("error: {t}"));
        return exit::TIMED_OUT;
    }
    if let Some(r) = e.downcast_ref::<Resumable>() {
        eprintln_err(&format!("error: {r}"));
        return exit::RESUMABLE;
    }
    if let Some(w) = e.downcast_ref::<WorkflowFailed>() {
        eprintln_err(&format!("error: {w}"));
        eprintln_err(&format!(
            "hint: `dbctl workflow show {}` lists each step and its error",
            w.workflow_id
        ));
        return exit::FAILED;
    }
    let mut text = format!("error: {e}");
    for cause in e.chain().skip(1) {
        text += &format!("\nCaused by: {cause}");
    }
    eprintln_err(&text);
    exit::FAILED
}

fn eprintln_err(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{}", output::seconds(text));
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every argument of every command says what it is for.
    fn missing_help(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if id != "help" && id != "version" && a.get_help().is_none() {
                out.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            missing_help(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_argument_has_help() {
        let mut missing = Vec::new();
        missing_help(&Cli::command(), "dbctl", &mut missing);
        missing_help(&dbhost::DbhostCli::command(), "dbhost", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
        dbhost::DbhostCli::command().debug_assert();
    }
}
