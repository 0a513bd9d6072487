//! Shell completion that knows the fleet. The shell asks dbctl itself at each TAB (clap's
//! dynamic completion: `COMPLETE=bash dbctl`, which `completions/dbctl.bash` runs), so names
//! come from the catalog as it is now, and fixed values from the same lists the commands
//! check. A catalog that cannot be opened completes nothing rather than failing the shell.

use crate::control::base::home::Ctx;
use crate::control::base::home::Home;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

/// The home and catalog the command being completed would use (--home cannot be seen from
/// here; DBCTL_HOME and DBCTL_CATALOG can).
fn catalog() -> Option<Ctx> {
    let mut home = Home::resolve(std::env::var_os(crate::env::DBCTL_HOME).map(Into::into));
    home.catalog = std::env::var(crate::env::DBCTL_CATALOG)
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| crate::catalog::Location::parse(&v));
    home.open().ok()
}

fn named(items: impl IntoIterator<Item = (String, String)>) -> Vec<CompletionCandidate> {
    items
        .into_iter()
        .map(|(value, help)| CompletionCandidate::new(value).help(Some(help.into())))
        .collect()
}

fn instance_names() -> Vec<CompletionCandidate> {
    let Some(ctx) = catalog() else {
        return Vec::new();
    };
    let rows = crate::catalog::instances::list_live(ctx.catalog.conn()).unwrap_or_default();
    named(
        rows.into_iter()
            .map(|i| (i.name, format!("{} instance, {}", i.engine, i.status))),
    )
}

fn host_names() -> Vec<CompletionCandidate> {
    let Some(ctx) = catalog() else {
        return Vec::new();
    };
    let rows = crate::catalog::hosts::list(ctx.catalog.conn()).unwrap_or_default();
    named(rows.into_iter().map(|h| (h.name, h.address)))
}

fn repository_names() -> Vec<CompletionCandidate> {
    let Some(ctx) = catalog() else {
        return Vec::new();
    };
    let rows = crate::catalog::repositories::list(ctx.catalog.conn()).unwrap_or_default();
    named(rows.into_iter().map(|r| (r.name, r.url)))
}

fn snapshot_ids() -> Vec<CompletionCandidate> {
    let Some(ctx) = catalog() else {
        return Vec::new();
    };
    let rows = crate::catalog::snapshots::list(ctx.catalog.conn(), None).unwrap_or_default();
    named(rows.into_iter().map(|s| {
        (
            s.id.to_string(),
            format!("{} {} {}", s.instance_name, s.kind, s.created_at),
        )
    }))
}

fn class_names() -> Vec<CompletionCandidate> {
    let classes = catalog().map_or_else(crate::control::base::config::builtin_classes, |c| {
        c.config.classes()
    });
    named(classes.into_keys().map(|k| (k, "class".to_string())))
}

fn fixed(values: &[&str]) -> Vec<CompletionCandidate> {
    values
        .iter()
        .map(|v| CompletionCandidate::new(*v))
        .collect()
}

/// The kinds `events --type` takes.
pub fn event_kinds() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        crate::catalog::events::KINDS
            .iter()
            .map(|k| CompletionCandidate::new(*k))
            .collect()
    })
}

pub fn instances() -> ArgValueCandidates {
    ArgValueCandidates::new(instance_names)
}

pub fn hosts() -> ArgValueCandidates {
    ArgValueCandidates::new(host_names)
}

pub fn repositories() -> ArgValueCandidates {
    ArgValueCandidates::new(repository_names)
}

pub fn snapshots() -> ArgValueCandidates {
    ArgValueCandidates::new(snapshot_ids)
}

/// What `label` takes: an instance, or (with --host, --snapshot) a host or a snapshot id;
/// which flag follows is not known at the TAB, so each offer says what it is.
pub fn label_targets() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        let mut all = instance_names();
        all.extend(host_names().into_iter().map(|c| {
            let help = c.get_help().map(|h| h.to_string()).unwrap_or_default();
            c.help(Some(format!("host (with --host), {help}").into()))
        }));
        all.extend(snapshot_ids().into_iter().map(|c| {
            let help = c.get_help().map(|h| h.to_string()).unwrap_or_default();
            c.help(Some(format!("snapshot (with --snapshot), {help}").into()))
        }));
        all
    })
}

pub fn classes() -> ArgValueCandidates {
    ArgValueCandidates::new(class_names)
}

pub fn engines() -> ArgValueCandidates {
    ArgValueCandidates::new(|| fixed(&["postgres", "mariadb"]))
}

pub fn on_failure() -> ArgValueCandidates {
    use crate::catalog::instance_settings::on_failure;
    ArgValueCandidates::new(|| fixed(&[on_failure::RECOVER, on_failure::NOTIFY]))
}

pub fn schedule_actions() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        let plain: Vec<&str> = crate::control::daemon::schedules::ACTIONS
            .iter()
            .copied()
            .filter(|a| !a.contains(':'))
            .collect();
        fixed(&plain)
    })
}

/// Answers the shell when it is the shell asking (COMPLETE set), and exits; else returns.
pub fn answer_the_shell() {
    clap_complete::CompleteEnv::with_factory(super::guide::command)
        .bin("dbctl")
        .completer("dbctl")
        .complete();
}

/// The script that registers dbctl's completion in `shell` (bash, zsh, fish).
///
/// # Errors
/// `shell` is not one clap completes.
pub fn registration(shell: &str) -> anyhow::Result<Vec<u8>> {
    use clap_complete::env::EnvCompleter;
    let mut buf = Vec::new();
    let completer: &dyn EnvCompleter = match shell {
        "bash" => &clap_complete::env::Bash,
        "zsh" => &clap_complete::env::Zsh,
        "fish" => &clap_complete::env::Fish,
        _ => anyhow::bail!("no completion for {shell}"),
    };
    completer.write_registration("COMPLETE", "dbctl", "dbctl", "dbctl", &mut buf)?;
    Ok(buf)
}
