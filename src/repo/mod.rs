//! The repository tier's storage format: a restic-format repository (through rustic_core),
//! encrypted with a key dbctl generates, compressed (zstd) and deduplicated by content, every
//! object named by its own SHA-256. It is written object by object and never rewritten in
//! place, so a write-once bucket can hold it, and restic or rustic can read it in a disaster.

use crate::agent::stream;
use crate::catalog::repositories::RepositoryRow;
use crate::secrets::Secrets;
use anyhow::{bail, Context, Result};
use rustic_core::repofile::MasterKey;
use rustic_core::repofile::{Node, NodeType};
use rustic_core::LsOptions;
use rustic_core::{
    ConfigOptions, Credentials, KeyOptions, OpenStatus, Repository, RepositoryBackends,
    RepositoryOptions,
};
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

pub mod backups;
pub mod logs;
pub mod private_dir;
pub mod s3;
pub mod source;
pub mod verify;

/// Where a repository's objects are.
#[derive(Debug, Clone)]
pub enum Store {
    /// A directory (made if missing).
    Dir(PathBuf),
    /// A bucket, with the keys to it.
    S3(s3::Place, s3::Keys),
}

/// The secret file that keeps repository `name`'s key.
pub fn key_file(name: &str) -> String {
    format!("repository-{name}.key")
}

/// The secret file that keeps the password of repository `name`'s restic key (what
/// `restic --password-file` takes).
pub fn password_file(name: &str) -> String {
    format!("repository-{name}.password")
}

/// The secret file that keeps an S3 repository's access keys.
pub fn s3_file(name: &str) -> String {
    format!("repository-{name}.s3")
}

/// Where an added repository is and its key, from its row and the home's secrets.
///
/// # Errors
/// Its key or access keys cannot be read, or its URL is not one `add` takes.
pub fn reach(row: &RepositoryRow, secrets: &Secrets) -> Result<(Store, String)> {
    let key = secrets
        .read_file(&key_file(&row.name))
        .with_context(|| format!("reading the key of repository `{}`", row.name))?;
    let store = if let Some(path) = row.url.strip_prefix("file://") {
        Store::Dir(PathBuf::from(path))
    } else if let Some(rest) = row.url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let keys = secrets
            .read_file(&s3_file(&row.name))
            .with_context(|| format!("reading the S3 keys of repository `{}`", row.name))?;
        Store::S3(
            s3::Place {
                endpoint: row.endpoint.clone().unwrap_or_default(),
                region: row.region.clone().unwrap_or_else(|| "us-east-1".into()),
                bucket: bucket.into(),
                prefix: prefix.trim_end_matches('/').into(),
            },
            serde_json::from_str(&keys).context("the repository's S3 keys")?,
        )
    } else {
        anyhow::bail!("repository `{}` has an unknown URL {}", row.name, row.url);
    };
    Ok((store, key))
}

/// rustic's error in one line: its most specific message (its errors print several
/// paragraphs: what failed, a message, details and causes, each with its own).
pub fn brief(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .iter()
        .rposition(|l| *l == "Message:")
        .and_then(|i| lines[i + 1..].iter().find(|l| !l.is_empty()))
        .or_else(|| lines.iter().find(|l| !l.is_empty()))
        .map_or_else(String::new, |l| l.to_string())
}

/// Whether `store` holds nothing at all (a directory that is missing or empty, a prefix
/// with no object).
///
/// # Errors
/// The store cannot be reached or listed (no such bucket, keys refused).
pub fn is_empty(store: &Store) -> Result<bool> {
    match store {
        Store::Dir(path) => Ok(std::fs::read_dir(path).map_or(true, |mut d| d.next().is_none())),
        Store::S3(place, keys) => Ok(s3::S3::new(place, keys)?.is_empty()?),
    }
}

/// A repository's key, as kept in the home's secrets (JSON).
pub fn new_key() -> Result<String> {
    Ok(serde_json::to_string(&MasterKey::new())?)
}

fn backends(store: &Store) -> Result<RepositoryBackends> {
    let be: Arc<dyn rustic_core::WriteBackend> = match store {
        Store::Dir(path) => Arc::new(
            private_dir::PrivateDir::new(path)
                .with_context(|| format!("opening {}", path.display()))?,
        ),
        Store::S3(place, keys) => Arc::new(s3::S3::new(place, keys)?),
    };
    Ok(RepositoryBackends::new(be, None))
}

fn credentials(key: &str) -> Result<Credentials> {
    let k: MasterKey = serde_json::from_str(key).context("the repository key is not readable")?;
    Ok(Credentials::Masterkey(k))
}

/// What a restic key dbctl adds says of itself (`restic key list`).
fn key_options() -> KeyOptions {
    KeyOptions::default()
        .hostname(Some("dbctl".to_string()))
        .username(Some("dbctl".to_string()))
        .with_created(true)
}

/// Makes a new, empty repository in `store` with `key`, and a restic key for `password` so
/// that restic itself opens it; returns its id.
///
/// # Errors
/// The store holds a repository already, or cannot be written.
pub fn init(store: &Store, key: &str, password: &str) -> Result<String> {
    match store {
        Store::Dir(path) => {
            std::fs::create_dir_all(path)
                .with_context(|| format!("creating {}", path.display()))?;
        }
        Store::S3(place, keys) => s3::S3::new(place, keys)?.check()?,
    }
    let repo = Repository::new(
        &RepositoryOptions::default().no_cache(true),
        &backends(store)?,
    )?
    .init(
        &credentials(key)?,
        &KeyOptions::default(),
        &ConfigOptions::default(),
    )?;
    repo.add_key(password, &key_options())?;
    Ok(repo.config().id.to_string())
}

/// Adds a restic key for `password` to the repository `key` opens (one made before dbctl
/// added restic keys at `repository add`).
///
/// # Errors
/// The repository does not open or takes no write.
pub fn add_password(store: &Store, key: &str, password: &str) -> Result<()> {
    opened(store, key)?.add_key(password, &key_options())?;
    Ok(())
}

/// The key (as kept in the home's secrets) that `text` stands for: a key file a home wrote
/// before, or the password of one of the repository's restic keys (`restic key add` makes
/// them too). Says which it was: `Some(password)` for a password.
///
/// # Errors
/// Neither opens the repository.
pub fn key_for(store: &Store, text: &str) -> Result<(String, Option<String>)> {
    let text = text.trim_end_matches(['\n', '\r']);
    if serde_json::from_str::<MasterKey>(text).is_ok() {
        opened(store, text)?;
        return Ok((text.to_string(), None));
    }
    if let Store::S3(place, keys) = store {
        s3::S3::new(place, keys)?.check()?;
    }
    let repo = Repository::new(
        &RepositoryOptions::default().no_cache(true),
        &backends(store)?,
    )?
    .open(&Credentials::Password(text.to_string()))?;
    Ok((serde_json::to_string(&repo.key())?, Some(text.to_string())))
}

/// Opens the repository in `store` with `key`; returns its id and format version.
///
/// # Errors
/// No repository there, or the key does not open it.
pub fn open(store: &Store, key: &str) -> Result<(String, u32)> {
    let repo = opened(store, key)?;
    Ok((repo.config().id.to_string(), repo.config().version))
}

/// The repository in `store`, opened with `key`.
///
/// # Errors
/// No repository there, or the key does not open it.
pub fn opened(store: &Store, key: &str) -> Result<Repository<OpenStatus>> {
    if let Store::S3(place, keys) = store {
        s3::S3::new(place, keys)?.check()?;
    }
    Ok(Repository::new(
        &RepositoryOptions::default().no_cache(true),
        &backends(store)?,
    )?
    .open(&credentials(key)?)?)
}

/// Writes the restic snapshot `id` to `out` as a stream (`agent::stream`): directories,
/// links, the files at the top (a snapshot's info and manifest, which an import needs
/// first), then the rest. Calls `moved` with the bytes so far.
///
/// # Errors
/// The backup is unknown, or a blob is missing or damaged (the stream is then left
/// without its end, so the receiver refuses it).
pub fn dump(
    store: &Store,
    key: &str,
    id: &str,
    out: &mut dyn Write,
    moved: &mut dyn FnMut(u64),
) -> Result<()> {
    let repo = opened(store, key)?.to_indexed()?;
    let snap = repo.get_snapshot_from_str(id, |_| true)?;
    let root = repo.node_from_snapshot_and_path(&snap, "")?;
    let mut nodes: Vec<(PathBuf, Node)> = repo
        .ls(&root, &LsOptions::default())?
        .collect::<Result<_, _>>()?;
    // The receiver needs the info and manifest before any data file.
    let top = |p: &Path| p.components().count() > 1;
    nodes.sort_by(|a, b| (top(&a.0), &a.0).cmp(&(top(&b.0), &b.0)));
    let name = |p: &Path| p.to_string_lossy().into_owned();
    let mode = |n: &Node| n.meta.mode.unwrap_or(0o600) & 0o7777;
    for (p, n) in nodes.iter().filter(|(_, n)| n.is_dir()) {
        stream::put_dir(out, &name(p), mode(n))?;
    }
    for (p, n) in &nodes {
        if let NodeType::Symlink { .. } = &n.node_type {
            let to = n.node_type.to_link();
            stream::put_link(out, &name(p), &to.to_string_lossy())?;
        }
    }
    let mut sent = 0u64;
    for (p, n) in nodes.iter().filter(|(_, n)| n.is_file()) {
        stream::put_file(out, &name(p), mode(n), n.meta.size)?;
        let mut counted = Counted { out, n: 0 };
        repo.dump(n, &mut counted).map_err(|e| {
            // Name the object: the pack of the first blob of the file that does not read.
            let object = n.content.iter().flatten().find_map(|id| {
                repo.get_blob_cached(
                    &rustic_core::BlobId::from(**id),
                    rustic_core::repofile::BlobType::Data,
                )
                .err()?;
                repo.get_index_entry(id)
                    .ok()
                    .map(|e| verify::pack_path(&e.pack))
            });
            let e = anyhow::Error::from(e);
            match object {
                Some(o) => anyhow::anyhow!(
                    "object {o} in the repository is damaged ({}), so {} cannot be restored",
                    brief(&e),
                    name(p)
                ),
                None => anyhow::anyhow!("reading {} from the repository: {}", name(p), brief(&e)),
            }
        })?;
        if counted.n != n.meta.size {
            bail!(
                "{} in the repository holds {} bytes, not {}",
                name(p),
                counted.n,
                n.meta.size
            );
        }
        sent += counted.n;
        moved(sent);
    }
    stream::put_end(out)
}

struct Counted<'a> {
    out: &'a mut dyn Write,
    n: u64,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let k = self.out.write(buf)?;
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The repository's restic snapshots labelled `label`, each with its description read as
/// `T` (others, and ones whose description does not read, are passed over), oldest first.
///
/// # Errors
/// The repository cannot be opened or read.
pub fn described<T: serde::de::DeserializeOwned>(
    store: &Store,
    key: &str,
    label: &str,
) -> Result<Vec<(String, T)>> {
    let repo = opened(store, key)?;
    let mut out: Vec<_> = repo
        .get_all_snapshots()?
        .into_iter()
        .filter(|s| s.label == label)
        .filter_map(|s| {
            let d: T = serde_json::from_str(s.description.as_deref()?).ok()?;
            Some((s.time.clone(), s.id.to_string(), d))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().map(|(_, id, d)| (id, d)).collect())
}

/// Whether the store takes a new object (one is written and removed again).
///
/// # Errors
/// It does not.
pub fn writable(store: &Store) -> Result<()> {
    match store {
        Store::Dir(path) => {
            let probe = path.join(format!(".dbctl-probe-{:016x}", rand::random::<u64>()));
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
                .with_context(|| format!("writing in {}", path.display()))?;
            std::fs::remove_file(&probe)?;
            Ok(())
        }
        Store::S3(place, keys) => Ok(s3::S3::new(place, keys)?.probe_write()?),
    }
}

/// Removes the repository's data no snapshot references any more. Packs are only marked at
/// first and deleted by a later prune (after 23 hours), and packs younger than an hour are
/// left alone, so a backup running meanwhile from another machine loses nothing.
///
/// # Errors
/// The repository cannot be read or written.
pub fn prune(store: &Store, key: &str) -> Result<()> {
    let repo = opened(store, key)?;
    let opts =
        rustic_core::PruneOptions::default().keep_pack(rustic_core::jiff::Span::new().hours(1));
    let plan = repo.prune_plan(&opts)?;
    repo.prune(&opts, plan)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_repository_opens_with_its_key_and_no_other() {
        let d = tempfile::tempdir().unwrap();
        let key = new_key().unwrap();
        let store = Store::Dir(d.path().join("r"));
        let id = init(&store, &key, "pass word").unwrap();
        let (again, version) = open(&store, &key).unwrap();
        assert_eq!((again, version), (id, 2));
        assert!(open(&store, &new_key().unwrap()).is_err());
        assert!(init(&store, &key, "x").is_err());
        // The restic key's password stands for the key; a wrong one opens nothing.
        assert_eq!(
            key_for(&store, "pass word\n").unwrap(),
            (key.clone(), Some("pass word".into()))
        );
        assert_eq!(key_for(&store, &key).unwrap(), (key.clone(), None));
        assert!(key_for(&store, "wrong").is_err());
        add_password(&store, &key, "second").unwrap();
        assert_eq!(key_for(&store, "second").unwrap().0, key);
    }

    #[test]
    fn a_directory_repository_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("r");
        init(&Store::Dir(root.clone()), &new_key().unwrap(), "p").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("data/ab")), 0o700);
        assert_eq!(mode(&root.join("config")), 0o600);
        let key = std::fs::read_dir(root.join("keys"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(mode(&key.path()), 0o600);
    }

    #[test]
    fn a_rustic_error_is_told_by_its_last_message() {
        let e = anyhow::anyhow!(
            "`rustic_core` failed.\n\nMessage:\nerror processing Config\n\nCaused by:\nx\n\nMessage:\nMAC check failed.\n"
        );
        assert_eq!(brief(&e), "MAC check failed.");
        assert_eq!(brief(&anyhow::anyhow!("plain")), "plain");
    }
}
