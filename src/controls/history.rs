//! The request history behind `GET /_requests`: the last N API requests, oldest first,
//! so a test can assert what its code called and in which order. Inputs are kept as the
//! bodies received and decoded and redacted only when read, which costs the request path
//! no copy.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::Value;

use crate::generated::operations::Operation;
use crate::protocol::Protocol;

/// One API request as it was answered.
pub struct Entry {
    /// Epoch seconds with millisecond precision.
    pub time: f64,
    pub request_id: String,
    /// The operation asked for, as the client named it (it may not exist).
    pub operation: String,
    pub protocol: &'static str,
    pub account: String,
    pub region: String,
    pub status: u16,
    pub error: Option<std::borrow::Cow<'static, str>>,
    pub latency_us: u64,
    /// The fault rule that fired, if one did.
    pub fault: Option<String>,
    /// The input, when the request got that far.
    pub input: Option<Input>,
}

/// A request's input as the history keeps it: the body as received (shared, not
/// copied), decoded again only when the history is read.
pub struct Input {
    pub operation: Operation,
    pub protocol: Protocol,
    pub body: bytes::Bytes,
}

impl Input {
    /// The decoded input with its sensitive members replaced.
    fn shown(&self) -> Value {
        match self.protocol.decode(&self.body, self.operation.input()) {
            Ok(input) => crate::model::redact::redacted(self.operation.input(), &input),
            Err(_) => Value::Null,
        }
    }
}

/// Bodies larger than this are not kept (the entry's input is null), so that the
/// history holds at most this much per request.
pub const MAX_KEPT_BODY: usize = 16 * 1024;

/// An entry as `GET /_requests` shows it: sensitive input members are `"***"`.
#[derive(Serialize)]
pub struct Shown<'a> {
    time: String,
    request_id: &'a str,
    operation: &'a str,
    protocol: &'a str,
    account: &'a str,
    region: &'a str,
    status: u16,
    error: Option<&'a str>,
    latency_us: u64,
    fault: Option<&'a str>,
    input: Value,
}

/// Which entries a query asks for; an absent filter matches everything.
#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub operation: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub status: Option<u16>,
}

impl Filter {
    fn matches(&self, entry: &Entry) -> bool {
        self.operation
            .as_ref()
            .is_none_or(|o| *o == entry.operation)
            && self.account.as_ref().is_none_or(|a| *a == entry.account)
            && self.region.as_ref().is_none_or(|r| *r == entry.region)
            && self.status.is_none_or(|s| s == entry.status)
    }
}

/// Requests record into one of several shards (by their number), so that concurrent
/// requests seldom wait for each other; reading merges the shards by number.
const SHARDS: usize = 8;

/// An entry and its number, which orders the shards' entries when they are merged.
type Numbered = (u64, Arc<Entry>);

pub struct History {
    capacity: usize,
    /// Each shard keeps its latest `per_shard` entries, numbered; shared, so that a
    /// reader copies pointers under the locks and decodes the bodies outside them.
    shards: Vec<Mutex<VecDeque<Numbered>>>,
    per_shard: usize,
    next: AtomicU64,
}

impl History {
    /// A history of the last `capacity` requests; 0 keeps none.
    pub fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS);
        History {
            capacity,
            shards: (0..SHARDS)
                .map(|_| Mutex::new(VecDeque::with_capacity(per_shard.min(1024))))
                .collect(),
            per_shard,
            next: AtomicU64::new(0),
        }
    }

    pub fn is_on(&self) -> bool {
        self.capacity > 0
    }

    pub fn record(&self, entry: Entry) {
        if !self.is_on() {
            return;
        }
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let mut shard = lock(&self.shards[number as usize % SHARDS]);
        let oldest = if shard.len() == self.per_shard {
            shard.pop_front()
        } else {
            None
        };
        shard.push_back((number, Arc::new(entry)));
        drop(shard);
        // The oldest entry is freed outside the lock.
        drop(oldest);
    }

    pub fn clear(&self) {
        for shard in &self.shards {
            lock(shard).clear();
        }
    }

    /// The entries `filter` selects, oldest first, as the pieces of a JSON answer
    /// `{"requests": [...]}`. The locks are held only to copy the entries' pointers, one
    /// shard at a time; bodies are decoded a few entries at a time, as the pieces are
    /// taken, so requests are never held up and a reader holds one piece.
    pub fn shown(&self, filter: &Filter) -> ShownPieces {
        let mut entries: Vec<Numbered> = Vec::new();
        for shard in &self.shards {
            entries.extend(lock(shard).iter().cloned());
        }
        entries.sort_by_key(|(number, _)| *number);
        let skip = entries.len().saturating_sub(self.capacity);
        let selected: Vec<Arc<Entry>> = entries
            .into_iter()
            .skip(skip)
            .map(|(_, entry)| entry)
            .filter(|entry| filter.matches(entry))
            .collect();
        ShownPieces {
            entries: selected.into_iter(),
            started: false,
            finished: false,
            first: true,
        }
    }
}

/// Entries decoded per piece of the answer.
const ENTRIES_PER_PIECE: usize = 32;

/// `GET /_requests`'s answer, a few entries at a time.
pub struct ShownPieces {
    entries: std::vec::IntoIter<Arc<Entry>>,
    started: bool,
    finished: bool,
    first: bool,
}

impl Iterator for ShownPieces {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if !std::mem::replace(&mut self.started, true) {
            return Some(b"{\"requests\":[".to_vec());
        }
        let mut out = Vec::new();
        for entry in self.entries.by_ref().take(ENTRIES_PER_PIECE) {
            if !std::mem::take(&mut self.first) {
                out.push(b',');
            }
            // Plain data with string keys cannot fail to serialise.
            let _ = serde_json::to_writer(&mut out, &Shown::of(&entry));
        }
        if !out.is_empty() {
            return Some(out);
        }
        if !std::mem::replace(&mut self.finished, true) {
            return Some(b"]}".to_vec());
        }
        None
    }
}

impl<'a> Shown<'a> {
    fn of(entry: &'a Entry) -> Self {
        Shown {
            time: rfc3339(entry.time),
            request_id: &entry.request_id,
            operation: &entry.operation,
            protocol: entry.protocol,
            account: &entry.account,
            region: &entry.region,
            status: entry.status,
            error: entry.error.as_deref(),
            latency_us: entry.latency_us,
            fault: entry.fault.as_deref(),
            input: entry.input.as_ref().map_or(Value::Null, Input::shown),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn rfc3339(epoch_seconds: f64) -> String {
    chrono::DateTime::from_timestamp_millis((epoch_seconds * 1000.0).round() as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
