//! Start-up: the snapshot and then the journal loaded into the store, each record
//! re-run exactly as it first ran; a torn last record is cut off.

use crate::api::dispatch::{control, dispatch_control, dispatch_replay};
use crate::config::{Config, Rules};
use crate::generated::operations::Operation;
use crate::identity::tenant::Tenant;
use crate::request::context::RequestContext;
use crate::state::Store;
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use super::journal::{open_append, JournalFile};
use super::snapshot::{remove_leftover_temporaries, Snapshot};
use super::*;

pub(super) fn decode_line(line: &[u8]) -> Result<Record, String> {
    let (crc, json) = line
        .split_first_chunk::<8>()
        .filter(|(_, rest)| rest.first() == Some(&b' '))
        .map(|(crc, rest)| (crc, &rest[1..]))
        .ok_or("no checksum")?;
    let expected = std::str::from_utf8(crc)
        .ok()
        .and_then(|s| u32::from_str_radix(s, 16).ok())
        .ok_or("unreadable checksum")?;
    if crc32fast::hash(json) != expected {
        return Err("checksum mismatch".into());
    }
    serde_json::from_slice(json).map_err(|e| e.to_string())
}

impl Journal {
    /// Loads `dir` into `store` (snapshot, then journal), compacts it into a new snapshot,
    /// and opens the journal for appending. A directory that cannot take that snapshot
    /// (read-only, full) stops start-up: a server that could take no write would only
    /// look healthy.
    pub fn open(dir: &Path, store: &Store, config: &Config) -> Result<Journal, PersistenceError> {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        remove_leftover_temporaries(dir);
        let snapshot_path = dir.join(SNAPSHOT);
        let journal_path = dir.join(JOURNAL);
        let mut last_seq = 0;
        if snapshot_path.exists() {
            let file = File::open(&snapshot_path).map_err(io_error(&snapshot_path))?;
            let snapshot: Snapshot = serde_json::from_reader(std::io::BufReader::new(file))
                .map_err(|e| PersistenceError::Corrupt {
                    path: snapshot_path.clone(),
                    offset: 0,
                    reason: e.to_string(),
                })?;
            last_seq = snapshot.last_seq;
            store.import(snapshot.regions);
            config.clock.set_offset(snapshot.clock_offset_seconds);
        } else if journal_path.exists() {
            // A journal is only ever written beside a snapshot (start-up writes the first
            // snapshot before the journal), so its records assume one.
            return Err(PersistenceError::MissingSnapshot {
                snapshot: snapshot_path,
                journal: journal_path,
            });
        }
        let mut replayed = 0;
        let included = last_seq;
        let torn_tail_kept = for_each_record(&journal_path, |record| {
            if record.seq <= included {
                return Ok(());
            }
            apply(store, config, &record).map_err(|reason| PersistenceError::Replay {
                path: journal_path.clone(),
                seq: record.seq,
                operation: record.op.clone(),
                reason,
            })?;
            last_seq = record.seq;
            replayed += 1;
            Ok(())
        })?;
        tracing::info!(
            "state loaded from {}: {replayed} journal records replayed",
            dir.display()
        );
        let journal = Journal {
            dir: dir.to_path_buf(),
            file: Mutex::new(JournalFile {
                file: None,
                len: 0,
                next_seq: last_seq + 1,
                since_snapshot: 0,
                snapshot_len: 0,
            }),
            durable: tokio::sync::watch::Sender::new(last_seq),
            syncing: AtomicBool::new(false),
            stopped: std::sync::OnceLock::new(),
            clock: config.clock.clone(),
        };
        if let Some(e) = torn_tail_kept {
            return Err(e);
        }
        // The first snapshot goes before the journal exists; later ones fold the journal in.
        journal.compact(store)?;
        let mut file = crate::state::lock(&journal.file);
        if file.file.is_none() {
            let opened = open_append(&journal_path)?;
            file.len = opened.metadata().map_err(io_error(&journal_path))?.len();
            file.file = Some(Arc::new(opened));
        }
        drop(file);
        Ok(journal)
    }
}

/// Reads the journal a record at a time (it is never held whole), handing each to
/// `each`. A torn tail is cut off and logged; when it cannot be cut (a read-only file)
/// it is left in place and returned as the reason start-up stops. Damage anywhere
/// else is an error naming its offset.
pub(super) fn for_each_record(
    path: &Path,
    mut each: impl FnMut(Record) -> Result<(), PersistenceError>,
) -> Result<Option<PersistenceError>, PersistenceError> {
    use std::io::BufRead;
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path)(e)),
    };
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    let mut offset = 0usize;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(io_error(path))?;
        if read == 0 {
            return Ok(None);
        }
        if line.last() != Some(&b'\n') {
            // No newline: the last append never finished.
            tracing::warn!(
                "{}: dropping a torn last record at byte offset {offset} ({} bytes)",
                path.display(),
                line.len()
            );
            let cut = OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(offset as u64).and_then(|_| f.sync_all()));
            return Ok(cut.err().map(io_error(path)));
        }
        let record =
            decode_line(&line[..line.len() - 1]).map_err(|reason| PersistenceError::Corrupt {
                path: path.to_path_buf(),
                offset,
                reason,
            })?;
        each(record)?;
        offset += read;
    }
}

/// The record `POST /_clock` leaves: the clock's new offset, absolute, so replaying it
/// twice changes nothing.
pub const CLOCK_RECORD: &str = "_clock";

/// Re-runs one journaled write exactly as it first ran.
pub(super) fn apply(store: &Store, config: &Config, record: &Record) -> Result<(), String> {
    let tenant = Tenant {
        account: record.account.clone(),
        region: record.region.clone(),
    };
    if record.op == "_reset" {
        let everything = record.input.get("all").and_then(Value::as_bool) == Some(true);
        if everything {
            // A full reset sets the clock back too.
            config.clock.set_offset(0.0);
        }
        return store.reset((!everything).then_some(&tenant), || Ok(()));
    }
    if record.op == CLOCK_RECORD {
        let offset = record.input.get("offset_seconds").and_then(Value::as_f64);
        config.clock.set_offset(offset.ok_or("no offset_seconds")?);
        return Ok(());
    }
    let rules = record.rules.unwrap_or_else(|| Rules::of(config));
    let ctx = RequestContext::replaying(&tenant, config, record.now, record.seed, rules)
        .failing(record.transition_failure.as_ref());
    if control(&record.op).is_some() {
        return dispatch_control(&record.op, &ctx, store, record.input.clone(), None)
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    let op = Operation::from_name(&record.op).ok_or("unknown operation")?;
    dispatch_replay(op, &ctx, store, record.input.clone()).map_err(|e| e.to_string())
}
