//! `GET /_state` as a streamed body: `{"regions":[` then one tenant's state per chunk,
//! each copied from the region under its shared lock and shown with the values the
//! model marks sensitive replaced by pseudonyms (`redact`), then `]}`. A large state
//! is never copied or built into one value, and writers wait at most for one tenant's
//! serialisation.

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
            // with nothing sensitive is never copied (redact_stored_json returns it).
            chunk.pop();
            chunk.extend_from_slice(b",\"state\":");
            let start = chunk.len();
            let _ = serde_json::to_writer(&mut chunk, &*read(&region));
            let state = crate::redact::redact_stored_json(chunk.split_off(start));
            chunk.extend_from_slice(&state);
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
