//! `dbctl repository ...`: the off-host tier's repositories.

use super::output::Printer;
use super::Env;
use crate::control::repositories::{self, RepositoryView};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Manage backup repositories (the off-host tier: encrypted, compressed, deduplicated).
#[derive(Debug, Subcommand)]
pub enum RepositoryCommand {
    Add(AddArgs),
    List(ListArgs),
    Show(ShowArgs),
}

/// Add a repository: a new one, with a key made for it and kept 0600 in this home, or, with
/// --key-file, one another home made (its key file copied here).
#[derive(Debug, Args)]
pub struct AddArgs {
    /// A name for it.
    pub name: String,
    /// Where it is: file:///ABSOLUTE/PATH (a directory, made if missing).
    #[arg(long)]
    pub url: String,
    /// The key file of an existing repository (`dbctl repository show NAME` in the home that
    /// made it names it): the repository is opened with it, not made.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

/// List repositories.
#[derive(Debug, Args)]
pub struct ListArgs {}

/// Show a repository, opened with its key: its format version and where its key is.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The repository's name (`dbctl repository list`).
    pub name: String,
}

pub fn run(env: &Env, c: &RepositoryCommand) -> Result<()> {
    let ctx = env.open()?;
    match c {
        RepositoryCommand::Add(a) => {
            let key = match &a.key_file {
                Some(f) => Some(
                    crate::fsutil::read_small_no_follow(f, 64 << 10)
                        .with_context(|| format!("reading the key file {}", f.display()))?,
                ),
                None => None,
            };
            let r = repositories::add(&ctx, &a.name, &a.url, key.as_deref())?;
            print_repository(&env.printer, &r);
            if !env.printer.is_json() && key.is_none() {
                env.printer.note(&format!(
                    "keep a copy of {} apart from this machine: without it the repository cannot be read",
                    r.key_file
                ));
            }
        }
        RepositoryCommand::List(_) => {
            let all = repositories::list(&ctx)?;
            let p = &env.printer;
            if p.is_json() {
                p.json(&all);
                return Ok(());
            }
            p.table(
                &["name", "url", "id", "created"],
                all.into_iter()
                    .map(|r| vec![r.name, r.url, r.repo_id, r.created_at])
                    .collect(),
            );
        }
        RepositoryCommand::Show(a) => {
            print_repository(&env.printer, &repositories::show(&ctx, &a.name)?)
        }
    }
    Ok(())
}

fn print_repository(p: &Printer, r: &RepositoryView) {
    if p.is_json() {
        p.json(r);
        return;
    }
    p.fields(vec![
        ("name", r.name.clone()),
        ("url", r.url.clone()),
        ("id", r.repo_id.clone()),
        (
            "format",
            r.format_version
                .map_or("-".into(), |v| format!("restic repository, version {v}")),
        ),
        ("key file", r.key_file.clone()),
        ("created", r.created_at.clone()),
    ]);
}
