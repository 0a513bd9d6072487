//! How dbctl reaches dbhost: a local subprocess or an SSH channel, behind one trait.

pub mod local;
pub mod pool;
pub mod ssh;

use crate::wire::{ErrorCode, Message, Request, WireError, PROTOCOL};
use serde_json::Value;
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long a host may take to answer a question (a read-only request, and an SSH
/// handshake): `[monitor] check_timeout_secs`, set when the configuration is read. A host
/// slower than that is not answering, for every command alike.
static QUESTION_MS: AtomicU64 = AtomicU64::new(10_000);

/// Sets how long a host may take to answer a question.
pub fn set_question_timeout(secs: u64) {
    QUESTION_MS.store(secs.max(1) * 1000, Ordering::Relaxed);
}

/// How long a host may take to answer a question, in milliseconds.
pub fn question_timeout_ms() -> u32 {
    QUESTION_MS.load(Ordering::Relaxed).min(u64::from(u32::MAX)) as u32
}

/// Why a call did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// dbhost answered with an error.
    #[error("{0}")]
    Remote(WireError),
    /// The host could not be reached or the conversation broke off: trying again may help.
    #[error("{0}")]
    Unreachable(String),
    /// The host answered but must not be used as it is (changed key, no dbhost, other protocol).
    #[error("{0}")]
    Refused(String),
}

impl CallError {
    pub fn is_transient(&self) -> bool {
        match self {
            CallError::Remote(w) => w.code.is_transient(),
            CallError::Unreachable(_) => true,
            CallError::Refused(_) => false,
        }
    }
}

pub trait Transport {
    /// Sends one request and returns dbhost's `ok` value; progress lines go to `progress`.
    ///
    /// # Errors
    /// [`CallError`]: dbhost's own error, a transport failure, or a host that must be refused.
    fn call(&self, request: &Request, progress: &mut dyn FnMut(&str)) -> Result<Value, CallError>;

    /// Starts a bulk op (export or import): the request goes first on its stdin, then the
    /// channel carries raw data; its answer comes on stderr when it ends.
    ///
    /// # Errors
    /// The host cannot be reached or refused.
    fn open_bulk(&self, request: &Request) -> Result<Box<dyn Bulk>, CallError>;
}

/// A bulk op in flight.
pub trait Bulk {
    /// The op's raw output (an export's stream).
    fn reader(&mut self) -> &mut dyn std::io::Read;
    /// The op's raw input (an import's stream).
    fn writer(&mut self) -> &mut dyn std::io::Write;
    /// Ends the raw input: the op sees end of stream.
    fn close_input(&mut self);
    /// Whether the op has already ended or sent its answer, without waiting: an import that
    /// refused what it was sent takes no more input, and writing on would only block.
    fn answered(&mut self) -> bool;
    /// Waits for the op to end and returns its answer.
    ///
    /// # Errors
    /// [`CallError`] as for [`Transport::call`].
    fn finish(self: Box<Self>, progress: &mut dyn FnMut(&str)) -> Result<Value, CallError>;
}

/// What a bulk op's input is once closed: writing fails, the op already has all it gets.
pub(crate) struct Closed;

impl std::io::Write for Closed {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The request as the first line of an op's stdin.
pub(crate) fn request_line(request: &Request) -> Result<Vec<u8>, CallError> {
    let mut body = serde_json::to_vec(request).map_err(|e| CallError::Refused(e.to_string()))?;
    body.push(b'\n');
    Ok(body)
}

/// Turns what a finished op said (its answer lines, exit status and stderr) into a result.
pub(crate) fn conclude(
    answer: Result<Option<Result<Value, WireError>>, CallError>,
    exit: Option<i32>,
    stderr: &str,
) -> Result<Value, CallError> {
    match answer? {
        Some(Ok(v)) => Ok(v),
        Some(Err(w)) => Err(CallError::Remote(w)),
        None => Err(no_result(exit, stderr)),
    }
}

/// Reads dbhost's JSON lines until the result. `Ok(None)`: the stream ended without one.
///
/// Lines that are not the protocol's are passed over: a host's login shell may print a
/// line of its own (a start-up script's complaint) around dbhost's answer. An answer that
/// never comes after such a line means the host does not speak the protocol at all.
pub(crate) fn read_answer(
    reader: impl BufRead,
    progress: &mut dyn FnMut(&str),
) -> Result<Option<Result<Value, WireError>>, CallError> {
    let mut foreign: Option<String> = None;
    for line in reader.lines() {
        let line =
            line.map_err(|e| CallError::Unreachable(format!("reading dbhost's answer: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(msg) = serde_json::from_str::<Message>(&line) else {
            foreign.get_or_insert_with(|| line.chars().take(200).collect());
            continue;
        };
        match msg {
            Message::Progress { message } | Message::Event { message } => progress(&message),
            Message::Result {
                ok,
                error,
                version,
                protocol,
                ..
            } => {
                if protocol != PROTOCOL
                    || error
                        .as_ref()
                        .is_some_and(|e| e.code == ErrorCode::ProtocolMismatch)
                {
                    return Err(CallError::Refused(format!(
                        "the host runs dbhost {version} speaking protocol {protocol}; this dbctl {} speaks protocol {PROTOCOL}: install the same release on both",
                        crate::wire::VERSION
                    )));
                }
                return Ok(Some(match error {
                    Some(e) => Err(e),
                    None => Ok(ok.unwrap_or(Value::Null)),
                }));
            }
        }
    }
    match foreign {
        Some(line) => Err(CallError::Refused(format!(
            "the host answered with something that is not dbhost's protocol: {line:?}"
        ))),
        None => Ok(None),
    }
}

/// The error for a dbhost that ended without a result, from its exit status and stderr.
pub(crate) fn no_result(exit: Option<i32>, stderr: &str) -> CallError {
    let stderr = stderr.trim();
    if exit == Some(127) || stderr.contains("command not found") || stderr.contains("No such file")
    {
        return CallError::Refused(format!(
            "dbhost is not installed where the host runs it ({}); install dbhost on the host (see README) and check the key's forced command",
            if stderr.is_empty() { "exit 127" } else { stderr }
        ));
    }
    CallError::Unreachable(format!(
        "dbhost ended without an answer (exit {}){}",
        exit.map(|c| c.to_string())
            .unwrap_or_else(|| "unknown".into()),
        if stderr.is_empty() {
            String::new()
        } else {
            format!(": {stderr}")
        }
    ))
}

/// The transport for a catalog host: local subprocess or SSH with its pinned key.
///
/// # Errors
/// An SSH host row without a pinned key or identity (a damaged catalog).
pub fn for_host(host: &crate::catalog::hosts::HostRow) -> Result<Box<dyn Transport>, CallError> {
    match host.transport.as_str() {
        "local" => Ok(Box::new(local::Local {
            dbhost: local::dbhost_path(),
            root: host.root.clone().unwrap_or_default().into(),
        })),
        _ => {
            let (Some(target), Some(pinned)) = ssh_target(host) else {
                return Err(CallError::Refused(format!(
                    "host {} has no pinned key or identity in the catalog; remove and add it again",
                    host.name
                )));
            };
            Ok(Box::new(ssh::Ssh {
                target,
                pinned,
                host_name: host.name.clone(),
            }))
        }
    }
}

/// Where an SSH host is reached and the key pinned for it, as the catalog records them.
pub fn ssh_target(
    host: &crate::catalog::hosts::HostRow,
) -> (Option<ssh::Target>, Option<ssh::HostKey>) {
    let target = match (&host.ssh_user, &host.identity) {
        (Some(user), Some(identity)) => Some(ssh::Target {
            address: host.address.clone(),
            port: host.port,
            user: user.clone(),
            identity: identity.into(),
        }),
        _ => None,
    };
    let pinned = match (&host.host_key_type, &host.host_key) {
        (Some(kind), Some(blob)) => Some(ssh::HostKey {
            kind: kind.clone(),
            blob: blob.clone(),
        }),
        _ => None,
    };
    (target, pinned)
}

/// How control reaches a host's dbhost: the real transports, or (in unit tests) a fake host.
pub trait Connector {
    /// # Errors
    /// The host's row cannot give a transport (a damaged catalog).
    fn connect(
        &self,
        host: &crate::catalog::hosts::HostRow,
    ) -> Result<Box<dyn Transport>, CallError>;
}

/// The real transports: a local subprocess, or SSH with the host's pinned key.
pub struct Transports;

impl Connector for Transports {
    fn connect(
        &self,
        host: &crate::catalog::hosts::HostRow,
    ) -> Result<Box<dyn Transport>, CallError> {
        for_host(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_progress_then_result() {
        let input = format!(
            "{}\n{{\"type\":\"result\",\"ok\":{{\"port\":7}},\"version\":\"0.1.0\",\"protocol\":{PROTOCOL}}}\n",
            r#"{"type":"progress","message":"initdb"}"#,
        );
        let mut seen = vec![];
        let r = read_answer(input.as_bytes(), &mut |m| seen.push(m.to_string())).unwrap();
        assert_eq!(seen, vec!["initdb"]);
        assert_eq!(r.unwrap().unwrap()["port"], 7);
    }

    #[test]
    fn refuses_other_protocols_and_garbage() {
        let other = r#"{"type":"result","ok":{},"version":"9.0.0","protocol":99}"#;
        assert!(
            matches!(read_answer(other.as_bytes(), &mut |_| {}), Err(CallError::Refused(m))
                if m.contains("dbhost 9.0.0 speaking protocol 99")
                    && m.contains(&format!("speaks protocol {PROTOCOL}")))
        );
        assert!(matches!(
            read_answer("Welcome!\n".as_bytes(), &mut |_| {}),
            Err(CallError::Refused(_))
        ));
        assert!(read_answer("".as_bytes(), &mut |_| {}).unwrap().is_none());
        // A shell's own line around the answer is passed over.
        let noisy = format!(
            "rm: cannot remove '/root/x': No such file or directory\n{{\"type\":\"result\",\"ok\":{{\"port\":7}},\"version\":\"0.1.0\",\"protocol\":{PROTOCOL}}}\n",
        );
        let r = read_answer(noisy.as_bytes(), &mut |_| {}).unwrap();
        assert_eq!(r.unwrap().unwrap()["port"], 7);
    }
}
