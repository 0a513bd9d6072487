//! Running engine commands as the unprivileged OS user that owns the database files.

use anyhow::{bail, Context, Result};
use nix::unistd::{Gid, Uid, User};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Who engine commands run as. When dbhost runs as root this is the configured user (a
/// database server refuses to run as root); otherwise it is dbhost's own user.
#[derive(Debug, Clone)]
pub struct RunAs {
    pub name: String,
    pub uid: Uid,
    pub gid: Gid,
    home: String,
    switch: bool,
}

impl RunAs {
    /// # Errors
    /// dbhost runs as root and the configured user does not exist.
    pub fn resolve(configured: &str) -> Result<Self> {
        let me = Uid::effective();
        if me.is_root() {
            let user = User::from_name(configured)
                .with_context(|| format!("looking up OS user {configured}"))?;
            let Some(u) = user else {
                bail!(
                    "OS user `{configured}` does not exist; create it (the engine package usually does) or set os_user in dbhost.toml"
                );
            };
            Ok(Self {
                name: u.name,
                uid: u.uid,
                gid: u.gid,
                home: u.dir.display().to_string(),
                switch: true,
            })
        } else {
            let u = User::from_uid(me)?.context("dbhost's own user has no passwd entry")?;
            Ok(Self {
                name: u.name,
                uid: u.uid,
                gid: u.gid,
                home: u.dir.display().to_string(),
                switch: false,
            })
        }
    }

    /// A command that will run as this user, in `cwd`, with a small clean environment.
    pub fn command(&self, program: &Path, cwd: &Path) -> Command {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LC_ALL", "C")
            .current_dir(cwd)
            .stdin(Stdio::null());
        if self.switch {
            cmd.uid(self.uid.as_raw()).gid(self.gid.as_raw());
        }
        cmd
    }

    /// Gives `path` itself to this user (no-op when dbhost is not root). A symlink is changed,
    /// never what it points to: a database superuser can plant links in its data directory.
    ///
    /// # Errors
    /// chown fails.
    pub fn chown(&self, path: &Path) -> Result<()> {
        if self.switch {
            std::os::unix::fs::lchown(path, Some(self.uid.as_raw()), Some(self.gid.as_raw()))
                .with_context(|| format!("chown {} to {}", path.display(), self.name))?;
        }
        Ok(())
    }
}

/// Runs `cmd`, returning its output, or an error carrying the tail of its stderr and stdout.
///
/// # Errors
/// The program cannot be started or exits non-zero.
pub fn run_checked(cmd: &mut Command, what: &str) -> Result<Output> {
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("starting {what}"))?;
    if !out.status.success() {
        bail!("{what} failed ({}): {}", out.status, tail(&out));
    }
    Ok(out)
}

/// The last lines of a command's stderr (or stdout when stderr is empty), for error messages.
pub fn tail(out: &Output) -> String {
    let text = if out.stderr.is_empty() {
        String::from_utf8_lossy(&out.stdout)
    } else {
        String::from_utf8_lossy(&out.stderr)
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}
