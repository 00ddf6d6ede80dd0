//! `GET /_state` as a streamed body: `{"regions":[` then one tenant's state per chunk,
//! each written straight from the region under its shared lock, then `]}`. A large state
//! is never copied or built into one value, and writers wait at most for one tenant's
//! serialisation. A tenant whose state holds values the model marks sensitive is shown
//! with pseudonyms in their place (`redact`).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame};

use crate::state::{read, RegionState, Store};
use crate::tenant::Tenant;

pub struct StateStream {
    pending: VecDeque<(Tenant, Arc<RwLock<RegionState>>)>,
    started: bool,
    finished: bool,
    first: bool,
}

impl StateStream {
    /// Every tenant's state, or only `only`'s.
    pub fn new(store: Arc<Store>, only: Option<Tenant>) -> Self {
        StateStream {
            pending: store.tenants(only.as_ref()).into(),
            started: false,
            finished: false,
            first: true,
        }
    }

    fn next_chunk(&mut self) -> Option<Bytes> {
        if !self.started {
            self.started = true;
            return Some(Bytes::from_static(b"{\"regions\":["));
        }
        if let Some((tenant, region)) = self.pending.pop_front() {
            let mut chunk = Vec::new();
            if !std::mem::take(&mut self.first) {
                chunk.push(b',');
            }
            // Plain data with string keys cannot fail to serialize.
            let _ = serde_json::to_writer(&mut chunk, &tenant);
            // The tenant's object, then its "state" member, written in place: a state
            // with nothing sensitive is never copied.
            chunk.pop();
            chunk.extend_from_slice(b",\"state\":");
            let start = chunk.len();
            let _ = serde_json::to_writer(&mut chunk, &*read(&region));
            if let Some(redacted) = crate::redact::redacted_stored_json(&chunk[start..]) {
                chunk.truncate(start);
                chunk.extend_from_slice(&redacted);
            }
            chunk.push(b'}');
            return Some(chunk.into());
        }
        if !self.finished {
            self.finished = true;
            return Some(Bytes::from_static(b"]}"));
        }
        None
    }
}

impl Body for StateStream {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(
            self.get_mut()
                .next_chunk()
                .map(|chunk| Ok(Frame::data(chunk))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.finished
    }
}
