//! Repositories of the off-host tier: adding one (a new repository and its key, or an
//! existing one with a key brought from another home), listing and showing them.

use super::error::invalid;
use super::home::Ctx;
use crate::catalog::repositories::{self as rows, RepositoryRow};
use anyhow::Result;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A repository as `show` and `list` print it. The key is never in it, only where it is.
#[derive(Debug, Clone, Serialize)]
pub struct RepositoryView {
    pub name: String,
    pub url: String,
    pub repo_id: String,
    /// The key file to copy to another control machine (`repository add --key-file`).
    pub key_file: String,
    pub created_at: String,
    /// The repository's format version, read from it (`show` only: it opens the repository).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<u32>,
}

/// Where a repository is.
#[derive(Debug, Clone, PartialEq)]
enum Location {
    Dir(PathBuf),
}

const URL_FORMS: &str = "give file:///ABSOLUTE/PATH (a directory, made if missing)";

fn parse_url(url: &str) -> Result<Location> {
    if let Some(path) = url.strip_prefix("file://") {
        let p = Path::new(path);
        let plain = p.is_absolute()
            && p.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::RootDir | std::path::Component::Normal(_)
                )
            });
        if !plain || path.len() < 2 {
            return Err(invalid(
                format!("`{url}` does not name an absolute directory"),
                URL_FORMS,
            ));
        }
        return Ok(Location::Dir(p.to_path_buf()));
    }
    if url.starts_with("s3://") {
        return Err(invalid(
            format!("`{url}`: S3 repositories are not supported by this dbctl yet"),
            URL_FORMS,
        ));
    }
    Err(invalid(
        format!("`{url}` is not a repository URL"),
        URL_FORMS,
    ))
}

fn key_file(name: &str) -> String {
    format!("repository-{name}.key")
}

fn view(ctx: &Ctx, r: RepositoryRow, format_version: Option<u32>) -> RepositoryView {
    RepositoryView {
        key_file: ctx.secrets.file(&key_file(&r.name)).display().to_string(),
        name: r.name,
        url: r.url,
        repo_id: r.repo_id,
        created_at: r.created_at,
        format_version,
    }
}

/// Adds repository `name` at `url`: a new one with a new key, or, with `imported_key`
/// (the contents of a key file from another home), the one already there, which that key
/// must open.
///
/// # Errors
/// [`super::error::Invalid`] for a bad name or URL, a name taken, a directory that is not
/// a repository (or already is one, without a key), or a key that does not open it.
pub fn add(ctx: &Ctx, name: &str, url: &str, imported_key: Option<&str>) -> Result<RepositoryView> {
    super::names::check("repository", name)?;
    let Location::Dir(path) = parse_url(url)?;
    let conn = ctx.catalog.conn();
    if rows::get(conn, name)?.is_some() {
        return Err(invalid(
            format!("repository `{name}` already exists"),
            "choose another name (`dbctl repository list`)",
        ));
    }
    let key_name = key_file(name);
    if ctx.secrets.file(&key_name).exists() {
        return Err(invalid(
            format!(
                "a key for a repository named `{name}` is already kept at {}",
                ctx.secrets.file(&key_name).display()
            ),
            "choose another name, or move that key away if it is no longer needed",
        ));
    }
    let (key, repo_id) = match imported_key {
        Some(k) => {
            let k = k.trim().to_string();
            if !crate::repo::is_repository_dir(&path) {
                return Err(invalid(
                    format!("there is no repository at {url}"),
                    "give the URL the home that made it shows (`dbctl repository show NAME`)",
                ));
            }
            let (id, _) = crate::repo::open_dir(&path, &k).map_err(|e| {
                invalid(
                    format!(
                        "the key does not open the repository at {url} ({})",
                        crate::repo::brief(&e)
                    ),
                    "give the key file of the home that made it (`dbctl repository show NAME` there names it)",
                )
            })?;
            (k, id)
        }
        None => {
            let occupied = std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_some());
            if occupied {
                return Err(invalid(
                    format!("{} is not empty", path.display()),
                    "give an empty or new directory, or add an existing repository with --key-file",
                ));
            }
            let made = !path.exists();
            let k = crate::repo::new_key()?;
            match crate::repo::init_dir(&path, &k) {
                Ok(id) => (k, id),
                Err(e) => {
                    if made {
                        let _ = std::fs::remove_dir_all(&path);
                    }
                    anyhow::bail!("making a repository at {url}: {}", crate::repo::brief(&e));
                }
            }
        }
    };
    ctx.secrets.create_file(&key_name, &key)?;
    let at = crate::catalog::now();
    if let Err(e) = rows::insert(conn, name, url, &repo_id, &at) {
        let _ = std::fs::remove_file(ctx.secrets.file(&key_name));
        return Err(e);
    }
    show(ctx, name)
}

/// # Errors
/// The catalog cannot be read.
pub fn list(ctx: &Ctx) -> Result<Vec<RepositoryView>> {
    Ok(rows::list(ctx.catalog.conn())?
        .into_iter()
        .map(|r| view(ctx, r, None))
        .collect())
}

/// The repository `name`, opened with its key (so a missing repository or key shows here).
///
/// # Errors
/// [`super::error::Invalid`] for an unknown name; the repository does not open.
pub fn show(ctx: &Ctx, name: &str) -> Result<RepositoryView> {
    let r = rows::get(ctx.catalog.conn(), name)?.ok_or_else(|| {
        invalid(
            format!("no repository named `{name}`"),
            "see `dbctl repository list`",
        )
    })?;
    let Location::Dir(path) = parse_url(&r.url)?;
    let key = std::fs::read_to_string(ctx.secrets.file(&key_file(name)))
        .map_err(|e| anyhow::anyhow!("reading the key of repository `{name}`: {e}"))?;
    let (id, version) = crate::repo::open_dir(&path, &key).map_err(|e| {
        anyhow::anyhow!(
            "repository `{name}` at {} does not open: {}",
            r.url,
            crate::repo::brief(&e)
        )
    })?;
    anyhow::ensure!(
        id == r.repo_id,
        "{} holds repository {id}, not `{name}` ({}); it was replaced",
        r.url,
        r.repo_id
    );
    Ok(view(ctx, r, Some(version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_plain_directory_urls_are_taken() {
        assert_eq!(
            parse_url("file:///srv/backups").unwrap(),
            Location::Dir("/srv/backups".into())
        );
        for bad in [
            "file://relative/dir",
            "file:///srv/../etc",
            "file:///",
            "/srv/backups",
            "s3://bucket/prefix",
            "http://x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
