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
pub mod snapshots;
pub mod storage;
pub mod stream;
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

/// Serves one request: its JSON on the first line of `input`, answers as JSON lines on `out`
/// (on `err` for bulk ops, whose `out` or `input` carries the raw stream). Returns the exit
/// status.
pub fn rpc(root: &Path, input: &mut dyn BufRead, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut line = String::new();
    if let Err(e) = input.read_line(&mut line) {
        answer(
            out,
            &Message::err(bad_request(format!("reading the request: {e}"))),
        );
        return 1;
    }
    // Check the protocol before the rest so that a newer dbctl gets a clear answer.
    let raw: serde_json::Value = match serde_json::from_str(&line) {
        Ok(v) => v,
        Err(e) => {
            answer(
                out,
                &Message::err(bad_request(format!("the request is not JSON: {e}"))),
            );
            return 1;
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
        return 1;
    }
    let request: Request = match serde_json::from_value(raw) {
        Ok(r) => r,
        Err(e) => {
            answer(
                out,
                &Message::err(bad_request(format!("unknown or malformed request: {e}"))),
            );
            return 1;
        }
    };
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
    code
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
