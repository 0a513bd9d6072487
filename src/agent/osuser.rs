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
    /// Whether commands switch to another user (dbhost runs as root): only then can each
    /// instance have an OS user of its own.
    pub fn switches(&self) -> bool {
        self.switch
    }

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

/// The OS user an instance's server runs as when dbhost runs as root: one of its own, so
/// that a database superuser who gets a shell (COPY ... TO PROGRAM) reaches nothing of
/// another instance. Named from a hash of the host root and the instance, so it is unique on
/// the machine and within the 32 characters a user name may have.
pub fn instance_user_name(root: &Path, instance: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{}\0{instance}", root.display()).as_bytes());
    format!("dbi_{}", &hex::encode(h)[..12])
}

/// What dbhost writes in the comment field of the users it makes: a user is only ever
/// reused or removed when it says this.
fn user_comment(instance: &str) -> String {
    format!("dbhost instance {instance}")
}

fn sbin(tool: &str) -> std::path::PathBuf {
    let p = Path::new("/usr/sbin").join(tool);
    if p.exists() {
        p
    } else {
        tool.into()
    }
}

/// Creates instance `instance`'s own OS user (and group) unless dbhost made it already: no
/// home, no login shell.
///
/// # Errors
/// A user of that name exists that dbhost did not make for this instance, or useradd fails.
pub fn ensure_instance_user(root: &Path, instance: &str) -> Result<RunAs> {
    let name = instance_user_name(root, instance);
    let comment = user_comment(instance);
    match User::from_name(&name)? {
        Some(u) if u.gecos.to_str().ok() == Some(comment.as_str()) => {}
        Some(_) => bail!(
            "OS user {name} exists but was not made by dbhost for instance {instance}; refusing to use it"
        ),
        None => {
            run_checked(
                Command::new(sbin("useradd"))
                    .args([
                        "--system",
                        "--user-group",
                        "--no-create-home",
                        "--home-dir",
                        "/nonexistent",
                        "--shell",
                        "/usr/sbin/nologin",
                        "--comment",
                        &comment,
                    ])
                    .arg(&name),
                "useradd",
            )?;
        }
    }
    RunAs::resolve(&name)
}

/// Removes the OS user dbhost made for `instance`, if there is one, after ending every
/// process it still has (a database superuser may have left some behind).
///
/// # Errors
/// userdel fails.
pub fn remove_instance_user(root: &Path, instance: &str) -> Result<()> {
    let name = instance_user_name(root, instance);
    if let Some(u) = User::from_name(&name)? {
        if u.gecos.to_str().ok() == Some(user_comment(instance).as_str()) {
            kill_processes_of(u.uid);
            run_checked(Command::new(sbin("userdel")).arg(&name), "userdel")?;
        }
    }
    Ok(())
}

/// Ends (SIGKILL) every process running as `uid`, which belongs to one instance alone:
/// nothing of a tenant's may outlive its server while dbhost works on its files.
pub fn kill_processes_of(uid: Uid) {
    if uid.is_root() {
        return;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        let owned = std::fs::read_to_string(e.path().join("status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
            })
            .is_some_and(|real| real == uid.as_raw().to_string());
        if owned {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
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
