//! A psql session held open as the instance's OS user, for statements that must share one
//! session (the low-level backup API) or run as the admin role without a password.

use super::Postgres;
use crate::agent::engine::HostCtx;
use crate::agent::layout::InstanceMeta;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

/// A psql session held open as the OS user (peer auth maps it to the admin role): the
/// low-level backup API needs its start and stop in one session.
pub(super) struct Session {
    child: Child,
    stdin: ChildStdin,
    out: BufReader<ChildStdout>,
}

const END_MARK: &str = "__dbhost_end__";

impl Session {
    pub(super) fn open(host: &HostCtx, meta: &InstanceMeta) -> Result<Self> {
        let mut cmd = host
            .run_as
            .command(&Postgres::bin(host, "psql")?, &host.layout.root);
        cmd.env("PGCONNECT_TIMEOUT", "10")
            .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&host.sockets)
            .arg("-p")
            .arg(meta.port.to_string())
            .args(["-U", &meta.admin_user, "-d", "postgres"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("starting psql")?;
        let stdin = child.stdin.take().context("psql stdin")?;
        let out = BufReader::new(child.stdout.take().context("psql stdout")?);
        Ok(Self { child, stdin, out })
    }

    /// Runs one statement and returns its output (without trailing newline).
    pub(super) fn ask(&mut self, sql: &str) -> Result<String> {
        writeln!(self.stdin, "{sql};\n\\echo {END_MARK}")
            .and_then(|_| self.stdin.flush())
            .context("writing to psql")?;
        let mut answer = String::new();
        loop {
            let mut line = String::new();
            if self.out.read_line(&mut line)? == 0 {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                bail!("psql ended: {}", err.trim());
            }
            if line.trim_end() == END_MARK {
                return Ok(answer.trim_end().to_string());
            }
            answer.push_str(&line);
        }
    }

    pub(super) fn close(mut self) {
        let _ = writeln!(self.stdin, "\\q");
        drop(self.stdin);
        let _ = self.child.wait();
    }
}
