//! Statements run by dbhost on an instance's server: the `mariadb` client as the instance's
//! OS user over the server's unix socket, where the account install-db made for that user
//! logs in by its OS identity (unix_socket): no password exists to pass around.

use super::Mariadb;
use crate::agent::engine::HostCtx;
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// Runs `sql` (statements separated by `;`, sent on stdin, never on a command line) and
/// returns what they print, tab-separated, without column names.
///
/// # Errors
/// The client cannot run, or the server refuses a statement.
pub(super) fn run(host: &HostCtx, socket: &Path, sql: &str) -> Result<String> {
    let mut child = command(host, socket)?
        .spawn()
        .context("starting the mariadb client")?;
    let mut stdin = child.stdin.take().context("mariadb stdin")?;
    // A statement refused makes the client stop and exit non-zero.
    let wrote = stdin.write_all(sql.as_bytes());
    drop(stdin);
    let out = child
        .wait_with_output()
        .context("running the mariadb client")?;
    if !out.status.success() {
        bail!(
            "the server refused: {}",
            said(&String::from_utf8_lossy(&out.stderr))
        );
    }
    wrote.context("writing to the mariadb client")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// Runs `sql` as [`run`] does, for at most `deadline`: a liveness probe, which must come
/// back from a stalled server.
///
/// # Errors
/// The client cannot be started.
pub(super) fn probe(
    host: &HostCtx,
    socket: &Path,
    sql: &str,
    deadline: std::time::Duration,
) -> Result<crate::agent::engine::probe::Probed> {
    crate::agent::engine::probe::run_within(
        &mut command(host, socket)?,
        Some(sql.as_bytes()),
        deadline,
    )
    .context("starting the mariadb client")
}

/// The client as the instance's OS user on `socket`, statements on its stdin.
fn command(host: &HostCtx, socket: &Path) -> Result<std::process::Command> {
    let mut cmd = host
        .run_as
        .command(&Mariadb::bin(host.cfg, "mariadb")?, &host.layout.root);
    cmd.arg("--no-defaults")
        .arg("--protocol=socket")
        .arg(format!("--socket={}", socket.display()))
        .arg(format!("--user={}", host.run_as.name))
        .args(["--batch", "--skip-column-names", "--connect-timeout=10"])
        // Each answer at once (a pipe is otherwise written when the buffer fills), and never
        // a silent reconnect: what a session holds dies with it, and so must the client.
        .args(["--unbuffered", "--skip-reconnect"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(cmd)
}

/// A client session held open (the BACKUP STAGE locks belong to the session that took them):
/// statements go to its stdin one at a time, each followed by a marker it echoes back.
pub(super) struct Session {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    out: std::io::BufReader<std::process::ChildStdout>,
}

const END_MARK: &str = "__dbhost_end__";

impl Session {
    pub(super) fn open(host: &HostCtx, socket: &Path) -> Result<Self> {
        let mut child = command(host, socket)?
            .spawn()
            .context("starting the mariadb client")?;
        let stdin = child.stdin.take().context("mariadb stdin")?;
        let out = std::io::BufReader::new(child.stdout.take().context("mariadb stdout")?);
        Ok(Self { child, stdin, out })
    }

    /// Runs one statement in the session; returns what it printed.
    pub(super) fn ask(&mut self, sql: &str) -> Result<String> {
        use std::io::{BufRead, Read};
        writeln!(self.stdin, "{sql};\nSELECT '{END_MARK}';")
            .and_then(|_| self.stdin.flush())
            .context("writing to the mariadb client")?;
        let mut answer = String::new();
        loop {
            let mut line = String::new();
            if self.out.read_line(&mut line)? == 0 {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                bail!("the session ended: {}", said(&err));
            }
            if line.trim_end() == END_MARK {
                return Ok(answer.trim_end().to_string());
            }
            answer.push_str(&line);
        }
    }

    /// Ends the session (whatever it holds is released with it).
    pub(super) fn close(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

/// What the client said went wrong, on one line: its ERROR lines (it also echoes the
/// statement between rulers), else all it said.
pub(super) fn said(stderr: &str) -> String {
    let errors: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("ERROR"))
        .collect();
    if errors.is_empty() {
        stderr.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        errors.join("; ")
    }
}

/// The `mysql_native_password` hash of `password` (`*` and the hex of SHA1(SHA1(password))):
/// the server is given this, so no statement, log line or error can show the password.
pub(super) fn native_hash(password: &str) -> String {
    use sha1::{Digest, Sha1};
    let twice = Sha1::digest(Sha1::digest(password.as_bytes()));
    format!("*{}", hex::encode(twice).to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_hashes_have_the_servers_form() {
        // PASSWORD('password') on any MariaDB server.
        assert_eq!(
            native_hash("password"),
            "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
        );
    }
}
