//! Streams between a host and a repository, through this process: a snapshot export archived
//! into a repository as a backup, and a backup read back into a host's snapshot import. The
//! repository's key and credentials never leave this machine.

use super::retry::{call_error, StepError};
use super::Executor;
use crate::catalog::workflows::StepRow;
use crate::catalog::{backups, hosts, instances, repositories};
use crate::repo::{self, Store};
use crate::wire::{Op, Request};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an upload stored, as its step's output records it.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Stored {
    pub restic_id: String,
    pub files: u64,
    pub bytes: u64,
    pub added: u64,
}

/// Writes what a repository holds (given its store and key) as a stream, telling the bytes
/// moved (and the total, 0 when unknown) as it goes.
type WriteFrom<'a> = dyn FnMut(&Store, &str, &mut dyn std::io::Write, &mut dyn FnMut(u64, u64)) -> anyhow::Result<()>
    + 'a;

impl Executor<'_> {
    fn reach(&self, name: &str) -> Result<(Store, String), StepError> {
        let row = repositories::get(self.catalog.conn(), name)?
            .ok_or_else(|| StepError::fatal(format!("repository `{name}` was removed")))?;
        repo::reach(&row, self.secrets).map_err(|e| StepError::fatal(format!("{e:#}")))
    }

    /// Archives `from`'s export into `repository` as backup `backup_id`.
    pub(super) fn upload(
        &mut self,
        wf: i64,
        step: &StepRow,
        from: (i64, &Op),
        repository: &str,
        backup_id: i64,
        total: u64,
    ) -> Result<Value, StepError> {
        let (store, key) = self.reach(repository)?;
        let b = backups::find(self.catalog.conn(), backup_id)?
            .ok_or_else(|| StepError::fatal(format!("backup {backup_id} is not in the catalog")))?;
        let inst = instances::get(self.catalog.conn(), b.instance_id)?;
        let src = hosts::get(self.catalog.conn(), from.0)?;
        let prefix = self.prefix(wf)?;
        let mut export = self
            .connector
            .connect(&src)
            .and_then(|t| {
                t.open_bulk(&Request::new(
                    format!("{}-s{}-export", prefix, step.idx),
                    from.1.clone(),
                ))
            })
            .map_err(|e| call_error(&src.name, e))?;
        let progress = self.progress;
        let archived = repo::backups::archive(
            &store,
            &key,
            (&inst.name, &inst.uid),
            backup_id,
            export.reader(),
            &mut |n| progress.bytes(n, total),
        );
        let progress = self.progress;
        let exported = export.finish(&mut |m| progress.message(m));
        match (archived, exported) {
            (Ok(a), Ok(_)) => Ok(serde_json::to_value(Stored {
                restic_id: a.id,
                files: a.files,
                bytes: a.bytes,
                added: a.added,
            })
            .map_err(anyhow::Error::from)?),
            // The export's own failure says most (a snapshot gone, a file unreadable).
            (_, Err(e)) => Err(call_error(&src.name, e)),
            (Err(e), Ok(_)) => Err(StepError::retryable(format!(
                "storing into repository {repository}: {}",
                repo::brief(&e)
            ))),
        }
    }

    /// Streams backup `from` (repository, restic id) into `to`'s import (a streamed
    /// restore).
    pub(super) fn download(
        &mut self,
        wf: i64,
        step: &StepRow,
        from: (&str, &str),
        to: (i64, &Op),
        total: u64,
    ) -> Result<Value, StepError> {
        let what = format!("backup {}", from.1);
        self.stream_into(
            wf,
            step,
            from.0,
            &what,
            to,
            &mut |store, key, out, moved| {
                repo::dump(store, key, from.1, out, &mut |n| moved(n, total))
            },
        )
    }

    /// Streams log shipments `from` (repository, restic ids) into `to`'s log import.
    pub(super) fn download_logs(
        &mut self,
        wf: i64,
        step: &StepRow,
        from: (&str, &[String]),
        to: (i64, &Op),
    ) -> Result<Value, StepError> {
        self.stream_into(
            wf,
            step,
            from.0,
            "logs",
            to,
            &mut |store, key, out, moved| {
                repo::logs::dump_many(store, key, from.1, out, &mut |n| moved(n, 0))
            },
        )
    }

    /// Opens `to`'s import, writes into it what `write` reads from `repository`, and returns
    /// the import's answer.
    fn stream_into(
        &mut self,
        wf: i64,
        step: &StepRow,
        repository: &str,
        what: &str,
        to: (i64, &Op),
        write: &mut WriteFrom,
    ) -> Result<Value, StepError> {
        let (store, key) = self.reach(repository)?;
        let dst = hosts::get(self.catalog.conn(), to.0)?;
        let prefix = self.prefix(wf)?;
        let mut import = self
            .connector
            .connect(&dst)
            .and_then(|t| {
                t.open_bulk(&Request::new(
                    format!("{prefix}-s{}", step.idx),
                    to.1.clone(),
                ))
            })
            .map_err(|e| call_error(&dst.name, e))?;
        let progress = self.progress;
        let written = write(&store, &key, import.writer(), &mut |n, total| {
            progress.bytes(n, total)
        });
        import.close_input();
        let imported = import.finish(&mut |m| progress.message(m));
        match (written, imported) {
            // The receiver's word is final: a step sent again after it finished is answered
            // from its journal without reading the stream.
            (_, Ok(v)) => Ok(v),
            // A damaged object in the repository: named, and the receiver has refused the
            // stream it left unfinished.
            (Err(e), Err(_)) => Err(StepError::fatal(format!(
                "reading {what} from repository {repository}: {}",
                repo::brief(&e)
            ))),
            (Ok(()), Err(e)) => Err(call_error(&dst.name, e)),
        }
    }
}
