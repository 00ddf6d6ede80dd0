//! The write-ahead journal: every acknowledged write appended as one line and fsynced
//! (one fsync for every writer waiting) before it is answered.

use crate::api::dispatch::WriteLog;
use crate::error::ApiError;
use crate::identity::tenant::Tenant;
use crate::request::context::RequestContext;
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::*;

pub(super) struct JournalFile {
    /// None when the journal could not be opened for appending (a read-only or full
    /// disk): the loaded state is served, and writes are refused saying why.
    pub(super) file: Option<Arc<File>>,
    /// Bytes in the file: where the next record starts.
    pub(super) len: u64,
    pub(super) next_seq: u64,
    /// Records appended since the last snapshot.
    pub(super) since_snapshot: usize,
    /// The last snapshot's size in bytes.
    pub(super) snapshot_len: u64,
}

pub struct Journal {
    pub(super) dir: PathBuf,
    pub(super) file: Mutex<JournalFile>,
    /// The last record known to be on disk; writers wait for it to reach theirs.
    pub(super) durable: tokio::sync::watch::Sender<u64>,
    /// Set while one writer fsyncs on behalf of everyone who appended before it.
    pub(super) syncing: AtomicBool,
    /// The first failure to write or fsync the journal. After a failed fsync the kernel
    /// may have dropped the unwritten pages, so nothing later can be promised durable:
    /// every further write is refused, before it changes anything, until a restart.
    pub(super) stopped: std::sync::OnceLock<String>,
    /// The server's clock, whose offset snapshots keep.
    pub(super) clock: crate::controls::clock::Clock,
}

/// Clears `syncing` and wakes the waiters however the fsync ends, the caller's request
/// being dropped included, so that a waiter always gets its turn.
pub(super) struct SyncTurn<'a>(&'a Journal);

impl Drop for SyncTurn<'_> {
    fn drop(&mut self) {
        self.0.syncing.store(false, Ordering::Release);
        self.0.durable.send_modify(|_| {});
    }
}

pub(super) fn encode_line(record: &Record) -> Vec<u8> {
    let json = serde_json::to_vec(record).unwrap_or_default();
    let mut line = format!("{:08x} ", crc32fast::hash(&json)).into_bytes();
    line.extend_from_slice(&json);
    line.push(b'\n');
    line
}

impl WriteLog for Journal {
    fn check_writable(&self) -> Result<(), ApiError> {
        Journal::check_writable(self).map_err(|e| not_durable(&e))
    }

    fn append(&self, ctx: &RequestContext, operation: &str, input: Value) -> Result<u64, ApiError> {
        Journal::append(self, ctx.tenant, operation, ctx, input).map_err(|e| not_durable(&e))
    }
}

impl Journal {
    /// Refuses writes once the journal has failed; checked before a write changes state.
    pub fn check_writable(&self) -> Result<(), PersistenceError> {
        match self.stopped.get() {
            Some(reason) => Err(PersistenceError::Stopped(reason.clone())),
            None => Ok(()),
        }
    }

    /// Why writes stopped, once they have.
    pub fn stopped_reason(&self) -> Option<&str> {
        self.stopped.get().map(String::as_str)
    }

    pub(super) fn stop(&self, error: PersistenceError) -> PersistenceError {
        let reason = error.to_string();
        if self.stopped.set(reason.clone()).is_ok() {
            tracing::error!("durable state stops taking writes (reads are still served): {reason}");
        }
        error
    }

    /// Appends one write and returns its sequence number. It is not yet on disk: the
    /// writer must `wait_durable` for it before acknowledging the write.
    pub fn append(
        &self,
        tenant: &Tenant,
        op: &str,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<u64, PersistenceError> {
        self.check_writable()?;
        let mut journal = crate::state::lock(&self.file);
        let record = Record {
            seq: journal.next_seq,
            account: tenant.account.clone(),
            region: tenant.region.clone(),
            op: op.to_string(),
            now: ctx.now,
            seed: ctx.seed,
            rules: Some(ctx.rules),
            transition_failure: ctx.transition_failure.cloned(),
            input,
        };
        let line = encode_line(&record);
        let Some(file) = journal.file.clone() else {
            return Err(self.stop(PersistenceError::Stopped("the journal is not open".into())));
        };
        if let Err(e) = (&*file).write_all(&line) {
            // Cut a partial line off, so that later records do not follow damage.
            let _ = file.set_len(journal.len);
            return Err(self.stop(io_error(&self.dir.join(JOURNAL))(e)));
        }
        journal.len += line.len() as u64;
        journal.next_seq += 1;
        journal.since_snapshot += 1;
        Ok(record.seq)
    }

    /// Returns once record `seq` is on disk. Whoever finds no fsync under way makes one
    /// for every record appended so far; the others wait for it and look again.
    pub async fn wait_durable(&self, seq: u64) -> Result<(), PersistenceError> {
        let mut durable = self.durable.subscribe();
        loop {
            if *durable.borrow_and_update() >= seq {
                return Ok(());
            }
            self.check_writable()?;
            if self.syncing.swap(true, Ordering::AcqRel) {
                let _ = durable.changed().await;
                continue;
            }
            let turn = SyncTurn(self);
            let (through, file) = {
                let journal = crate::state::lock(&self.file);
                (journal.next_seq - 1, journal.file.clone())
            };
            let Some(file) = file else {
                return Err(self.stop(PersistenceError::Stopped("the journal is not open".into())));
            };
            // Inline: at most one worker blocks here at a time, and handing the fsync to
            // a blocking thread cost a third of a lone writer's throughput.
            file.sync_data()
                .map_err(|e| self.stop(io_error(&self.dir.join(JOURNAL))(e)))?;
            self.mark_durable(through);
            drop(turn);
        }
    }

    pub(super) fn mark_durable(&self, through: u64) {
        self.durable.send_if_modified(|durable| {
            let advanced = through > *durable;
            *durable = (*durable).max(through);
            advanced
        });
    }
}

pub(super) fn open_append(path: &Path) -> Result<File, PersistenceError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_error(path))
}
