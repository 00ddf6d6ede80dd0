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

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{Config, Rules};
use crate::error::ApiError;
use crate::request::context::TransitionFailure;
use crate::state::Store;

mod compaction;
mod journal;
mod replay;
mod snapshot;

pub use compaction::spawn_compactor;
pub use journal::Journal;
pub use replay::CLOCK_RECORD;
use snapshot::sync_dir;
const JOURNAL: &str = "journal.log";

const SNAPSHOT: &str = "snapshot.json";

/// What `--init` seeded, written once it has all applied: a full reset returns to it,
/// also when the journal's `_reset` records are replayed after a restart.
const SEED: &str = "seed.json";

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
    #[error("--state-dir {path} cannot be used: {reason}. {fix}")]
    Unusable {
        path: PathBuf,
        reason: String,
        fix: String,
    },
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

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PersistenceError + '_ {
    move |source| PersistenceError::Io {
        path: path.to_path_buf(),
        source,
    }
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
        check_usable(dir)?;
        if dir.join(SEEDING).exists() {
            tracing::warn!(
                "{}: an earlier --init did not finish; its partial state is discarded",
                dir.display()
            );
            discard_state(dir)?;
        }
        let fresh = !dir.join(SNAPSHOT).exists() && !dir.join(JOURNAL).exists();
        let store = Arc::new(Store::default());
        let seed = dir.join(SEED);
        if seed.exists() {
            let file = File::open(&seed).map_err(io_error(&seed))?;
            let seeded = serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| {
                PersistenceError::Corrupt {
                    path: seed.clone(),
                    offset: 0,
                    reason: e.to_string(),
                }
            })?;
            store.set_baseline(seeded);
        }
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
            let seeded = self.store.export();
            let seed = dir.join(SEED);
            let bytes = serde_json::to_vec(&seeded)
                .map_err(|e| io_error(&seed)(std::io::Error::other(e)))?;
            snapshot::write_durably(dir, &seed, &bytes)?;
            self.store.set_baseline(seeded);
            let marker = dir.join(SEEDING);
            std::fs::remove_file(&marker).map_err(io_error(&marker))?;
            sync_dir(dir).map_err(io_error(dir))
        } else {
            discard_state(dir)
        }
    }
}

/// Refuses a `--state-dir` that is not a directory or that this process cannot write, so
/// that a server never starts only to refuse every write.
fn check_usable(dir: &Path) -> Result<(), PersistenceError> {
    let unusable = |reason: String, fix: String| PersistenceError::Unusable {
        path: dir.to_path_buf(),
        reason,
        fix,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(unusable(
            "it exists and is not a directory".into(),
            "Give --state-dir a directory, or a path where one can be created.".into(),
        ));
    }
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    let written = std::fs::create_dir_all(dir).and_then(|_| {
        let written = File::create(&probe).and_then(|file| file.sync_all());
        let _ = std::fs::remove_file(&probe);
        written
    });
    written.map_err(|e| {
        let read_only = e.kind() == std::io::ErrorKind::ReadOnlyFilesystem;
        unusable(
            format!("this process cannot write in it ({e})"),
            match process_user() {
                _ if read_only => "Its filesystem is mounted read-only: mount it read-write (a container volume without :ro), or choose another directory.".into(),
                Some(uid) => format!(
                    "The server runs as user id {uid}: make the directory writable for that user (e.g. `chown -R {uid} {}`), or choose another directory.",
                    dir.display()
                ),
                None => "Make the directory writable for the user the server runs as, or choose another directory.".into(),
            },
        )
    })
}

#[cfg(unix)]
fn process_user() -> Option<u32> {
    Some(rustix::process::geteuid().as_raw())
}

#[cfg(not(unix))]
fn process_user() -> Option<u32> {
    None
}

/// Removes a directory's state: snapshot, journal and seeding marker (the last, so a
/// crash part-way leaves the marker and the next start discards the rest).
fn discard_state(dir: &Path) -> Result<(), PersistenceError> {
    for name in [SNAPSHOT, JOURNAL, SEED, SEEDING] {
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

#[cfg(test)]
mod tests {
    use super::journal::encode_line;
    use super::replay::{decode_line, for_each_record};
    use super::*;
    use crate::generated::operations::Operation;
    use crate::identity::tenant::Tenant;
    use crate::request::context::RequestContext;
    use std::sync::atomic::Ordering;

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
