//! `dbctl repository ...`: the off-host tier's repositories.

use super::output::Printer;
use super::Env;
use crate::control::offsite::repositories;
use crate::control::offsite::repositories::RepositoryView;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Manage backup repositories (the off-host tier: encrypted, compressed, deduplicated).
#[derive(Debug, Subcommand)]
pub enum RepositoryCommand {
    Add(AddArgs),
    List(ListArgs),
    Show(ShowArgs),
    Check(CheckArgs),
    Verify(VerifyArgs),
    Remove(RemoveArgs),
    ExportKey(ExportKeyArgs),
}

/// Write the password of a repository's restic key to FILE (0600, never over a file that is
/// there): keep it apart from this machine and its catalog, since without it the repository
/// cannot be read. It opens the repository for `restic -r URL --password-file FILE` in a
/// disaster (README: "Without dbctl"), and for `repository add --key-file` in another home.
#[derive(Debug, Args)]
pub struct ExportKeyArgs {
    /// The repository's name (`dbctl repository list`).
    #[arg(add = crate::cli::complete::repositories())]
    pub name: String,
    /// Where to write the password.
    pub file: PathBuf,
}

/// Check a repository cheaply: reachable, opens with its key, takes a write, its format, its
/// newest backup's age and each instance's log shipping lag. Reads no data; exits 1 when
/// something is wrong.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The repository's name (`dbctl repository list`).
    #[arg(add = crate::cli::complete::repositories())]
    pub name: String,
}

/// Read a repository back whole and check every object's checksum; name each damaged object
/// and the backups and shipped logs it breaks. Exits 1 when anything is damaged.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The repository's name (`dbctl repository list`).
    #[arg(add = crate::cli::complete::repositories())]
    pub name: String,
}

/// Forget a repository in this home: its backups leave the catalog; the repository and its
/// data stay where they are, and its key file is kept in the secrets as `*.removed`.
/// Refused while a backup policy names it.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The repository's name (`dbctl repository list`).
    #[arg(add = crate::cli::complete::repositories())]
    pub name: String,
}

/// Add a repository: a new one, with a key made for it and kept 0600 in this home, or, with
/// --key-file, one another home made (its key file copied here).
#[derive(Debug, Args)]
pub struct AddArgs {
    /// A name for it.
    pub name: String,
    /// Where it is: file:///ABSOLUTE/PATH (a directory, made if missing), or s3://BUCKET/PREFIX
    /// with --endpoint; S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
    /// (and AWS_SESSION_TOKEN) or --credentials-file, and are kept 0600 in this home.
    #[arg(long)]
    pub url: String,
    /// An S3 repository's endpoint, e.g. https://s3.eu-west-1.amazonaws.com (path-style
    /// requests).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// An S3 repository's region [default: us-east-1].
    #[arg(long)]
    pub region: Option<String>,
    /// An AWS-style credentials file (`[default]` with aws_access_key_id and
    /// aws_secret_access_key) instead of the environment.
    #[arg(long, value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,
    /// The key of an existing repository: the file `repository export-key` wrote in the home
    /// that made it (a restic password file), or that home's key file (`repository show`
    /// names it). The repository is opened with it, not made.
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
    #[arg(add = crate::cli::complete::repositories())]
    pub name: String,
}

pub fn run(env: &Env, c: &RepositoryCommand) -> Result<()> {
    let mut ctx = env.open()?;
    match c {
        RepositoryCommand::Add(a) => {
            let key = match &a.key_file {
                Some(f) => Some(
                    crate::fsutil::read_small_no_follow(f, 64 << 10)
                        .with_context(|| format!("reading the key file {}", f.display()))?,
                ),
                None => None,
            };
            if a.credentials_file.is_some() && !a.url.starts_with("s3://") {
                return Err(crate::control::base::error::invalid(
                    format!(
                        "--credentials-file applies to s3:// repositories, not `{}`",
                        a.url
                    ),
                    "leave it out for a directory",
                ));
            }
            let access = repositories::Access {
                endpoint: a.endpoint.clone(),
                region: a.region.clone(),
                keys: s3_keys(a.credentials_file.as_deref())?,
            };
            let r = repositories::add(&ctx, &a.name, &a.url, &access, key.as_deref())?;
            print_repository(&env.printer, &r);
            if !env.printer.is_json() && key.is_none() {
                env.printer.note(&format!(
                    "keep a copy of its key apart from this machine (`dbctl repository export-key {} FILE`): without it the repository cannot be read",
                    r.name
                ));
            }
        }
        RepositoryCommand::ExportKey(a) => {
            repositories::export_key(&ctx, &a.name, &a.file)?;
            env.printer.note(&format!(
                "the key of repository `{}` is in {} (0600)",
                a.name,
                a.file.display()
            ));
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
        RepositoryCommand::Check(a) => {
            let v = repositories::check(&ctx, &a.name)?;
            let p = &env.printer;
            if p.is_json() {
                p.json(&v);
            } else {
                let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
                let mut fields = vec![
                    ("name", v.name.clone()),
                    ("url", v.url.clone()),
                    ("reachable", yes(v.reachable)),
                    ("key opens it", yes(v.key_opens)),
                    ("writable", yes(v.writable)),
                    (
                        "format",
                        v.format_version
                            .map_or("-".into(), |f| format!("version {f}")),
                    ),
                    ("backups", v.backups.to_string()),
                    (
                        "last backup",
                        match (&v.last_backup_at, v.last_backup_age_secs) {
                            (Some(t), Some(a)) => {
                                format!("{} ({a} s ago)", super::output::seconds(t))
                            }
                            _ => "none".into(),
                        },
                    ),
                ];
                let lag: Vec<String> = v
                    .shipping
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: {}",
                            s.instance,
                            s.log_lag_secs
                                .map_or("nothing shipped yet".into(), |l| format!("{l} s behind"))
                        )
                    })
                    .collect();
                fields.push((
                    "log shipping",
                    if lag.is_empty() {
                        "-".into()
                    } else {
                        lag.join(", ")
                    },
                ));
                p.fields(fields);
            }
            if let Some(problem) = v.problem {
                anyhow::bail!("repository `{}`: {problem}", a.name);
            }
        }
        RepositoryCommand::Verify(a) => {
            let v = repositories::verify(&ctx, &a.name)?;
            let p = &env.printer;
            if p.is_json() {
                p.json(&v);
            } else if v.damaged.is_empty() {
                p.note(&format!(
                    "every object of repository `{}` reads back intact ({} snapshots)",
                    v.name, v.snapshots
                ));
            } else {
                p.table(
                    &["object", "problem", "breaks backups", "breaks logs of"],
                    v.damaged
                        .iter()
                        .map(|d| {
                            vec![
                                d.object.clone(),
                                d.problem.clone(),
                                d.backups
                                    .iter()
                                    .map(i64::to_string)
                                    .collect::<Vec<_>>()
                                    .join(","),
                                d.logs_of.join(","),
                            ]
                        })
                        .collect(),
                );
            }
            if !v.damaged.is_empty() {
                let broken: std::collections::BTreeSet<i64> =
                    v.damaged.iter().flat_map(|d| d.backups.clone()).collect();
                anyhow::bail!(
                    "repository `{}` has {} damaged object(s); {} backup(s) cannot be restored whole",
                    v.name,
                    v.damaged.len(),
                    broken.len()
                );
            }
        }
        RepositoryCommand::Remove(a) => {
            let r = repositories::remove(&mut ctx, &a.name)?;
            env.printer.note(&format!(
                "repository `{}` forgotten; its data stays at {}, and its key was kept aside in {}.*.removed",
                r.name, r.url, r.key_file
            ));
        }
    }
    Ok(())
}

/// S3 keys from `file` (AWS's credentials format, its `[default]` profile), else from the
/// AWS environment variables; None when neither has them.
fn s3_keys(file: Option<&std::path::Path>) -> Result<Option<crate::repo::s3::Keys>> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let Some(f) = file else {
        return Ok(get("AWS_ACCESS_KEY_ID")
            .zip(get("AWS_SECRET_ACCESS_KEY"))
            .map(|(id, secret)| crate::repo::s3::Keys {
                access_key_id: id,
                secret_access_key: secret,
                session_token: get("AWS_SESSION_TOKEN"),
            }));
    };
    let text = crate::fsutil::read_small_no_follow(f, 64 << 10)
        .with_context(|| format!("reading the credentials file {}", f.display()))?;
    let mut in_default = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_default = line == "[default]";
        } else if let (true, Some((k, v))) = (in_default, line.split_once('=')) {
            let v = Some(v.trim().to_string());
            match k.trim() {
                "aws_access_key_id" => id = v,
                "aws_secret_access_key" => secret = v,
                "aws_session_token" => token = v,
                _ => {}
            }
        }
    }
    match (id, secret) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Some(crate::repo::s3::Keys {
            access_key_id,
            secret_access_key,
            session_token: token,
        })),
        _ => Err(crate::control::base::error::invalid(
            format!(
                "{} has no [default] aws_access_key_id and aws_secret_access_key",
                f.display()
            ),
            "write them under [default], as the AWS tools do",
        )),
    }
}

fn print_repository(p: &Printer, r: &RepositoryView) {
    if p.is_json() {
        p.json(r);
        return;
    }
    p.fields(vec![
        ("name", r.name.clone()),
        ("url", r.url.clone()),
        ("endpoint", super::output::opt(&r.endpoint)),
        ("region", super::output::opt(&r.region)),
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
