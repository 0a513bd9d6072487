//! Streams between hosts through this process: a bulk export on one piped into a bulk import
//! on the other, which checks every file on arrival.

use super::retry::{call_error, StepError};
use super::Executor;
use crate::catalog::hosts;
use crate::catalog::workflows::StepRow;
use crate::failpoints;
use crate::transport;
use crate::wire::{Op, Request};
use serde_json::Value;

impl Executor<'_> {
    /// Pipes `from`'s export into `to`'s import. Progress shows the bytes moved against
    /// `planned`, the content's size when planned: the stream may carry less (a snapshot's
    /// compressed files travel as they are stored), so the rate and ETA are an upper bound,
    /// and what the step moved is said when it ends.
    pub(super) fn transfer(
        &mut self,
        wf: i64,
        step: &StepRow,
        from: (i64, &Op),
        to: (i64, &Op),
        planned: u64,
    ) -> Result<Value, StepError> {
        let src = hosts::get(self.catalog.conn(), from.0)?;
        let dst = hosts::get(self.catalog.conn(), to.0)?;
        let connector = self.connector;
        let open = |host: &hosts::HostRow,
                    id: String,
                    op: Op|
         -> Result<Box<dyn transport::Bulk>, StepError> {
            connector
                .connect(host)
                .and_then(|t| t.open_bulk(&Request::new(id, op)))
                .map_err(|e| call_error(&host.name, e))
        };
        let prefix = self.prefix(wf)?;
        let mut export = open(
            &src,
            format!("{prefix}-s{}-export", step.idx),
            from.1.clone(),
        )?;
        let mut import = open(&dst, format!("{prefix}-s{}", step.idx), to.1.clone())?;
        // Past the stream's start, before its end (every snapshot carries a log segment).
        let cut_at = failpoints::armed("cut-stream", &step.name).then_some(1u64 << 20);
        let mut buf = vec![0u8; 1 << 20];
        let mut moved = 0u64;
        let mut broken = None;
        loop {
            // An import that refused what it got answers at once: stop sending then (the
            // export is dropped below, which ends it too).
            if import.answered() {
                broken = Some(format!("{} stopped taking the stream", dst.name));
                break;
            }
            let n = match export.reader().read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    broken = Some(format!("reading from {}: {e}", src.name));
                    break;
                }
            };
            if let Err(e) = import.writer().write_all(&buf[..n]) {
                // The import stopped taking data; its answer says why.
                broken = Some(format!("writing to {}: {e}", dst.name));
                break;
            }
            moved += n as u64;
            // Never "120 MiB of 100 MiB": past the plan, the total is what has moved.
            self.progress.bytes(moved, planned.max(moved));
            if cut_at.is_some_and(|c| moved >= c) {
                // As if the connection dropped mid-stream: the receiver sees a cut stream.
                break;
            }
        }
        import.close_input();
        let progress = self.progress;
        let imported = import.finish(&mut |m| progress.message(m));
        drop(export);
        match imported {
            Ok(v) => Ok(v),
            Err(e) => {
                let mut err = call_error(&dst.name, e);
                if let Some(b) = broken {
                    err.message = format!("{} ({b})", err.message);
                }
                Err(err)
            }
        }
    }
}
