//! Secrets dbctl keeps (instance admin passwords, repository keys): 0600 files under a 0700
//! folder in the home; with a PostgreSQL catalog a team shares, rows in its `secrets` table,
//! each sealed (ChaCha20-Poly1305, bound to its name) with the team key that every control
//! machine's home holds (`secrets/catalog.key`, 0600) and the catalog never sees.

use anyhow::{Context, Result};
use rand::distributions::Alphanumeric;
use rand::Rng;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub struct Secrets {
    dir: PathBuf,
    /// The shared catalog's own connection for its secrets, when there is one.
    shared: Option<crate::catalog::db::Conn>,
}

/// The team key's file in a home's secrets folder.
pub const TEAM_KEY: &str = "catalog.key";
const CHECK_PLAINTEXT: &str = "dbctl team key";

/// A new random password: 32 alphanumeric characters (no quoting needed anywhere).
pub fn generate() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

impl Secrets {
    pub fn new(home: &Path) -> Self {
        Self {
            dir: home.join("secrets"),
            shared: None,
        }
    }

    /// Secrets kept sealed in the shared catalog `conn` reaches.
    pub fn shared(home: &Path, conn: crate::catalog::db::Conn) -> Self {
        Self {
            dir: home.join("secrets"),
            shared: Some(conn),
        }
    }

    /// Whether they live in a shared catalog.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The team key this home holds.
    ///
    /// # Errors
    /// [`crate::control::base::error::Invalid`] saying how to import it, when this home has none.
    pub fn team_key(&self) -> Result<[u8; 32]> {
        let p = self.file(TEAM_KEY);
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(crate::control::base::error::invalid(
                    "this machine has no key for the shared catalog's secrets",
                    "on a machine that has it run `dbctl catalog key export FILE`, copy FILE here, then `dbctl catalog key import FILE`",
                ))
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
        };
        decode_key(text.trim()).with_context(|| format!("{} is not a team key", p.display()))
    }

    fn sealed_get(&self, conn: &crate::catalog::db::Conn, name: &str) -> Result<Option<String>> {
        let Some(sealed) =
            conn.query_opt("SELECT sealed FROM secrets WHERE name = ?1", [name], |r| {
                r.get::<String>(0)
            })?
        else {
            return Ok(None);
        };
        open(&self.team_key()?, name, &sealed).map(Some)
    }

    fn sealed_put(&self, conn: &crate::catalog::db::Conn, name: &str, value: &str) -> Result<()> {
        let sealed = seal(&self.team_key()?, name, value)?;
        conn.execute(
            "INSERT INTO secrets (name, sealed) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed",
            [name, sealed.as_str()],
        )?;
        Ok(())
    }

    /// Makes the team key for a shared catalog that has none yet, or checks that this
    /// home's key is the catalog's (`init` on a shared catalog).
    ///
    /// # Errors
    /// The key is not the catalog's, or it cannot be written.
    pub fn ensure_team_key(&self) -> Result<KeyState> {
        let Some(conn) = &self.shared else {
            return Ok(KeyState::NotShared);
        };
        let check: Option<String> = conn.query_opt(
            "SELECT sealed FROM catalog_key_check WHERE id = 1",
            [],
            |r| r.get(0),
        )?;
        let have = self.file(TEAM_KEY).exists();
        match (check, have) {
            (None, _) => {
                // The first home on this catalog makes the key (or brings the one it has).
                let key = if have {
                    self.team_key()?
                } else {
                    let key: [u8; 32] = rand::random();
                    self.create_file(TEAM_KEY, &encode_key(&key))?;
                    key
                };
                conn.execute(
                    "INSERT INTO catalog_key_check (id, sealed) VALUES (1, ?1) ON CONFLICT (id) DO NOTHING",
                    [seal(&key, "check", CHECK_PLAINTEXT)?],
                )?;
                Ok(KeyState::Made)
            }
            (Some(c), true) => {
                check_key(&self.team_key()?, &c)?;
                Ok(KeyState::Held)
            }
            (Some(_), false) => Ok(KeyState::Missing),
        }
    }

    /// Undoes [`ensure_team_key`](Self::ensure_team_key)'s `Made` when the init that made it
    /// failed: the catalog keeps no check of a key that only a removed home held, which would
    /// lock every later home out of its secrets.
    ///
    /// # Errors
    /// The catalog cannot be written.
    pub fn unmake_team_key(&self) -> Result<()> {
        let Some(conn) = &self.shared else {
            return Ok(());
        };
        let sealed: i64 = conn.query_row("SELECT count(*) FROM secrets", [], |r| r.get(0))?;
        // Something was sealed with it meanwhile: it is in use, and stays.
        if sealed == 0 {
            conn.execute("DELETE FROM catalog_key_check WHERE id = 1", [])?;
        }
        Ok(())
    }

    /// Writes `key` (from `catalog key export` on another machine) as this home's team key,
    /// after checking that it opens the catalog's secrets.
    ///
    /// # Errors
    /// It is not a key, not this catalog's, or this home has another one already.
    pub fn import_team_key(&self, text: &str) -> Result<()> {
        let Some(conn) = &self.shared else {
            return Err(crate::control::base::error::invalid(
                "this home's catalog is its own SQLite file, which needs no team key",
                "set DBCTL_CATALOG (or config.toml's `catalog`) to the shared catalog first",
            ));
        };
        let key = decode_key(text.trim()).map_err(|_| {
            crate::control::base::error::invalid(
                "that file is not a team key",
                "give the file `dbctl catalog key export` wrote",
            )
        })?;
        if let Some(c) = conn.query_opt(
            "SELECT sealed FROM catalog_key_check WHERE id = 1",
            [],
            |r| r.get::<String>(0),
        )? {
            check_key(&key, &c)?;
        }
        if self.file(TEAM_KEY).exists() {
            if self.team_key()? == key {
                return Ok(());
            }
            return Err(crate::control::base::error::invalid(
                format!(
                    "this home has another team key at {}",
                    self.file(TEAM_KEY).display()
                ),
                "move it away first if it is no longer needed",
            ));
        }
        self.create_file(TEAM_KEY, &encode_key(&key))
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.password"))
    }

    /// Where the secret file `file` is (a repository key, which a user copies to another
    /// control machine).
    pub fn file(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Writes the secret file `file` (0600), never over one that exists.
    ///
    /// # Errors
    /// It exists, or the folder or file cannot be written.
    pub fn create_file(&self, file: &str, value: &str) -> Result<()> {
        if let (Some(conn), false) = (&self.shared, file == TEAM_KEY) {
            if self.sealed_get(conn, &format!("file:{file}"))?.is_some() {
                anyhow::bail!("the shared catalog keeps a secret `{file}` already");
            }
            return self.sealed_put(conn, &format!("file:{file}"), value);
        }
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        self.make_dir()?;
        let p = self.file(file);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&p)
            .with_context(|| format!("creating {}", p.display()))?;
        f.write_all(value.as_bytes())?;
        f.sync_all()?;
        Ok(())
    }

    fn make_dir(&self) -> Result<()> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        Ok(())
    }

    /// The secret file `file`'s contents.
    ///
    /// # Errors
    /// It is not there, or cannot be read or opened.
    pub fn read_file(&self, file: &str) -> Result<String> {
        if let Some(conn) = &self.shared {
            return self
                .sealed_get(conn, &format!("file:{file}"))?
                .ok_or_else(|| anyhow::anyhow!("the shared catalog keeps no secret `{file}`"));
        }
        let p = self.file(file);
        std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
    }

    /// Whether the secret file `file` is kept.
    ///
    /// # Errors
    /// The shared catalog cannot be read.
    pub fn has_file(&self, file: &str) -> Result<bool> {
        match &self.shared {
            Some(conn) => Ok(conn
                .query_opt(
                    "SELECT 1 FROM secrets WHERE name = ?1",
                    [format!("file:{file}")],
                    |r| r.get::<i64>(0),
                )?
                .is_some()),
            None => Ok(self.file(file).exists()),
        }
    }

    /// Keeps the secret file `file` as `to` (a removed repository's key, kept).
    ///
    /// # Errors
    /// It cannot be moved.
    pub fn rename_file(&self, file: &str, to: &str) -> Result<()> {
        if let Some(conn) = &self.shared {
            conn.execute(
                "UPDATE secrets SET name = ?2 WHERE name = ?1",
                [format!("file:{file}"), format!("file:{to}")],
            )?;
            return Ok(());
        }
        if self.file(file).exists() {
            std::fs::rename(self.file(file), self.file(to))?;
        }
        Ok(())
    }

    /// Drops the secret file `file` (a repository that was never made).
    pub fn remove_file(&self, file: &str) {
        match &self.shared {
            Some(conn) => {
                let _ = conn.execute(
                    "DELETE FROM secrets WHERE name = ?1",
                    [format!("file:{file}")],
                );
            }
            None => {
                let _ = std::fs::remove_file(self.file(file));
            }
        }
    }

    /// # Errors
    /// The folder or file cannot be written.
    pub fn put(&self, key: &str, value: &str) -> Result<()> {
        if let Some(conn) = &self.shared {
            return self.sealed_put(conn, &format!("password:{key}"), value);
        }
        self.make_dir()?;
        crate::fsutil::write_atomic(&self.path(key), value.as_bytes(), 0o600)
    }

    /// # Errors
    /// No secret is stored under `key`.
    pub fn get(&self, key: &str) -> Result<String> {
        if let Some(conn) = &self.shared {
            return self
                .sealed_get(conn, &format!("password:{key}"))?
                .ok_or_else(|| anyhow::anyhow!("the shared catalog keeps no password for {key}"));
        }
        let p = self.path(key);
        std::fs::read_to_string(&p).with_context(|| format!("reading the secret {}", p.display()))
    }

    pub fn remove(&self, key: &str) {
        match &self.shared {
            Some(conn) => {
                let _ = conn.execute(
                    "DELETE FROM secrets WHERE name = ?1",
                    [format!("password:{key}")],
                );
            }
            None => {
                let _ = std::fs::remove_file(self.path(key));
            }
        }
    }
}

/// Where a home stands with a shared catalog's team key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Its catalog is its own SQLite file.
    NotShared,
    /// It made the catalog's key (the first home on it).
    Made,
    /// It holds the catalog's key.
    Held,
    /// The catalog has a key this home does not hold yet.
    Missing,
}

fn encode_key(key: &[u8; 32]) -> String {
    use base64::Engine;
    format!(
        "dbctl-team-key-v1:{}\n",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

fn decode_key(text: &str) -> Result<[u8; 32]> {
    use base64::Engine;
    let b64 = text
        .strip_prefix("dbctl-team-key-v1:")
        .ok_or_else(|| anyhow::anyhow!("not a dbctl team key"))?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim())?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("a team key is 32 bytes"))
}

/// `value` sealed with `key`, bound to `name` (a row moved to another name does not open).
fn seal(key: &[u8; 32], name: &str, value: &str) -> Result<String> {
    use base64::Engine;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(key.into());
    let nonce: [u8; 12] = rand::random();
    let sealed = cipher
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: value.as_bytes(),
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| anyhow::anyhow!("sealing the secret {name}"))?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// The value `seal` sealed.
fn open(key: &[u8; 32], name: &str, sealed: &str) -> Result<String> {
    use base64::Engine;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let raw = base64::engine::general_purpose::STANDARD.decode(sealed)?;
    if raw.len() < 12 {
        anyhow::bail!("the secret {name} in the catalog is damaged");
    }
    let (nonce, body) = raw.split_at(12);
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(key.into());
    let plain = cipher
        .decrypt(
            nonce.into(),
            Payload {
                msg: body,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| {
            anyhow::anyhow!(
                "the secret {name} does not open with this home's team key (another catalog's key, or a damaged secret)"
            )
        })?;
    Ok(String::from_utf8(plain)?)
}

fn check_key(key: &[u8; 32], check: &str) -> Result<()> {
    match open(key, "check", check) {
        Ok(v) if v == CHECK_PLAINTEXT => Ok(()),
        _ => Err(crate::control::base::error::invalid(
            "that team key is not this catalog's",
            "export the key from a machine that uses this catalog (`dbctl catalog key export FILE`)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_with_their_key_and_name_only() {
        let key: [u8; 32] = rand::random();
        let sealed = seal(&key, "password:db-1", "s3cret").unwrap();
        assert!(!sealed.contains("s3cret"));
        assert_eq!(open(&key, "password:db-1", &sealed).unwrap(), "s3cret");
        assert!(open(&key, "password:db-2", &sealed).is_err());
        assert!(open(&rand::random(), "password:db-1", &sealed).is_err());
        assert_eq!(decode_key(encode_key(&key).trim()).unwrap(), key);
    }
}
