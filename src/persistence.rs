//! Durable state for `--state-dir`: a write-ahead journal of every acknowledged write,
//! appended and fsynced before the response leaves, and a snapshot it is compacted into
//! at start-up, at a clean stop and every `--compact-after` writes.
//!
//! Writers append under the region's lock but wait for the disk outside it: one fsync,
//! made by whichever waiting writer gets there first, covers every record appended
//! before it began (group commit), so concurrent writers share the disk's latency.
//!
//! A journal record is the request itself (operation, account, region, input) with the
//! time and id seed it ran with; replaying it through the same handlers rebuilds the same
//! state. Each line is `<crc32 hex> <json>\n`. A torn last line (a crash mid-append) is
//! dropped and logged; any other damage stops start-up naming the file and offset.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Tenant;
use crate::config::Config;
use crate::dispatch::{dispatch_replay, RequestContext};
use crate::generated::operations::Operation;
use crate::state::{Store, TenantState};

const JOURNAL: &str = "journal.log";
const SNAPSHOT: &str = "snapshot.json";

#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: corrupt record at byte offset {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: usize,
        reason: String,
    },
    #[error(
        "durable state stopped taking writes after an earlier failure ({0}); restart the server"
    )]
    Stopped(String),
    #[error("{path}: record {seq} ({operation}) no longer applies: {reason}")]
    Replay {
        path: PathBuf,
        seq: u64,
        operation: String,
        reason: String,
    },
}

/// One acknowledged write.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub account: String,
    pub region: String,
    /// An operation name, or `_reset` (with `all` when every region was reset).
    pub op: String,
    pub now: f64,
    pub seed: uuid::Uuid,
    pub input: Value,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    /// The last journal record the snapshot includes.
    last_seq: u64,
    regions: Vec<TenantState>,
}

struct JournalFile {
    file: Arc<File>,
    /// Bytes in the file: where the next record starts.
    len: u64,
    next_seq: u64,
    /// Records appended since the last snapshot.
    since_snapshot: usize,
    /// The last snapshot's size in bytes.
    snapshot_len: u64,
}

pub struct Journal {
    dir: PathBuf,
    file: Mutex<JournalFile>,
    /// The last record known to be on disk; writers wait for it to reach theirs.
    durable: tokio::sync::watch::Sender<u64>,
    /// Set while one writer fsyncs on behalf of everyone who appended before it.
    syncing: AtomicBool,
    /// The first failure to write or fsync the journal. After a failed fsync the kernel
    /// may have dropped the unwritten pages, so nothing later can be promised durable:
    /// every further write is refused, before it changes anything, until a restart.
    stopped: std::sync::OnceLock<String>,
}

/// Clears `syncing` and wakes the waiters however the fsync ends, the caller's request
/// being dropped included, so that a waiter always gets its turn.
struct SyncTurn<'a>(&'a Journal);

impl Drop for SyncTurn<'_> {
    fn drop(&mut self) {
        self.0.syncing.store(false, Ordering::Release);
        self.0.durable.send_modify(|_| {});
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PersistenceError + '_ {
    move |source| PersistenceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn encode_line(record: &Record) -> Vec<u8> {
    let json = serde_json::to_vec(record).unwrap_or_default();
    let mut line = format!("{:08x} ", crc32fast::hash(&json)).into_bytes();
    line.extend_from_slice(&json);
    line.push(b'\n');
    line
}

fn decode_line(line: &[u8]) -> Result<Record, String> {
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
    /// and opens the journal for appending.
    pub fn open(dir: &Path, store: &Store, config: &Config) -> Result<Journal, PersistenceError> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let snapshot_path = dir.join(SNAPSHOT);
        let mut last_seq = 0;
        if snapshot_path.exists() {
            let text = std::fs::read(&snapshot_path).map_err(io_error(&snapshot_path))?;
            let snapshot: Snapshot =
                serde_json::from_slice(&text).map_err(|e| PersistenceError::Corrupt {
                    path: snapshot_path.clone(),
                    offset: 0,
                    reason: e.to_string(),
                })?;
            last_seq = snapshot.last_seq;
            store.import(snapshot.regions);
        }
        let journal_path = dir.join(JOURNAL);
        let records = read_journal(&journal_path)?;
        let mut replayed = 0;
        let included = last_seq;
        for record in records.into_iter().filter(|r| r.seq > included) {
            apply(store, config, &record).map_err(|reason| PersistenceError::Replay {
                path: journal_path.clone(),
                seq: record.seq,
                operation: record.op.clone(),
                reason,
            })?;
            last_seq = record.seq;
            replayed += 1;
        }
        tracing::info!(
            "state loaded from {}: {replayed} journal records replayed",
            dir.display()
        );
        let file = open_append(&journal_path)?;
        let len = file.metadata().map_err(io_error(&journal_path))?.len();
        let journal = Journal {
            dir: dir.to_path_buf(),
            file: Mutex::new(JournalFile {
                file: Arc::new(file),
                len,
                next_seq: last_seq + 1,
                since_snapshot: 0,
                snapshot_len: 0,
            }),
            durable: tokio::sync::watch::Sender::new(last_seq),
            syncing: AtomicBool::new(false),
            stopped: std::sync::OnceLock::new(),
        };
        journal.compact(store)?;
        Ok(journal)
    }

    /// Refuses writes once the journal has failed; checked before a write changes state.
    pub fn check_writable(&self) -> Result<(), PersistenceError> {
        match self.stopped.get() {
            Some(reason) => Err(PersistenceError::Stopped(reason.clone())),
            None => Ok(()),
        }
    }

    fn stop(&self, error: PersistenceError) -> PersistenceError {
        let reason = error.to_string();
        if self.stopped.set(reason.clone()).is_ok() {
            tracing::error!("durable state stops taking writes: {reason}");
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
            input,
        };
        let line = encode_line(&record);
        if let Err(e) = (&*journal.file).write_all(&line) {
            // Cut a partial line off, so that later records do not follow damage.
            let _ = journal.file.set_len(journal.len);
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
            // Inline: at most one worker blocks here at a time, and handing the fsync to
            // a blocking thread cost a third of a lone writer's throughput.
            file.sync_data()
                .map_err(|e| self.stop(io_error(&self.dir.join(JOURNAL))(e)))?;
            self.mark_durable(through);
            drop(turn);
        }
    }

    fn mark_durable(&self, through: u64) {
        self.durable.send_if_modified(|durable| {
            let advanced = through > *durable;
            *durable = (*durable).max(through);
            advanced
        });
    }

    /// Whether at least `records` writes have been journaled since the last snapshot, and
    /// the journal has grown to half the snapshot's size: rewriting a large state for a
    /// few records would make compaction, not writes, the main cost of a long run.
    pub fn due_for_compaction(&self, records: usize) -> bool {
        let journal = crate::state::lock(&self.file);
        journal.since_snapshot >= records && journal.len >= journal.snapshot_len / 2
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
        let mut reader = File::open(&journal_path).map_err(io_error(&journal_path))?;
        reader
            .seek(SeekFrom::Start(covered_len))
            .and_then(|_| {
                reader
                    .take(journal.len - covered_len)
                    .read_to_end(&mut tail)
            })
            .map_err(io_error(&journal_path))?;
        write_durably(&self.dir, &journal_path, &tail)?;
        // The old file is gone now; appending anywhere but the new one would lose writes.
        journal.file = Arc::new(open_append(&journal_path).map_err(|e| self.stop(e))?);
        journal.len = tail.len() as u64;
        journal.since_snapshot = tail.iter().filter(|b| **b == b'\n').count();
        journal.snapshot_len = bytes.len() as u64;
        // Every record so far is now in the snapshot or in the fsynced new journal.
        self.mark_durable(journal.next_seq - 1);
        Ok(())
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old file or the new one.
fn write_durably(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), PersistenceError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = File::create(&temporary).map_err(io_error(&temporary))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(io_error(&temporary))?;
    std::fs::rename(&temporary, path).map_err(io_error(path))?;
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Compacts the journal into a snapshot in the background whenever `records` writes
/// have piled up, so that a long-running server's journal, and its next start-up, stay
/// short. Requests pause only while the state is copied in memory.
pub fn spawn_compactor(store: std::sync::Arc<Store>, records: usize) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            tick.tick().await;
            let due = store
                .journal
                .get()
                .is_some_and(|j| j.due_for_compaction(records));
            if !due {
                continue;
            }
            let store = store.clone();
            let result = tokio::task::spawn_blocking(move || match store.journal.get() {
                Some(journal) => journal.compact(&store),
                None => Ok(()),
            })
            .await;
            match result {
                Ok(Ok(())) => tracing::info!("journal compacted into a snapshot"),
                Ok(Err(e)) => {
                    tracing::error!("compaction failed (the journal still holds everything): {e}")
                }
                Err(e) => tracing::error!("compaction task failed: {e}"),
            }
        }
    });
}

fn open_append(path: &Path) -> Result<File, PersistenceError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_error(path))
}

/// Every whole record of the journal. A torn tail is cut off (and logged); damage
/// anywhere else is an error naming its offset.
fn read_journal(path: &Path) -> Result<Vec<Record>, PersistenceError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut file) => {
            file.read_to_end(&mut bytes).map_err(io_error(path))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(path)(e)),
    }
    let mut records = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        let Some(end) = rest.iter().position(|b| *b == b'\n') else {
            // No newline: the last append never finished.
            tracing::warn!(
                "{}: dropping a torn last record at byte offset {offset} ({} bytes)",
                path.display(),
                rest.len()
            );
            OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(offset as u64).and_then(|_| f.sync_all()))
                .map_err(io_error(path))?;
            break;
        };
        let record = decode_line(&rest[..end]).map_err(|reason| PersistenceError::Corrupt {
            path: path.to_path_buf(),
            offset,
            reason,
        })?;
        records.push(record);
        offset += end + 1;
    }
    Ok(records)
}

/// Re-runs one journaled write exactly as it first ran.
fn apply(store: &Store, config: &Config, record: &Record) -> Result<(), String> {
    let tenant = Tenant {
        account: record.account.clone(),
        region: record.region.clone(),
    };
    if record.op == "_reset" {
        let everything = record.input.get("all").and_then(Value::as_bool) == Some(true);
        return store.reset((!everything).then_some(&tenant), || Ok(()));
    }
    let op = Operation::from_name(&record.op).ok_or("unknown operation")?;
    let ctx = RequestContext::new(&tenant, config, record.now, record.seed);
    dispatch_replay(op, &ctx, store, record.input.clone()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(label: &str) -> PathBuf {
        std::env::temp_dir().join(format!("appstream-local-{label}-{}", uuid::Uuid::new_v4()))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_each_see_their_own_record_on_disk() {
        let dir = temp_dir("group");
        let store = Store::default();
        let config = Config::default();
        let journal = Arc::new(Journal::open(&dir, &store, &config).unwrap());
        let writers: Vec<_> = (0..64)
            .map(|i| {
                let journal = journal.clone();
                tokio::spawn(async move {
                    let tenant = Tenant::default();
                    let config = Config::default();
                    let ctx = RequestContext::arriving(&tenant, &config);
                    let seq = journal
                        .append(
                            &tenant,
                            "CreateStack",
                            &ctx,
                            serde_json::json!({"Name": format!("s{i}")}),
                        )
                        .unwrap();
                    journal.wait_durable(seq).await.unwrap();
                    assert!(*journal.durable.borrow() >= seq);
                    seq
                })
            })
            .collect();
        let mut seqs = Vec::new();
        for w in writers {
            seqs.push(w.await.unwrap());
        }
        seqs.sort();
        assert_eq!(seqs, (1..=64).collect::<Vec<u64>>());
        assert!(!journal.syncing.load(Ordering::Acquire));
        let records = read_journal(&dir.join(JOURNAL)).unwrap();
        assert_eq!(records.len(), 64);

        // Compaction folds them into the snapshot and leaves an empty journal behind.
        journal.compact(&store).unwrap();
        assert!(read_journal(&dir.join(JOURNAL)).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_journal_write_stops_all_later_writes_before_they_change_anything() {
        let dir = temp_dir("stop");
        let store = Store::default();
        let config = Config::default();
        let _ = store
            .journal
            .set(Journal::open(&dir, &store, &config).unwrap());
        let journal = store.journal.get().unwrap();
        // A handle that cannot be written stands in for a failing disk.
        crate::state::lock(&journal.file).file = Arc::new(File::open(dir.join(JOURNAL)).unwrap());
        let tenant = Tenant::default();
        let create = |name: &str| {
            let ctx = RequestContext::arriving(&tenant, &config);
            crate::dispatch::dispatch(
                Operation::CreateStack,
                &ctx,
                &store,
                serde_json::json!({"Name": name}),
                crate::protocol::Protocol::AwsJson11,
            )
        };
        let first = create("first").unwrap_err();
        assert_eq!(first.status, 500);
        let second = create("second").unwrap_err();
        assert_eq!(second.status, 500);
        assert!(
            second.message.contains("restart the server"),
            "{}",
            second.message
        );
        let names: Vec<String> = store
            .export()
            .into_iter()
            .flat_map(|t| t.state.stacks.into_keys())
            .collect();
        assert_eq!(names, ["first"], "the refused write changed nothing");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn compaction_waits_for_enough_records_and_a_journal_half_the_snapshot() {
        let dir = temp_dir("policy");
        let store = Store::default();
        let config = Config::default();
        let journal = Journal::open(&dir, &store, &config).unwrap();
        let tenant = Tenant::default();
        for i in 0..10 {
            let ctx = RequestContext::arriving(&tenant, &config);
            let input = serde_json::json!({"Name": format!("s{i}")});
            journal.append(&tenant, "CreateStack", &ctx, input).unwrap();
        }
        assert!(!journal.due_for_compaction(11), "too few records");
        assert!(journal.due_for_compaction(10));
        let journal_len = crate::state::lock(&journal.file).len;
        crate::state::lock(&journal.file).snapshot_len = journal_len * 2 + 2;
        assert!(
            !journal.due_for_compaction(10),
            "a large snapshot waits for a longer journal"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lines_carry_a_checksum_of_their_record() {
        let record = Record {
            seq: 7,
            account: "000000000000".into(),
            region: "us-east-1".into(),
            op: "CreateStack".into(),
            now: 1.5,
            seed: uuid::Uuid::nil(),
            input: serde_json::json!({"Name": "s"}),
        };
        let line = encode_line(&record);
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(decode_line(&line[..line.len() - 1]).unwrap().seq, 7);
        let mut flipped = line.clone();
        let at = flipped.len() - 5;
        flipped[at] ^= 1;
        assert_eq!(
            decode_line(&flipped[..flipped.len() - 1]).unwrap_err(),
            "checksum mismatch"
        );
    }
}
