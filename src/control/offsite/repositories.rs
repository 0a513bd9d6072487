//! Repositories of the off-host tier: adding one (a new repository and its key, or an
//! existing one with a key brought from another home), listing and showing them.

use crate::catalog::repositories::{self as rows, RepositoryRow};
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::repo::{key_file, password_file, s3_file};
use anyhow::Result;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A repository as `show` and `list` print it. The key is never in it, only where it is.
#[derive(Debug, Clone, Serialize)]
pub struct RepositoryView {
    pub name: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub repo_id: String,
    /// The key file to copy to another control machine (`repository add --key-file`).
    pub key_file: String,
    pub created_at: String,
    /// The repository's format version, read from it (`show` only: it opens the repository).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<u32>,
}

/// Where a repository is, as its URL says.
#[derive(Debug, Clone, PartialEq)]
enum Location {
    Dir(PathBuf),
    S3 { bucket: String, prefix: String },
}

const URL_FORMS: &str =
    "give file:///ABSOLUTE/PATH (a directory, made if missing) or s3://BUCKET/PREFIX";

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
    if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_end_matches('/');
        // S3's bucket naming rules; a prefix of plain path segments.
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        let prefix_ok = prefix.split('/').all(|seg| {
            prefix.is_empty()
                || (!seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        });
        if !bucket_ok || !prefix_ok {
            return Err(invalid(
                format!("`{url}` is not a bucket and prefix"),
                "bucket names have 3-63 lowercase letters, digits, dots and hyphens; a prefix, path segments of letters, digits, '-', '_' and '.'",
            ));
        }
        return Ok(Location::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        });
    }
    Err(invalid(
        format!("`{url}` is not a repository URL"),
        URL_FORMS,
    ))
}

fn view(ctx: &Ctx, r: RepositoryRow, format_version: Option<u32>) -> RepositoryView {
    RepositoryView {
        key_file: if ctx.secrets.is_shared() {
            format!("sealed in the shared catalog as {}", key_file(&r.name))
        } else {
            ctx.secrets.file(&key_file(&r.name)).display().to_string()
        },
        name: r.name,
        url: r.url,
        endpoint: r.endpoint,
        region: r.region,
        repo_id: r.repo_id,
        created_at: r.created_at,
        format_version,
    }
}

/// How a new repository is reached: an S3 repository's endpoint, region and keys.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub keys: Option<crate::repo::s3::Keys>,
}

/// The store at `url`, reached with `access` (S3 needs an endpoint and keys).
fn store_for(url: &str, access: &Access) -> Result<crate::repo::Store> {
    Ok(match parse_url(url)? {
        Location::Dir(p) => {
            // Flags that cannot apply are refused, not ignored: a region or an endpoint
            // given for a directory means the URL is not the one meant.
            for (flag, given) in [
                ("--endpoint", &access.endpoint),
                ("--region", &access.region),
            ] {
                if given.is_some() {
                    return Err(invalid(
                        format!("{flag} applies to s3:// repositories, and `{url}` is a directory"),
                        format!("leave out {flag}, or give the s3://BUCKET/PREFIX URL meant"),
                    ));
                }
            }
            crate::repo::Store::Dir(p)
        }
        Location::S3 { bucket, prefix } => {
            let endpoint = access.endpoint.clone().ok_or_else(|| {
                invalid(
                    "an S3 repository needs --endpoint",
                    "give the store's URL, e.g. --endpoint https://s3.eu-west-1.amazonaws.com or http://garage.lan:3900",
                )
            })?;
            if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
                return Err(invalid(
                    format!("the endpoint `{endpoint}` is not an http(s) URL"),
                    "give e.g. https://s3.eu-west-1.amazonaws.com",
                ));
            }
            let keys = access.keys.clone().ok_or_else(|| {
                invalid(
                    "no S3 credentials were given",
                    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --credentials-file",
                )
            })?;
            crate::repo::Store::S3(
                crate::repo::s3::Place {
                    endpoint,
                    region: access.region.clone().unwrap_or_else(|| "us-east-1".into()),
                    bucket,
                    prefix,
                },
                keys,
            )
        }
    })
}

/// What to do when a store does not answer as a repository would: a wrong region is said
/// as such (S3 answers it with a malformed-authorization or redirect error that does not
/// name the flag).
fn unreachable_fix(store: &crate::repo::Store, error: &str) -> String {
    let crate::repo::Store::S3(place, _) = store else {
        return "check the directory's path and permissions".into();
    };
    let lower = error.to_ascii_lowercase();
    let region_words = [
        "region",
        "authorizationheadermalformed",
        "permanentredirect",
    ];
    if region_words.iter().any(|w| lower.contains(w)) {
        return format!(
            "the bucket is not in region `{}`: give the store's region with --region (Garage: s3_region in garage.toml)",
            place.region
        );
    }
    "check the URL, the endpoint, the bucket and the credentials".into()
}

/// Whether `store` is the place of repository `other`, inside it, or holds it: two
/// repositories there would write over each other's files (and one's expiry remove the
/// other's packs).
fn same_place(store: &crate::repo::Store, other: &RepositoryRow) -> bool {
    let nested = |a: &Path, b: &Path| a.starts_with(b) || b.starts_with(a);
    match (store, parse_url(&other.url)) {
        (crate::repo::Store::Dir(p), Ok(Location::Dir(q))) => {
            // Through links, where the directories exist.
            let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            nested(&real(p), &real(&q)) || nested(p, &q)
        }
        (crate::repo::Store::S3(place, _), Ok(Location::S3 { bucket, prefix })) => {
            let host = |e: &str| e.trim_end_matches('/').to_ascii_lowercase();
            other.endpoint.as_deref().map(host) == Some(host(&place.endpoint))
                && place.bucket == bucket
                && nested(
                    Path::new(&format!("/{}", place.prefix)),
                    Path::new(&format!("/{prefix}")),
                )
        }
        _ => false,
    }
}

/// Adds repository `name` at `url`: a new one with a new key, or, with `imported_key`
/// (the contents of a key file from another home), the one already there, which that key
/// must open.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for a bad name, URL or access, a name taken, a store that is
/// not a repository (or already is one, without a key), or a key that does not open it.
pub fn add(
    ctx: &Ctx,
    name: &str,
    url: &str,
    access: &Access,
    imported_key: Option<&str>,
) -> Result<RepositoryView> {
    crate::control::base::names::check("repository", name)?;
    let store = store_for(url, access)?;
    let conn = ctx.catalog.conn();
    if rows::get(conn, name)?.is_some() {
        return Err(invalid(
            format!("repository `{name}` already exists"),
            "choose another name (`dbctl repository list`)",
        ));
    }
    for other in rows::list(conn)? {
        if same_place(&store, &other) {
            return Err(invalid(
                format!(
                    "repository `{}` is already at {url} (or holds it, or lies in it)",
                    other.name
                ),
                format!("use `{}`, or give a place of its own", other.name),
            ));
        }
    }
    let (key_name, s3_name, pass_name) = (key_file(name), s3_file(name), password_file(name));
    for f in [&key_name, &s3_name, &pass_name] {
        if ctx.secrets.has_file(f)? {
            return Err(invalid(
                format!(
                    "a secret for a repository named `{name}` is already kept at {}",
                    ctx.secrets.file(f).display()
                ),
                "choose another name, or move that file away if it is no longer needed",
            ));
        }
    }
    // Reachable, the bucket there, the keys taken: said before anything is made.
    let empty = crate::repo::is_empty(&store).map_err(|e| {
        let said = crate::repo::brief(&e);
        invalid(
            format!("{url} cannot be reached: {said}"),
            unreachable_fix(&store, &format!("{e:#}")),
        )
    })?;
    let (key, password, repo_id) = match imported_key {
        Some(k) => {
            if empty {
                return Err(invalid(
                    format!("there is no repository at {url}"),
                    "give the URL the home that made it shows (`dbctl repository show NAME`)",
                ));
            }
            let refused = |e: anyhow::Error| {
                invalid(
                    format!(
                        "the key does not open the repository at {url} ({})",
                        crate::repo::brief(&e)
                    ),
                    "give the file `dbctl repository export-key NAME FILE` wrote in the home that made it, or a restic password file",
                )
            };
            let (k, password) = crate::repo::key_for(&store, k).map_err(refused)?;
            let (id, _) = crate::repo::open(&store, &k).map_err(refused)?;
            (k, password, id)
        }
        None => {
            if !empty {
                return Err(invalid(
                    format!("{url} is not empty"),
                    "give an empty or new place, or add an existing repository with --key-file",
                ));
            }
            let made = matches!(&store, crate::repo::Store::Dir(p) if !p.exists());
            let k = crate::repo::new_key()?;
            let password = crate::secrets::generate();
            match crate::repo::init(&store, &k, &password) {
                Ok(id) => (k, Some(password), id),
                Err(e) => {
                    if let (true, crate::repo::Store::Dir(p)) = (made, &store) {
                        let _ = std::fs::remove_dir_all(p);
                    }
                    anyhow::bail!("making a repository at {url}: {}", crate::repo::brief(&e));
                }
            }
        }
    };
    ctx.secrets.create_file(&key_name, &key)?;
    let undo = || {
        ctx.secrets.remove_file(&key_name);
        ctx.secrets.remove_file(&s3_name);
        ctx.secrets.remove_file(&pass_name);
    };
    if let Some(p) = &password {
        if let Err(e) = ctx.secrets.create_file(&pass_name, p) {
            undo();
            return Err(e);
        }
    }
    if let crate::repo::Store::S3(_, keys) = &store {
        if let Err(e) = ctx
            .secrets
            .create_file(&s3_name, &serde_json::to_string(keys)?)
        {
            undo();
            return Err(e);
        }
    }
    let (endpoint, region) = match &store {
        crate::repo::Store::S3(p, _) => (Some(p.endpoint.clone()), Some(p.region.clone())),
        crate::repo::Store::Dir(_) => (None, None),
    };
    let row = RepositoryRow {
        id: 0,
        name: name.into(),
        url: url.into(),
        endpoint,
        region,
        repo_id,
        created_at: crate::catalog::now(),
    };
    if let Err(e) = rows::insert(conn, &row) {
        undo();
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

/// Writes the password of repository `name`'s restic key to `to` (0600, never over a file):
/// to keep apart from this machine and its catalog, for `restic --password-file` in a
/// disaster, or to add the repository in another home (`--key-file`). A repository made
/// before dbctl added restic keys gets one here, the first time.
///
/// # Errors
/// Unknown repository, a key this home cannot read, a repository that takes no new key, or
/// `to` cannot be written.
pub fn export_key(ctx: &Ctx, name: &str, to: &Path) -> Result<()> {
    let r = rows::get(ctx.catalog.conn(), name)?.ok_or_else(|| {
        invalid(
            format!("no repository named `{name}`"),
            "see `dbctl repository list`",
        )
    })?;
    let pass_name = password_file(name);
    let password = if ctx.secrets.has_file(&pass_name)? {
        ctx.secrets.read_file(&pass_name)?
    } else {
        let (store, key) = crate::repo::reach(&r, &ctx.secrets)?;
        let p = crate::secrets::generate();
        // Kept first: a key in the repository whose password nobody has is no use.
        ctx.secrets.create_file(&pass_name, &p)?;
        if let Err(e) = crate::repo::add_password(&store, &key, &p) {
            ctx.secrets.remove_file(&pass_name);
            anyhow::bail!(
                "adding a restic key to repository `{name}`: {}",
                crate::repo::brief(&e)
            );
        }
        p
    };
    crate::control::admin::team::write_out(to, &password)
}

/// The repository `name`, opened with its key (so a missing repository or key shows here).
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown name; the repository does not open.
pub fn show(ctx: &Ctx, name: &str) -> Result<RepositoryView> {
    let r = rows::get(ctx.catalog.conn(), name)?.ok_or_else(|| {
        invalid(
            format!("no repository named `{name}`"),
            "see `dbctl repository list`",
        )
    })?;
    let (store, key) = crate::repo::reach(&r, &ctx.secrets)?;
    let (id, version) = crate::repo::open(&store, &key).map_err(|e| {
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

fn named(ctx: &Ctx, name: &str) -> Result<RepositoryRow> {
    rows::get(ctx.catalog.conn(), name)?.ok_or_else(|| {
        invalid(
            format!("no repository named `{name}`"),
            "see `dbctl repository list`",
        )
    })
}

/// One instance's log shipping into a repository, for `check`.
#[derive(Debug, Clone, Serialize)]
pub struct Shipping {
    pub instance: String,
    pub logs_through: Option<String>,
    pub log_lag_secs: Option<i64>,
}

/// What `repository check` found: cheap checks, no data read.
#[derive(Debug, Clone, Serialize)]
pub struct CheckView {
    pub name: String,
    pub url: String,
    pub reachable: bool,
    pub key_opens: bool,
    pub writable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<u32>,
    pub backups: usize,
    pub last_backup_at: Option<String>,
    pub last_backup_age_secs: Option<i64>,
    pub shipping: Vec<Shipping>,
    /// What is wrong, when something is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Reachable, opens with its key, takes a write, its format, its newest backup's age and
/// each instance's log shipping lag; reads no data.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown name; the catalog fails.
pub fn check(ctx: &Ctx, name: &str) -> Result<CheckView> {
    let r = named(ctx, name)?;
    let conn = ctx.catalog.conn();
    let mut v = CheckView {
        name: r.name.clone(),
        url: r.url.clone(),
        reachable: false,
        key_opens: false,
        writable: false,
        format_version: None,
        backups: 0,
        last_backup_at: None,
        last_backup_age_secs: None,
        shipping: Vec::new(),
        problem: None,
    };
    let (store, key) = crate::repo::reach(&r, &ctx.secrets)?;
    match crate::repo::is_empty(&store) {
        Err(e) => v.problem = Some(format!("not reachable: {}", crate::repo::brief(&e))),
        Ok(_) => v.reachable = true,
    }
    if v.reachable {
        match crate::repo::open(&store, &key) {
            Ok((id, version)) if id == r.repo_id => {
                v.key_opens = true;
                v.format_version = Some(version);
                if version > 2 {
                    v.problem = Some(format!(
                        "format version {version} is newer than this dbctl reads (2)"
                    ));
                }
            }
            Ok((id, _)) => v.problem = Some(format!("it holds repository {id}, not {}", r.repo_id)),
            Err(e) => {
                v.problem = Some(format!(
                    "the key does not open it: {}",
                    crate::repo::brief(&e)
                ))
            }
        }
        match crate::repo::writable(&store) {
            Ok(()) => v.writable = true,
            Err(e) => {
                v.problem
                    .get_or_insert(format!("not writable: {}", crate::repo::brief(&e)));
            }
        }
    }
    let mine: Vec<_> = crate::catalog::backups::list(conn)?
        .into_iter()
        .filter(|b| {
            b.repository_id == r.id && b.status == crate::catalog::backups::status::AVAILABLE
        })
        .collect();
    v.backups = mine.len();
    v.last_backup_at = mine
        .iter()
        .filter_map(|b| {
            crate::catalog::snapshots::get(conn, b.snapshot_id)
                .ok()?
                .taken_at
        })
        .max();
    let now = time::OffsetDateTime::now_utc();
    v.last_backup_age_secs = v
        .last_backup_at
        .as_deref()
        .and_then(|t| crate::times::parse(t).map(|t| (now - t).whole_seconds()));
    for p in crate::catalog::backup_policies::all(conn)? {
        let inst = crate::catalog::instances::get(conn, p.instance_id)?;
        if p.repository_id != r.id || !crate::catalog::instances::is_live(&inst) {
            continue;
        }
        if let Some(o) = crate::control::offsite::shipping::offsite(ctx, &inst)? {
            v.shipping.push(Shipping {
                instance: inst.name.clone(),
                logs_through: o.logs_through,
                log_lag_secs: o.log_lag_secs,
            });
        }
    }
    Ok(v)
}

/// A damaged object, with the backups and log shipments it breaks.
#[derive(Debug, Clone, Serialize)]
pub struct Damage {
    pub object: String,
    pub problem: String,
    /// Backups (`dbctl backup list` ids) that can no longer be restored.
    pub backups: Vec<i64>,
    /// Instances whose shipped logs it breaks (their point-in-time window has a hole).
    pub logs_of: Vec<String>,
    /// Restic snapshots it breaks that this home does not know.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

/// What `repository verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyView {
    pub name: String,
    pub snapshots: usize,
    pub damaged: Vec<Damage>,
    pub warnings: Vec<String>,
}

/// Reads the whole repository back, checking every object, and says which backups and log
/// shipments each damaged one breaks.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown name; the repository does not open.
pub fn verify(ctx: &Ctx, name: &str) -> Result<VerifyView> {
    let r = named(ctx, name)?;
    let conn = ctx.catalog.conn();
    let (store, key) = crate::repo::reach(&r, &ctx.secrets)?;
    let found = crate::repo::verify::verify(&store, &key).map_err(|e| {
        anyhow::anyhow!(
            "repository `{name}` at {} cannot be read: {}",
            r.url,
            crate::repo::brief(&e)
        )
    })?;
    let backups: Vec<_> = crate::catalog::backups::list(conn)?
        .into_iter()
        .filter(|b| b.repository_id == r.id)
        .collect();
    let mut shipments: std::collections::BTreeMap<String, String> = Default::default();
    // (restic id, file) -> the instance whose shipped file it is.
    let mut shipped_files: std::collections::BTreeMap<(String, String), (i64, String)> =
        Default::default();
    for p in crate::catalog::backup_policies::all(conn)? {
        for inc in crate::control::restore::coverage::incarnations(
            ctx,
            &crate::catalog::instances::get(conn, p.instance_id)?,
        )? {
            for l in crate::catalog::repository_logs::list(conn, r.id, inc.id)? {
                shipments.insert(l.restic_id.clone(), inc.name.clone());
                shipped_files.insert((l.restic_id, l.file.name), (inc.id, inc.name.clone()));
            }
        }
    }
    // A shipped file that does not match its record is a hole: it leaves the repository's
    // listing (so no point past it is offered from there), and the next sweep ships it
    // again from its host if the copy there is intact.
    for b in &found.bad {
        let Some(file) = &b.log_file else { continue };
        for id in &b.breaks {
            if let Some((inst_id, inst_name)) = shipped_files.get(&(id.clone(), file.clone())) {
                crate::catalog::repository_logs::forget(
                    conn,
                    r.id,
                    *inst_id,
                    std::slice::from_ref(file),
                )?;
                crate::catalog::events::add(
                    conn,
                    Some((*inst_id, inst_name)),
                    None,
                    "log_damaged",
                    &format!(
                        "log file {file} of {inst_name} in repository {name} does not match the checksum recorded when it was archived: no longer counted as shipped; its restorable window there has a hole"
                    ),
                )?;
            }
        }
    }
    let damaged = found
        .bad
        .into_iter()
        .map(|b| {
            let mut d = Damage {
                object: b.object,
                problem: b.problem,
                backups: Vec::new(),
                logs_of: Vec::new(),
                other: Vec::new(),
            };
            for id in b.breaks {
                if let Some(k) = backups.iter().find(|k| k.restic_id.as_deref() == Some(&id)) {
                    d.backups.push(k.id);
                } else if let Some(i) = shipments.get(&id) {
                    if !d.logs_of.contains(i) {
                        d.logs_of.push(i.clone());
                    }
                } else {
                    d.other.push(id);
                }
            }
            d
        })
        .collect();
    Ok(VerifyView {
        name: r.name,
        snapshots: found.snapshots,
        damaged,
        warnings: found.warnings,
    })
}

/// Forgets repository `name` in this home: its backups leave the catalog; the repository and
/// its data stay where they are, and its key file is kept aside (renamed `.removed`), since
/// without it the repository can never be read again. Refused while a backup policy names
/// it.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown name or one in use; the catalog fails.
pub fn remove(ctx: &mut Ctx, name: &str) -> Result<RepositoryView> {
    let r = named(ctx, name)?;
    let conn = ctx.catalog.conn();
    let users: Vec<String> = crate::catalog::backup_policies::all(conn)?
        .into_iter()
        .filter(|p| p.repository_id == r.id)
        .filter_map(|p| crate::catalog::instances::get(conn, p.instance_id).ok())
        // A lost instance lives on only there.
        .filter(|i| {
            crate::catalog::instances::is_live(i)
                || i.status == crate::catalog::instances::status::LOST
        })
        .map(|i| i.name)
        .collect();
    if !users.is_empty() {
        return Err(invalid(
            format!("repository `{name}` is the backup repository of {}", users.join(", ")),
            "point their policies elsewhere first (`dbctl backup policy NAME --backup-repository OTHER`)",
        ));
    }
    let view = view(ctx, r.clone(), None);
    ctx.catalog.write(|tx| rows::forget(tx, r.id))?;
    for f in [key_file(name), s3_file(name), password_file(name)] {
        if ctx.secrets.has_file(&f)? {
            let to = format!("{f}.{}.removed", &r.repo_id[..r.repo_id.len().min(12)]);
            ctx.secrets.rename_file(&f, &to)?;
        }
    }
    Ok(view)
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
            "s3://B/prefix",
            "s3://bucket/../x",
            "s3://ab/x",
            "http://x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_url("s3://backups.example/db/prod/").unwrap(),
            Location::S3 {
                bucket: "backups.example".into(),
                prefix: "db/prod".into()
            }
        );
    }
}
