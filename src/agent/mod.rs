//! dbhost: the host manager. Reads one request, acts on this host, answers in JSON lines.
//!
//! Never imports the catalog, the workflow engine or the transports: it shares only `wire`.

pub mod config;
pub mod engine;
pub mod facts;
pub mod journal;
pub mod layout;
pub mod links;
pub mod logs;
pub mod manifest;
pub mod ops;
pub mod osuser;
pub mod ports;
pub mod replaced;
pub mod restore;
pub mod snapshots;
pub mod storage;
pub mod stream;
pub mod tree;
pub mod usage;

pub use config::HostConfig;

use crate::wire::{ErrorCode, Message, Request, WireError, PROTOCOL};
use std::io::{BufRead, Write};
use std::path::Path;

/// How long completed requests are remembered for replay.
const JOURNAL_KEEP: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Builds an error that crosses the wire with a code dbctl can act on.
pub fn wire_err(code: ErrorCode, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(WireError {
        code,
        message: message.into(),
        hint: None,
    })
}

/// [`wire_err`] with a hint for the person who reads it.
pub fn wire_err_hint(
    code: ErrorCode,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> anyhow::Error {
    anyhow::Error::new(WireError {
        code,
        message: message.into(),
        hint: Some(hint.into()),
    })
}

/// Turns any error into wire data; errors without a code of their own get `fallback`.
pub fn to_wire(e: &anyhow::Error, fallback: ErrorCode) -> WireError {
    match e.downcast_ref::<WireError>() {
        Some(w) => w.clone(),
        None => WireError {
            code: fallback,
            message: format!("{e:#}"),
            hint: None,
        },
    }
}

/// Serves requests: each a JSON line on `input`, answered as JSON lines on `out` (on `err`
/// for bulk ops, whose `out` or `input` carries the raw stream). Returns the exit status of
/// the last.
///
/// A read-only request may be followed by another on the same input (a control plane that
/// asks a host the same questions every few seconds keeps one conversation open); one that
/// changes anything, moves a stream or is malformed is the last. The end of the input ends
/// it.
pub fn rpc(root: &Path, input: &mut dyn BufRead, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    loop {
        let (code, more) = one(root, input, out, err);
        if !more || input.fill_buf().map_or(true, |b| b.is_empty()) {
            return code;
        }
    }
}

/// Serves one request; its exit status, and whether another may follow it.
fn one(
    root: &Path,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> (i32, bool) {
    let mut line = String::new();
    // Bounded: a line without its newline must not grow dbhost without end.
    let read = std::io::Read::take(&mut *input, MAX_REQUEST_LINE + 1).read_line(&mut line);
    if let Err(e) = read {
        answer(
            out,
            &Message::err(bad_request(format!("reading the request: {e}"))),
        );
        return (1, false);
    }
    if line.len() as u64 > MAX_REQUEST_LINE {
        answer(
            out,
            &Message::err(bad_request(format!(
                "the request line is over {} MiB: refused unread",
                MAX_REQUEST_LINE >> 20
            ))),
        );
        return (1, false);
    }
    // Check the protocol before the rest so that a newer dbctl gets a clear answer.
    let raw: serde_json::Value = match serde_json::from_str(&line) {
        Ok(v) => v,
        Err(e) => {
            answer(
                out,
                &Message::err(bad_request(format!("the request is not JSON: {e}"))),
            );
            return (1, false);
        }
    };
    if raw.get("protocol").and_then(|p| p.as_u64()) != Some(u64::from(PROTOCOL)) {
        answer(
            out,
            &Message::err(WireError {
                code: ErrorCode::ProtocolMismatch,
                message: format!(
                    "this dbhost {} speaks protocol {PROTOCOL}, the request uses {}",
                    crate::wire::VERSION,
                    raw.get("protocol")
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "none".into())
                ),
                hint: Some(
                    "install the same dbctl/dbhost release on the control machine and the host"
                        .into(),
                ),
            }),
        );
        return (1, false);
    }
    let raw_keys: Vec<String> = raw
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let request: Request = match serde_json::from_value(raw) {
        Ok(r) => r,
        Err(e) => {
            answer(
                out,
                &Message::err(bad_request(format!("unknown or malformed request: {e}"))),
            );
            return (1, false);
        }
    };
    // Every spec refuses fields it does not know; an op with no spec takes none either.
    use crate::wire::Op;
    let bare = matches!(request.op, Op::Facts | Op::DiskUsage | Op::ReplacedList);
    if let Some(extra) = raw_keys
        .iter()
        .find(|k| bare && !["protocol", "request_id", "op"].contains(&k.as_str()))
    {
        answer(
            out,
            &Message::err(bad_request(format!(
                "unknown field `{extra}` in a `{}` request",
                request.op.name()
            ))),
        );
        return (1, false);
    }
    let more = !request.op.is_mutating() && !request.op.is_bulk();
    let (messages, data): (&mut dyn Write, &mut dyn Write) = if request.op.is_bulk() {
        (err, out)
    } else {
        (out, err)
    };
    let mut progress = |msg: &str| {
        answer(
            &mut *messages,
            &Message::Progress {
                message: msg.to_string(),
            },
        )
    };
    let mut io = ops::Io {
        input,
        output: data,
    };
    let result = serve(root, &request, &mut io, &mut progress);
    let message = match result {
        Ok((v, replayed)) => Message::ok(v, replayed),
        Err(e) => Message::err(to_wire(&e, ErrorCode::Internal)),
    };
    let code = match &message {
        Message::Result { error: None, .. } => 0,
        _ => 1,
    };
    answer(messages, &message);
    (code, more)
}

fn answer(out: &mut dyn Write, m: &Message) {
    let _ = writeln!(out, "{}", serde_json::to_string(m).unwrap_or_default());
    let _ = out.flush();
}

fn bad_request(message: String) -> WireError {
    WireError {
        code: ErrorCode::BadRequest,
        message,
        hint: None,
    }
}

fn serve(
    root: &Path,
    request: &Request,
    io: &mut ops::Io,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<(serde_json::Value, bool)> {
    let host = ops::Host::open(root)?;
    if !request.op.is_mutating() {
        return Ok((host.dispatch(&request.op, io, progress)?, false));
    }
    let journal = journal::Journal::new(root);
    journal.prune(JOURNAL_KEEP);
    let entry = journal
        .lock(&request.request_id)
        .map_err(|e| wire_err(ErrorCode::BadRequest, format!("{e:#}")))?;
    if let Some(v) = entry.recorded() {
        return Ok((v, true));
    }
    let v = host.dispatch(&request.op, io, progress)?;
    entry.record(&v)?;
    Ok((v, false))
}

/// The longest request line dbhost reads: the largest requests (a log list given back for a
/// reckoning) are a few hundred KiB.
const MAX_REQUEST_LINE: u64 = 4 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_line_and_unknown_fields_are_refused() {
        let root = tempfile::tempdir().unwrap();
        // 5 MiB with no newline: refused having read no more than the bound.
        let mut big = std::io::Cursor::new(vec![b'x'; 5 << 20]);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(rpc(root.path(), &mut big, &mut out, &mut err), 1);
        assert!(big.position() <= MAX_REQUEST_LINE + 1);
        let said = String::from_utf8(out).unwrap();
        assert!(said.contains("over 4 MiB"), "{said}");
        for req in [
            format!(r#"{{"protocol":{PROTOCOL},"request_id":"a","op":"facts","evil":1}}"#),
            format!(
                r#"{{"protocol":{PROTOCOL},"request_id":"b","op":"status","instance":"x","evil":1}}"#
            ),
            format!(r#"{{"protocol":{PROTOCOL},"request_id":"c","op":"replaced_list","x":[]}}"#),
        ] {
            let mut out = Vec::new();
            let code = rpc(root.path(), &mut req.as_bytes(), &mut out, &mut err);
            let said = String::from_utf8(out).unwrap();
            assert_eq!(code, 1, "{req}: {said}");
            assert!(said.contains("evil") || said.contains("`x`"), "{said}");
        }
    }

    fn results(text: &str) -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|m| m["type"] == "result")
            .collect()
    }

    #[test]
    fn read_only_requests_follow_one_another_and_a_change_ends_the_conversation() {
        let root = tempfile::tempdir().unwrap();
        let facts = format!(r#"{{"protocol":{PROTOCOL},"request_id":"a","op":"facts"}}"#);
        let status = format!(
            r#"{{"protocol":{PROTOCOL},"request_id":"b","op":"status","instance":"none"}}"#
        );
        let input = format!("{facts}\n{status}\n{facts}\n");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = rpc(root.path(), &mut input.as_bytes(), &mut out, &mut err);
        let got = results(&String::from_utf8(out).unwrap());
        assert_eq!(code, 0);
        assert_eq!(got.len(), 3);
        assert_eq!(got[1]["ok"]["exists"], false);
        // A request that changes something is the last one served.
        let stop =
            format!(r#"{{"protocol":{PROTOCOL},"request_id":"c","op":"stop","instance":"none"}}"#);
        let input = format!("{stop}\n{facts}\n");
        let mut out = Vec::new();
        rpc(root.path(), &mut input.as_bytes(), &mut out, &mut err);
        assert_eq!(results(&String::from_utf8(out).unwrap()).len(), 1);
        // So is a malformed one.
        let input = format!("not json\n{facts}\n");
        let mut out = Vec::new();
        assert_eq!(
            rpc(root.path(), &mut input.as_bytes(), &mut out, &mut err),
            1
        );
        assert_eq!(results(&String::from_utf8(out).unwrap()).len(), 1);
    }
}
