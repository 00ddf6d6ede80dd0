//! Compaction: the journal folded into a new snapshot, at start-up, at a clean stop and
//! in the background once enough writes have piled up.

use crate::state::Store;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use super::journal::open_append;
use super::snapshot::{write_durably, Snapshot};
use super::*;

impl Journal {
    /// Whether at least `records` writes, or `bytes` of them, have been journaled since
    /// the last snapshot, and the journal has grown to half the snapshot's size:
    /// rewriting a large state for a few records would make compaction, not writes, the
    /// main cost of a long run.
    pub fn due_for_compaction(&self, records: usize, bytes: u64) -> bool {
        let journal = crate::state::lock(&self.file);
        (journal.since_snapshot >= records || journal.len >= bytes)
            && journal.len >= journal.snapshot_len / 2
    }

    /// Writes the whole store as the snapshot and starts the journal afresh with only the
    /// records appended since. The store is held exclusively only while it is copied,
    /// so that the copy matches the journal's length; writing it out runs alongside new
    /// requests. Records already in the snapshot are skipped on load, so a crash between
    /// any two steps loses nothing.
    pub fn compact(&self, store: &Store) -> Result<(), PersistenceError> {
        let (regions, last_seq, covered_len) = {
            let _exclusive = store.exclusive();
            let journal = crate::state::lock(&self.file);
            (store.export(), journal.next_seq - 1, journal.len)
        };
        let snapshot = Snapshot {
            version: 1,
            last_seq,
            regions,
            clock_offset_seconds: self.clock.offset_seconds(),
        };
        let path = self.dir.join(SNAPSHOT);
        let bytes =
            serde_json::to_vec(&snapshot).map_err(|e| io_error(&path)(std::io::Error::other(e)))?;
        drop(snapshot);
        write_durably(&self.dir, &path, &bytes)?;

        // Carry over what was appended while the snapshot was written.
        let journal_path = self.dir.join(JOURNAL);
        let mut journal = crate::state::lock(&self.file);
        let mut tail = Vec::new();
        if journal.len > covered_len {
            let mut reader = File::open(&journal_path).map_err(io_error(&journal_path))?;
            reader
                .seek(SeekFrom::Start(covered_len))
                .and_then(|_| {
                    reader
                        .take(journal.len - covered_len)
                        .read_to_end(&mut tail)
                })
                .map_err(io_error(&journal_path))?;
        }
        write_durably(&self.dir, &journal_path, &tail)?;
        // The old file is gone now; appending anywhere but the new one would lose writes.
        journal.file = Some(Arc::new(
            open_append(&journal_path).map_err(|e| self.stop(e))?,
        ));
        journal.len = tail.len() as u64;
        journal.since_snapshot = tail.iter().filter(|b| **b == b'\n').count();
        journal.snapshot_len = bytes.len() as u64;
        // Every record so far is now in the snapshot or in the fsynced new journal.
        self.mark_durable(journal.next_seq - 1);
        Ok(())
    }
}

/// Compacts the journal into a snapshot in the background whenever `records` writes
/// have piled up, so that a long-running server's journal, and its next start-up, stay
/// short. Requests pause only while the state is copied in memory.
pub fn spawn_compactor(
    durable: Durable,
    records: usize,
    bytes: u64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            tick.tick().await;
            if !durable.journal.due_for_compaction(records, bytes) {
                continue;
            }
            let durable = durable.clone();
            let result =
                tokio::task::spawn_blocking(move || durable.journal.compact(&durable.store)).await;
            match result {
                Ok(Ok(())) => tracing::info!("journal compacted into a snapshot"),
                Ok(Err(e)) => {
                    tracing::error!("compaction failed (the journal still holds everything): {e}")
                }
                Err(e) => tracing::error!("compaction task failed: {e}"),
            }
        }
    })
}
