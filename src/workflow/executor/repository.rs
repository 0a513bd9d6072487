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
        let mut export = self
            .connector
            .connect(&src)
            .and_then(|t| {
                t.open_bulk(&Request::new(
                    format!("wf{wf}-s{}-export", step.idx),
                    from.1.clone(),
                ))
            })
            .map_err(|e| call_error(&src.name, e))?;
        let progress = self.progress;
        let archived = repo::backups::archive(
            &store,
            &key,
            (&inst.name, &inst.uid),
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
        let (store, key) = self.reach(from.0)?;
        let dst = hosts::get(self.catalog.conn(), to.0)?;
        let mut import = self
            .connector
            .connect(&dst)
            .and_then(|t| t.open_bulk(&Request::new(format!("wf{wf}-s{}", step.idx), to.1.clone())))
            .map_err(|e| call_error(&dst.name, e))?;
        let progress = self.progress;
        let dumped = repo::dump(&store, &key, from.1, import.writer(), &mut |n| {
            progress.bytes(n, total)
        });
        import.close_input();
        let progress = self.progress;
        let imported = import.finish(&mut |m| progress.message(m));
        match (dumped, imported) {
            // The receiver's word is final: a step sent again after it finished is answered
            // from its journal without reading the stream.
            (_, Ok(v)) => Ok(v),
            // A damaged object in the repository: named, and the receiver has refused the
            // stream it left unfinished.
            (Err(e), Err(_)) => Err(StepError::fatal(format!(
                "reading backup {} from repository {}: {}",
                from.1,
                from.0,
                repo::brief(&e)
            ))),
            (Ok(()), Err(e)) => Err(call_error(&dst.name, e)),
        }
    }

    /// Streams log shipments `from` (repository, restic ids) into `to`'s log import.
    pub(super) fn download_logs(
        &mut self,
        wf: i64,
        step: &StepRow,
        from: (&str, &[String]),
        to: (i64, &Op),
    ) -> Result<Value, StepError> {
        let (store, key) = self.reach(from.0)?;
        let dst = hosts::get(self.catalog.conn(), to.0)?;
        let mut import = self
            .connector
            .connect(&dst)
            .and_then(|t| t.open_bulk(&Request::new(format!("wf{wf}-s{}", step.idx), to.1.clone())))
            .map_err(|e| call_error(&dst.name, e))?;
        let progress = self.progress;
        let dumped = repo::logs::dump_many(&store, &key, from.1, import.writer(), &mut |n| {
            progress.bytes(n, 0)
        });
        import.close_input();
        let progress = self.progress;
        let imported = import.finish(&mut |m| progress.message(m));
        match (dumped, imported) {
            (Ok(()), Ok(v)) => Ok(v),
            (Err(e), _) => Err(StepError::fatal(format!(
                "reading logs from repository {}: {}",
                from.0,
                repo::brief(&e)
            ))),
            (Ok(()), Err(e)) => Err(call_error(&dst.name, e)),
        }
    }
}
