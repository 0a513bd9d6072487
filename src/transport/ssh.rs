//! The SSH transport (ssh2): public-key auth, pinned host keys, `dbhost rpc` on the far side.
//!
//! The command sent is fixed; the host's key may force it (`command="dbhost --root … rpc"`).
//! Request data travels only on the channel's stdin, never on a command line.

use super::pool;
use super::{conclude, read_answer, request_line, Bulk, CallError, Closed, Transport};
use crate::wire::Request;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use ssh2::{Channel, HostKeyType, Session};
use std::io::{BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// The command run on the host when its key does not force one.
pub const REMOTE_COMMAND: &str = "dbhost rpc";

#[derive(Debug, Clone)]
pub struct Target {
    pub address: String,
    pub port: u16,
    pub user: String,
    pub identity: PathBuf,
}

/// A host's public key as pinned in the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct HostKey {
    pub kind: String,
    /// The key blob, base64.
    pub blob: String,
}

impl HostKey {
    /// OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of the blob's digest.
    pub fn fingerprint(&self) -> String {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&self.blob)
            .unwrap_or_default();
        let digest = Sha256::digest(raw);
        format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
        )
    }
}

fn kind_name(t: HostKeyType) -> &'static str {
    match t {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Unknown => "unknown",
    }
}

/// Opens a session and completes the key exchange; returns the key the host offered.
fn handshake(t: &Target) -> Result<(Session, HostKey), CallError> {
    let where_ = format!("{}:{}", t.address, t.port);
    let addr = (t.address.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| CallError::Unreachable(format!("cannot resolve {where_}: {e}")))?
        .next()
        .ok_or_else(|| CallError::Unreachable(format!("{where_} resolves to no address")))?;
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| CallError::Unreachable(format!("cannot connect to {where_}: {e}")))?;
    // Requests and answers are small messages each waiting on the other: unbatched, or each
    // would wait out the peer's delayed acknowledgement.
    let _ = tcp.set_nodelay(true);
    let mut sess = Session::new().map_err(|e| CallError::Unreachable(e.to_string()))?;
    sess.set_tcp_stream(tcp);
    // A live sshd completes the exchange in milliseconds; one that does not answer in the
    // question timeout is not answering (a frozen one accepts the connection and says
    // nothing).
    sess.set_timeout(super::question_timeout_ms());
    sess.handshake()
        .map_err(|e| CallError::Unreachable(format!("SSH handshake with {where_} failed: {e}")))?;
    let (blob, kind) = sess
        .host_key()
        .ok_or_else(|| CallError::Unreachable(format!("{where_} offered no host key")))?;
    let key = HostKey {
        kind: kind_name(kind).to_string(),
        blob: base64::engine::general_purpose::STANDARD.encode(blob),
    };
    Ok((sess, key))
}

/// Connects once to learn the host's key, for pinning on first contact.
///
/// # Errors
/// The host cannot be reached or the handshake fails.
pub fn probe_key(t: &Target) -> Result<HostKey, CallError> {
    handshake(t).map(|(_, k)| k)
}

pub struct Ssh {
    pub target: Target,
    pub pinned: HostKey,
    /// A name for messages.
    pub host_name: String,
}

impl Ssh {
    fn session(&self) -> Result<Session, CallError> {
        let (sess, offered) = handshake(&self.target)?;
        if offered != self.pinned {
            return Err(CallError::Refused(format!(
                "the host key of {} ({}:{}) changed: pinned {} {}, offered {} {}; if the host was reinstalled, verify the new key out of band, then `dbctl host refresh {} --accept-new-key` pins it",
                self.host_name,
                self.target.address,
                self.target.port,
                self.pinned.kind,
                self.pinned.fingerprint(),
                offered.kind,
                offered.fingerprint(),
                self.host_name
            )));
        }
        sess.userauth_pubkey_file(&self.target.user, None, &self.target.identity, None)
            .map_err(|e| {
                CallError::Refused(format!(
                    "SSH authentication as {} with {} was refused by {}: {e}; install the key's public half in the host's authorized_keys",
                    self.target.user,
                    self.target.identity.display(),
                    self.host_name
                ))
            })?;
        Ok(sess)
    }
}

impl Ssh {
    /// What a kept session must have been opened for to serve this host's calls.
    fn pool_key(&self) -> pool::Key {
        pool::Key {
            address: self.target.address.clone(),
            port: self.target.port,
            user: self.target.user.clone(),
            identity: self.target.identity.clone(),
            pinned: format!("{} {}", self.pinned.kind, self.pinned.blob),
        }
    }

    /// A channel running dbhost with the request written as its first line, on `sess` when
    /// given (a kept session) and it still works, else on a new session.
    fn start(
        &self,
        sess: Option<Session>,
        request: &Request,
    ) -> Result<(Session, Channel), CallError> {
        if let Some(sess) = sess {
            // The host may have closed it while it sat idle: that shows in opening the
            // channel, before anything was sent, and a new session is made instead.
            if let Ok(ch) = self.exec(&sess, request, false) {
                return self.send(sess, ch, request);
            }
        }
        let sess = self.session()?;
        let ch = self.exec(&sess, request, false).map_err(|e| self.lost(e))?;
        self.send(sess, ch, request)
    }

    fn lost(&self, e: ssh2::Error) -> CallError {
        CallError::Unreachable(format!("SSH channel to {}: {e}", self.host_name))
    }

    /// Opens a channel on `sess` running dbhost, with the timeout `request` deserves; a
    /// `serving` one (a kept conversation) takes its stderr among its answers.
    fn exec(
        &self,
        sess: &Session,
        request: &Request,
        serving: bool,
    ) -> Result<Channel, ssh2::Error> {
        Self::bound(sess, request);
        let mut ch = sess.channel_session()?;
        if serving {
            // Nothing would read it apart: it must never fill the channel's window.
            ch.handle_extended_data(ssh2::ExtendedData::Merge)?;
        }
        ch.exec(REMOTE_COMMAND)?;
        Ok(ch)
    }

    /// Long engine operations may print nothing for a while; a dead peer still errors out.
    /// The quick questions the monitor and `host list --refresh` ask a whole fleet get a
    /// short bound, so one hung host ties up one of their threads for seconds, not minutes.
    fn bound(sess: &Session, request: &Request) {
        let info = request.op.info();
        // A question (read-only, no stream; not a verify, which reads every file) gets the
        // question timeout; work may print nothing for minutes.
        let question = !info.mutating
            && !info.bulk
            && !matches!(request.op, crate::wire::Op::SnapshotVerify(_));
        sess.set_timeout(if question {
            super::question_timeout_ms().max(5_000)
        } else {
            15 * 60 * 1000
        });
    }

    /// Writes the request as the channel's first line.
    fn send(
        &self,
        sess: Session,
        mut ch: Channel,
        request: &Request,
    ) -> Result<(Session, Channel), CallError> {
        ch.write_all(&request_line(request)?)
            .map_err(|e| CallError::Unreachable(format!("writing to {}: {e}", self.host_name)))?;
        Ok((sess, ch))
    }

    /// One request, its own channel, its input closed after it: how every call goes without
    /// kept sessions, and how a change goes with them (dbhost ends after it).
    fn call_once(
        &self,
        sess: Option<Session>,
        request: &Request,
        progress: &mut dyn FnMut(&str),
    ) -> (Result<Value, CallError>, Option<Session>) {
        let (sess, mut ch) = match self.start(sess, request) {
            Ok(x) => x,
            Err(e) => return (Err(e), None),
        };
        if let Err(e) = ch.send_eof() {
            return (Err(self.lost(e)), None);
        }
        let answer = read_answer(BufReader::new(&mut ch), progress);
        let mut stderr = String::new();
        let _ = ch.stderr().read_to_string(&mut stderr);
        let closed = ch.wait_close().is_ok();
        let result = conclude(answer, ch.exit_status().ok(), &stderr);
        // Only a session whose conversation ended cleanly is kept: one that timed out or
        // broke off may be in any state.
        let keep = closed && !matches!(result, Err(CallError::Unreachable(_)));
        (result, keep.then_some(sess))
    }

    /// A read-only request on the kept conversation `line` (a new one when it has none),
    /// asked again on a fresh session when a kept one turns out to be dead; the line to keep.
    fn ask_kept(
        &self,
        line: Option<pool::Line>,
        request: &Request,
        progress: &mut dyn FnMut(&str),
    ) -> (Result<Value, CallError>, Option<pool::Line>) {
        let mut line = line;
        loop {
            let reused = line.is_some();
            let opened = match line.take() {
                Some(pool::Line {
                    session,
                    serving: Some(ch),
                }) => Ok((session, ch)),
                Some(pool::Line {
                    session,
                    serving: None,
                }) => match self.exec(&session, request, true) {
                    Ok(ch) => Ok((session, ch)),
                    Err(_) => {
                        // A kept session the host has closed: a new one.
                        continue;
                    }
                },
                None => self
                    .session()
                    .and_then(|s| match self.exec(&s, request, true) {
                        Ok(ch) => Ok((s, ch)),
                        Err(e) => Err(self.lost(e)),
                    }),
            };
            let (session, mut ch) = match opened {
                Ok(x) => x,
                Err(e) => return (Err(e), None),
            };
            Self::bound(&session, request);
            let asked = request_line(request).and_then(|l| {
                ch.write_all(&l).and_then(|_| ch.flush()).map_err(|e| {
                    CallError::Unreachable(format!("writing to {}: {e}", self.host_name))
                })
            });
            let answer = asked.and_then(|_| {
                read_answer(BufReader::new(&mut ch), progress).and_then(|a| {
                    a.ok_or_else(|| {
                        CallError::Unreachable(format!(
                            "dbhost on {} ended the conversation",
                            self.host_name
                        ))
                    })
                })
            });
            match answer {
                Ok(result) => {
                    let keep = pool::Line {
                        session,
                        serving: Some(ch),
                    };
                    return (result.map_err(CallError::Remote), Some(keep));
                }
                // Asked again once, on a fresh session: a question changes nothing.
                Err(CallError::Unreachable(_)) if reused => continue,
                Err(e) => return (Err(e), None),
            }
        }
    }
}

impl Transport for Ssh {
    fn call(&self, request: &Request, progress: &mut dyn FnMut(&str)) -> Result<Value, CallError> {
        if !pool::enabled() {
            return self.call_once(None, request, progress).0;
        }
        let key = self.pool_key();
        let line = pool::take(&key);
        let (result, keep) = if request.op.is_mutating() || request.op.is_bulk() {
            // Its own channel; the conversation kept on the session, if any, ends here.
            let (r, s) = self.call_once(line.map(|l| l.session), request, progress);
            (
                r,
                s.map(|session| pool::Line {
                    session,
                    serving: None,
                }),
            )
        } else {
            self.ask_kept(line, request, progress)
        };
        if let Some(l) = keep {
            pool::give_back(key, l);
        }
        result
    }

    fn open_bulk(&self, request: &Request) -> Result<Box<dyn Bulk>, CallError> {
        // A stream gets a session of its own: it may run for hours.
        let (sess, ch) = self.start(None, request)?;
        // A stream that makes no progress for this long has a dead end: fail, never hang.
        sess.set_timeout(BULK_STALL_MS);
        Ok(Box::new(SshBulk {
            sess,
            ch,
            input_open: true,
            closed: Closed,
            early: Vec::new(),
        }))
    }
}

/// How long a bulk stream may make no progress at all (an import checking a large file
/// reads nothing meanwhile) before it is given up.
const BULK_STALL_MS: u32 = 120_000;

struct SshBulk {
    /// Kept alive for as long as the channel is used.
    sess: Session,
    ch: Channel,
    input_open: bool,
    closed: Closed,
    /// Answer bytes read early by [`Bulk::answered`].
    early: Vec<u8>,
}

/// Writes to the op's input without ever blocking on a peer that stopped reading: while the
/// channel takes nothing, the op's answer is looked for (an import that refused a file has
/// answered and exited), and a stall longer than [`BULK_STALL_MS`] fails.
impl Write for SshBulk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let start = std::time::Instant::now();
        loop {
            self.sess.set_blocking(false);
            let r = self.ch.write(buf);
            self.sess.set_blocking(true);
            match r {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if self.answered() {
                        return Err(std::io::ErrorKind::BrokenPipe.into());
                    }
                    if start.elapsed() > std::time::Duration::from_millis(BULK_STALL_MS.into()) {
                        return Err(std::io::ErrorKind::TimedOut.into());
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.ch.flush()
    }
}

impl Bulk for SshBulk {
    fn reader(&mut self) -> &mut dyn Read {
        &mut self.ch
    }

    fn writer(&mut self) -> &mut dyn Write {
        if self.input_open {
            self
        } else {
            &mut self.closed
        }
    }

    fn close_input(&mut self) {
        if self.input_open {
            self.input_open = false;
            let _ = self.ch.send_eof();
        }
    }

    fn answered(&mut self) -> bool {
        // Progress lines come first; the answer is the `result` line (kept for `finish`).
        let mut buf = [0u8; 4096];
        self.sess.set_blocking(false);
        let eof = loop {
            match self.ch.stderr().read(&mut buf) {
                Ok(0) => break self.ch.eof(),
                Ok(n) => self.early.extend_from_slice(&buf[..n]),
                Err(_) => break false,
            }
        };
        self.sess.set_blocking(true);
        eof || String::from_utf8_lossy(&self.early)
            .lines()
            .any(|l| l.contains("\"type\":\"result\""))
    }

    fn finish(mut self: Box<Self>, progress: &mut dyn FnMut(&str)) -> Result<Value, CallError> {
        self.close_input();
        let _ = std::io::copy(&mut self.ch, &mut std::io::sink());
        let mut rest = Vec::new();
        let _ = self.ch.stderr().read_to_end(&mut rest);
        let mut bytes = std::mem::take(&mut self.early);
        bytes.extend(rest);
        let stderr = String::from_utf8_lossy(&bytes).into_owned();
        let answer = read_answer(stderr.as_bytes(), progress);
        let _ = self.ch.wait_close();
        conclude(answer, self.ch.exit_status().ok(), &stderr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_openssh_format() {
        // ssh-keygen -lf for this ed25519 public key prints the same SHA256 fingerprint.
        let k = HostKey {
            kind: "ssh-ed25519".into(),
            blob: "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl".into(),
        };
        let fp = k.fingerprint();
        assert!(fp.starts_with("SHA256:"));
        assert_eq!(fp.len(), "SHA256:".len() + 43);
    }
}
