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

use crate::api::dispatch::{control, dispatch_control, dispatch_replay, WriteLog};
use crate::config::{Config, Rules};
use crate::error::ApiError;
use crate::generated::operations::Operation;
use crate::identity::tenant::Tenant;
use crate::request::context::{RequestContext, TransitionFailure};
use crate::state::{Store, TenantState};

const JOURNAL: &str = "journal.log";
const SNAPSHOT: &str = "snapshot.json";
/// Present while `--init` seeds a fresh directory: a directory that still has it holds
/// half a seed (the seed failed, or the process died), which is never served.
const SEEDING: &str = "seeding.incomplete";

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
    #[error("{snapshot} is missing, but {journal} exists and records only what came after it; restore the snapshot, or delete the journal too to start empty")]
    MissingSnapshot { snapshot: PathBuf, journal: PathBuf },
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
    /// The rules the write ran under (absent in journals written before they were kept:
    /// those replay under the current flags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Rules>,
    /// The failure a fault rule gave the transitions the write began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition_failure: Option<TransitionFailure>,
    pub input: Value,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    /// The last journal record the snapshot includes.
    last_seq: u64,
    regions: Vec<TenantState>,
    /// How far `POST /_clock` had moved the clock (absent in older snapshots).
    #[serde(default)]
    clock_offset_seconds: f64,
}

struct JournalFile {
    /// None when the journal could not be opened for appending (a read-only or full
    /// disk): the loaded state is served, and writes are refused saying why.
    file: Option<Arc<File>>,
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
    /// The server's clock, whose offset snapshots keep.
    clock: crate::controls::clock::Clock,
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

/// A store and the journal that makes its writes durable: the journal wraps the store
/// from above, and the store knows nothing of it.
#[derive(Clone)]
pub struct Durable {
    pub store: Arc<Store>,
    pub journal: Arc<Journal>,
    /// Whether the directory held no state before it was opened (`--init` seeds only then).
    pub fresh: bool,
}

impl Durable {
    /// A store loaded from `dir` whose every acknowledged write is journaled there.
    pub fn open(dir: &Path, config: &Config) -> Result<Durable, PersistenceError> {
        if dir.join(SEEDING).exists() {
            tracing::warn!(
                "{}: an earlier --init did not finish; its partial state is discarded",
                dir.display()
            );
            discard_state(dir)?;
        }
        let fresh = !dir.join(SNAPSHOT).exists() && !dir.join(JOURNAL).exists();
        let store = Arc::new(Store::default());
        let journal = Arc::new(Journal::open(dir, &store, config)?);
        Ok(Durable {
            store,
            journal,
            fresh,
        })
    }

    /// Marks the directory as being seeded, until `seeded` says how it went.
    pub fn seeding(&self) -> Result<(), PersistenceError> {
        let marker = self.journal.dir.join(SEEDING);
        File::create(&marker)
            .and_then(|file| file.sync_all())
            .map_err(io_error(&marker))?;
        sync_dir(&self.journal.dir).map_err(io_error(&self.journal.dir))
    }

    /// Ends seeding: a whole seed stays (the marker goes), a failed one is removed, so
    /// that the next start seeds afresh just as this one did.
    pub fn seeded(&self, whole: bool) -> Result<(), PersistenceError> {
        let dir = &self.journal.dir;
        if whole {
            let marker = dir.join(SEEDING);
            std::fs::remove_file(&marker).map_err(io_error(&marker))?;
            sync_dir(dir).map_err(io_error(dir))
        } else {
            discard_state(dir)
        }
    }
}

/// Removes a directory's state: snapshot, journal and seeding marker (the last, so a
/// crash part-way leaves the marker and the next start discards the rest).
fn discard_state(dir: &Path) -> Result<(), PersistenceError> {
    for name in [SNAPSHOT, JOURNAL, SEEDING] {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path)(e)),
        }
    }
    sync_dir(dir).map_err(io_error(dir))
}

/// A write the journal could not take, as the API answers it.
pub fn not_durable(e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!("journal write failed: {e}");
    ApiError::internal(format!("The write could not be made durable: {e}"))
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
    /// Loads `dir` into `store` (snapshot, then journal), compacts it into a new snapshot,
    /// and opens the journal for appending. Serving what was loaded needs no write: when
    /// the directory cannot be written (read-only, full), start-up goes on, says why, and
    /// every write is refused with that reason.
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
            journal.stop(e);
            return Ok(journal);
        }
        // The first snapshot goes before the journal exists; later ones fold the journal in.
        if let Err(e) = journal.compact(store) {
            tracing::warn!("cannot compact the loaded state (the journal still holds it): {e}");
            if !journal_path.exists() {
                journal.stop(e);
                return Ok(journal);
            }
        }
        let mut file = crate::state::lock(&journal.file);
        if file.file.is_none() {
            match open_append(&journal_path).and_then(|f| {
                let len = f.metadata().map_err(io_error(&journal_path))?.len();
                Ok((f, len))
            }) {
                Ok((f, len)) => {
                    file.file = Some(Arc::new(f));
                    file.len = len;
                }
                Err(e) => {
                    drop(file);
                    journal.stop(e);
                    return Ok(journal);
                }
            }
        }
        drop(file);
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

    fn mark_durable(&self, through: u64) {
        self.durable.send_if_modified(|durable| {
            let advanced = through > *durable;
            *durable = (*durable).max(through);
            advanced
        });
    }

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

fn temporary_for(path: &Path) -> PathBuf {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    PathBuf::from(temporary)
}

/// Temporary files a crash left behind (a failure removes its own).
fn remove_leftover_temporaries(dir: &Path) {
    for name in [SNAPSHOT, JOURNAL] {
        let temporary = temporary_for(&dir.join(name));
        if temporary.exists() {
            match std::fs::remove_file(&temporary) {
                Ok(()) => tracing::info!(
                    "removed {}, left by an interrupted compaction",
                    temporary.display()
                ),
                Err(e) => tracing::warn!("cannot remove {}: {e}", temporary.display()),
            }
        }
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old file or the new
/// one, and a failure leaves the old one and no temporary file.
fn write_durably(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), PersistenceError> {
    let temporary = temporary_for(path);
    let written = File::create(&temporary)
        .and_then(|mut file| file.write_all(bytes).and_then(|_| file.sync_all()))
        .map_err(io_error(&temporary))
        .and_then(|_| std::fs::rename(&temporary, path).map_err(io_error(path)));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    let _ = sync_dir(dir);
    Ok(())
}

/// Makes a directory's entries (files created, renamed or removed) durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
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

fn open_append(path: &Path) -> Result<File, PersistenceError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_error(path))
}

/// Reads the journal a record at a time (it is never held whole), handing each to
/// `each`. A torn tail is cut off and logged; when it cannot be cut (a read-only disk)
/// it is left in place and returned as the reason to take no writes. Damage anywhere
/// else is an error naming its offset.
fn for_each_record(
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
fn apply(store: &Store, config: &Config, record: &Record) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read_journal(path: &Path) -> Result<Vec<Record>, PersistenceError> {
        let mut records = Vec::new();
        for_each_record(path, |r| {
            records.push(r);
            Ok(())
        })?;
        Ok(records)
    }

    #[allow(clippy::disallowed_methods)] // a test's directory name, not state
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
        let journal = Journal::open(&dir, &store, &config).unwrap();
        // A handle that cannot be written stands in for a failing disk.
        crate::state::lock(&journal.file).file =
            Some(Arc::new(File::open(dir.join(JOURNAL)).unwrap()));
        let tenant = Tenant::default();
        let create = |name: &str| {
            let ctx = RequestContext::arriving(&tenant, &config);
            crate::api::dispatch::dispatch(
                Operation::CreateStack,
                &ctx,
                &store,
                serde_json::json!({"Name": name}),
                crate::protocol::Protocol::AwsJson11,
                Some(&journal),
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
            .flat_map(|t| t.state.stacks.keys().cloned().collect::<Vec<_>>())
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
        assert!(!journal.due_for_compaction(11, u64::MAX), "too few records");
        assert!(journal.due_for_compaction(10, u64::MAX));
        assert!(
            journal.due_for_compaction(usize::MAX, 10),
            "enough bytes suffice too"
        );
        let journal_len = crate::state::lock(&journal.file).len;
        crate::state::lock(&journal.file).snapshot_len = journal_len * 2 + 2;
        assert!(
            !journal.due_for_compaction(10, 10),
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
            rules: None,
            transition_failure: None,
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
