//! dbctl's home directory (config.toml, catalog.db, secrets/) and the context commands share.

use crate::catalog::{Catalog, Location};
use crate::control::base::config::Config;
use crate::control::base::error::invalid;
use crate::secrets::Secrets;
use anyhow::{Context, Result};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Home {
    pub dir: PathBuf,
    /// The catalog asked for by --catalog or DBCTL_CATALOG (else config.toml's, else the
    /// SQLite file here).
    pub catalog: Option<Location>,
}

/// An opened home: what every operation works with.
pub struct Ctx {
    pub home: Home,
    pub catalog: Catalog,
    pub config: Config,
    pub secrets: Secrets,
}

impl Home {
    /// `flag_or_env` is --home, falling back to $DBCTL_HOME (clap merges the two); else
    /// $XDG_DATA_HOME/dbctl, else ~/.local/share/dbctl.
    pub fn resolve(flag_or_env: Option<PathBuf>) -> Self {
        let dir = flag_or_env.unwrap_or_else(|| {
            let base = std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
                .unwrap_or_else(|| PathBuf::from("/var/lib"));
            base.join("dbctl")
        });
        Self { dir, catalog: None }
    }

    /// Where the catalog is: as asked, else config.toml's `catalog`, else the file here.
    pub fn catalog_location(&self, config: &Config) -> Location {
        self.catalog
            .clone()
            .or_else(|| config.catalog.as_deref().map(Location::parse))
            .unwrap_or_else(|| Location::File(self.catalog_path()))
    }

    pub fn catalog_path(&self) -> PathBuf {
        self.dir.join("catalog.db")
    }
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    /// Creates the home (mode 0700) and its catalog.
    ///
    /// # Errors
    /// The directory or catalog cannot be created.
    pub fn create(&self) -> Result<Ctx> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        let config = Config::load(&self.config_path())?;
        let location = self.catalog_location(&config);
        Ok(Ctx {
            home: self.clone(),
            catalog: location.create()?,
            secrets: self.secrets_for(&location)?,
            config,
        })
    }

    /// Opens an initialized home.
    ///
    /// # Errors
    /// [`crate::control::base::error::Invalid`] when `dbctl init` was not run here; catalog or config errors.
    pub fn open(&self) -> Result<Ctx> {
        let config = Config::load(&self.config_path())?;
        let location = self.catalog_location(&config);
        let missing = match &location {
            Location::File(path) => {
                (!path.exists()).then(|| format!("no dbctl catalog at {}", path.display()))
            }
            // A shared catalog is there for everyone; this machine's home must be too.
            Location::Postgres(_) => {
                (!self.dir.is_dir()).then(|| format!("no dbctl home at {}", self.dir.display()))
            }
        };
        if let Some(what) = missing {
            return Err(invalid(
                what,
                "run `dbctl init` first (or point --home / DBCTL_HOME at an initialized home)",
            ));
        }
        crate::transport::set_question_timeout(config.monitor.check_timeout_secs);
        Ok(Ctx {
            home: self.clone(),
            catalog: location.open()?,
            secrets: self.secrets_for(&location)?,
            config,
        })
    }

    /// The secrets of a catalog at `location`: files here, or sealed in a shared catalog
    /// (through a connection of their own).
    fn secrets_for(&self, location: &Location) -> Result<Secrets> {
        Ok(match location {
            Location::File(_) => Secrets::new(&self.dir),
            Location::Postgres(url) => {
                Secrets::shared(&self.dir, crate::catalog::db::Conn::postgres(url)?)
            }
        })
    }
}
