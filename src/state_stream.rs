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

/// One tenant's state as shown: in the form of a snapshot's entry, redacted.
#[derive(serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    tenant: &'a Tenant,
    state: &'a serde_json::Value,
}

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
            let mut state = serde_json::to_value(&*read(&region)).unwrap_or_default();
            crate::redact::redact_stored(&mut state);
            let entry = Shown {
                tenant: &tenant,
                state: &state,
            };
            let _ = serde_json::to_writer(&mut chunk, &entry);
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
