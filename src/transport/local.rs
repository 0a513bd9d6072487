//! The local transport: dbhost as a subprocess of dbctl on this machine, no SSH.

use super::{conclude, read_answer, request_line, Bulk, CallError, Transport};
use crate::wire::Request;
use serde_json::Value;
use std::io::{BufReader, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub struct Local {
    pub dbhost: PathBuf,
    pub root: PathBuf,
}

/// The dbhost binary to run: $DBCTL_DBHOST, else next to the running dbctl, else PATH.
pub fn dbhost_path() -> PathBuf {
    if let Some(p) = std::env::var_os(crate::env::DBCTL_DBHOST) {
        return PathBuf::from(p);
    }
    if let Ok(me) = std::env::current_exe() {
        let sibling = me.with_file_name("dbhost");
        if sibling.exists() {
            return sibling;
        }
    }
    PathBuf::from("dbhost")
}

impl Local {
    fn spawn(&self) -> Result<Child, CallError> {
        Command::new(&self.dbhost)
            .arg("--root")
            .arg(&self.root)
            .arg("rpc")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a Ctrl-C meant for dbctl must not kill a step mid-way.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                CallError::Refused(format!(
                    "cannot run dbhost at {}: {e}; install dbhost next to dbctl or set {}",
                    self.dbhost.display(),
                    crate::env::DBCTL_DBHOST
                ))
            })
    }
}

impl Transport for Local {
    fn call(&self, request: &Request, progress: &mut dyn FnMut(&str)) -> Result<Value, CallError> {
        let mut child = self.spawn()?;
        {
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin
                .write_all(&request_line(request)?)
                .map_err(|e| CallError::Unreachable(format!("writing to dbhost: {e}")))?;
        }
        let mut stderr = child.stderr.take().expect("piped stderr");
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let answer = read_answer(BufReader::new(stdout), progress);
        let status = child
            .wait()
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        let stderr_text = err_reader.join().unwrap_or_default();
        conclude(answer, status.code(), &stderr_text)
    }

    fn open_bulk(&self, request: &Request) -> Result<Box<dyn Bulk>, CallError> {
        let mut child = self.spawn()?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        // A stream moves in pieces up to the pipe's size: 1 MiB (Linux's default ceiling for
        // users) instead of 64 KiB saves most of the switching between the two processes.
        for fd in [
            stdin.as_fd(),
            child.stdout.as_ref().expect("piped stdout").as_fd(),
        ] {
            let _ = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
        }
        stdin
            .write_all(&request_line(request)?)
            .map_err(|e| CallError::Unreachable(format!("writing to dbhost: {e}")))?;
        let stdout = child.stdout.take().expect("piped stdout");
        Ok(Box::new(LocalBulk {
            child,
            stdin: Some(stdin),
            stdout,
            closed: super::Closed,
        }))
    }
}

struct LocalBulk {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    closed: super::Closed,
}

impl Bulk for LocalBulk {
    fn reader(&mut self) -> &mut dyn Read {
        &mut self.stdout
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self.stdin.as_mut() {
            Some(s) => s,
            None => &mut self.closed,
        }
    }

    fn close_input(&mut self) {
        self.stdin = None;
    }

    fn answered(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    fn finish(mut self: Box<Self>, progress: &mut dyn FnMut(&str)) -> Result<Value, CallError> {
        self.stdin = None;
        // Drain what is left of the raw output so the op can exit, then read its answer.
        let _ = std::io::copy(&mut self.stdout, &mut std::io::sink());
        let stderr = self.child.stderr.take().expect("piped stderr");
        let answer = read_answer(BufReader::new(stderr), progress);
        let status = self
            .child
            .wait()
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        conclude(answer, status.code(), "")
    }
}
