//! Reaching an instance's server as its admin: the connection, the client's option file, the URL.

use crate::catalog::hosts;
use crate::control::base::engines;
use crate::control::base::engines::ClientLogin;
use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::control::base::lookup;
use anyhow::Result;

/// How to reach an instance as its admin role.
pub struct Connection {
    pub engine: &'static crate::control::base::engines::EngineInfo,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
}

/// An in-memory file holding `text`, open without close-on-exec so that a client exec'd
/// next can read it by `/dev/fd/N`; it is gone when the client exits. Returns N.
fn option_file(text: &str) -> Result<i32> {
    use std::io::Write;
    use std::os::fd::{FromRawFd, IntoRawFd};
    let fd =
        nix::sys::memfd::memfd_create(c"dbctl-client", nix::sys::memfd::MemFdCreateFlag::empty())
            .map_err(|e| anyhow::anyhow!("making the client's option file: {e}"))?;
    // Made 0777; the client ignores an option file others could write.
    nix::sys::stat::fchmod(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| anyhow::anyhow!("making the client's option file private: {e}"))?;
    let raw = fd.into_raw_fd();
    // SAFETY: raw was just taken from an owned descriptor; the File only writes to it and
    // gives it back without closing it.
    let mut f = unsafe { std::fs::File::from_raw_fd(raw) };
    f.write_all(text.as_bytes())?;
    let _ = f.into_raw_fd();
    Ok(raw)
}

/// The admin connection to an instance.
///
/// # Errors
/// Unknown instance, one not yet available, or a missing secret.
pub fn connection(ctx: &Ctx, name: &str) -> Result<Connection> {
    let i = lookup::instance(ctx, name)?;
    let engine = engines::get(&i.engine)?;
    let host = i
        .host_id
        .map(|id| hosts::get(ctx.catalog.conn(), id))
        .transpose()?;
    let (Some(host), Some(port)) = (host, i.port) else {
        return Err(invalid(
            format!(
                "instance `{name}` has no endpoint yet (status {})",
                i.status
            ),
            "wait for its create workflow to finish",
        ));
    };
    Ok(Connection {
        engine,
        host: host.address,
        port,
        user: i.admin_user.clone(),
        password: ctx.secrets.get(&i.uid)?,
        database: engine.default_database.into(),
    })
}

/// A connection URL with the admin credentials.
///
/// # Errors
/// Unknown instance, one not yet available, or a missing secret.
pub fn url(ctx: &Ctx, name: &str) -> Result<String> {
    let c = connection(ctx, name)?;
    let host = if c.host.contains(':') {
        format!("[{}]", c.host)
    } else {
        c.host.clone()
    };
    Ok(format!(
        "{}://{}:{}@{host}:{}/{}",
        c.engine.url_scheme, c.user, c.password, c.port, c.database
    ))
}

impl Connection {
    /// The engine's client logged in as this connection, with `args` after the login; the
    /// credentials go in its environment or in an option file only it can read (a sealed
    /// in-memory file it inherits), never on its command line.
    ///
    /// # Errors
    /// The in-memory option file cannot be made.
    pub fn client_command(&self, args: &[String]) -> Result<std::process::Command> {
        let mut cmd = std::process::Command::new(self.engine.client);
        match self.engine.login {
            ClientLogin::Env([h, p, u, pw, db]) => {
                cmd.envs([
                    (h, self.host.clone()),
                    (p, self.port.to_string()),
                    (u, self.user.clone()),
                    (pw, self.password.clone()),
                    (db, self.database.clone()),
                ]);
            }
            ClientLogin::OptionFile => {
                // UTF-8 whatever the locale, as Debian's packaged client has it.
                let mut text = format!(
                    "[client]\nhost={}\nport={}\nuser={}\npassword={}\ndefault-character-set=utf8mb4\n",
                    self.host, self.port, self.user, self.password
                );
                if !self.database.is_empty() {
                    text += &format!("database={}\n", self.database);
                }
                let fd = option_file(&text)?;
                cmd.arg(format!("--defaults-extra-file=/dev/fd/{fd}"));
            }
        }
        cmd.args(args);
        Ok(cmd)
    }

    /// A PostgreSQL session on `database` (the connection's own when None).
    ///
    /// # Errors
    /// The server cannot be reached or refuses the login.
    pub fn pg_client(&self, database: Option<&str>) -> Result<postgres::Client> {
        let db = database.unwrap_or(&self.database);
        postgres::Config::new()
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(db)
            .connect_timeout(std::time::Duration::from_secs(10))
            .connect(postgres::NoTls)
            .map_err(|e| anyhow::anyhow!("connecting to {}:{} ({db}): {e}", self.host, self.port))
    }

    /// The engine's client's answer to `sql` in batch mode: one row a line, fields split at
    /// tabs (MariaDB).
    ///
    /// # Errors
    /// The client cannot run, or the server refuses the query (its message).
    pub fn client_rows(&self, sql: &str) -> Result<Vec<Vec<String>>> {
        let mut cmd = self.client_command(&[
            "--batch".into(),
            "--skip-column-names".into(),
            "-e".into(),
            sql.into(),
        ])?;
        let out = cmd
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| anyhow::anyhow!("running {}: {e}", self.engine.client))?;
        if !out.status.success() {
            anyhow::bail!(
                "the query failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect())
    }

    /// Whether the server has a database of that name.
    ///
    /// # Errors
    /// The server cannot be reached.
    pub fn has_database(&self, name: &str) -> Result<bool> {
        if self.engine.name == "postgres" {
            let mut c = self.pg_client(None)?;
            return Ok(c
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])?
                .is_some());
        }
        let literal = name.replace('\\', "\\\\").replace('\'', "''");
        let rows = self.client_rows(&format!(
            "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{literal}'"
        ))?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .is_some_and(|n| n != "0"))
    }
}
