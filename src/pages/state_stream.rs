//! `GET /_state` in pieces: `{"regions":[`, then each tenant's state a member's piece
//! at a time (`state::pieces`), each taken under the region's shared lock and let go at
//! once, then `]}`. Values the model marks sensitive show as pseudonyms (`redact`).

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

use crate::identity::tenant::Tenant;
use crate::state::pieces::{Joiner, Key, ENTRIES_PER_PIECE};
use crate::state::{read, RegionState, Store};

/// The tenant being written: its region, the member and entry the next piece starts at.
struct Current {
    region: Arc<RwLock<RegionState>>,
    member: usize,
    after: Option<Key>,
    joiner: Joiner,
}

pub struct StatePieces {
    pending: VecDeque<(Tenant, Arc<RwLock<RegionState>>)>,
    current: Option<Current>,
    started: bool,
    finished: bool,
    first_tenant: bool,
}

impl StatePieces {
    /// Every tenant's state, or only `only`'s.
    pub fn new(store: &Store, only: Option<Tenant>) -> Self {
        StatePieces {
            pending: store.tenants(only.as_ref()).into(),
            current: None,
            started: false,
            finished: false,
            first_tenant: true,
        }
    }

    /// The tenant's opening: `{"account":..,"region":..,"state":`.
    fn open(&mut self, tenant: &Tenant) -> Vec<u8> {
        let mut out = Vec::new();
        if !std::mem::take(&mut self.first_tenant) {
            out.push(b',');
        }
        // Plain data with string keys cannot fail to serialise.
        let _ = serde_json::to_writer(&mut out, tenant);
        out.pop();
        out.extend_from_slice(b",\"state\":");
        out
    }

    /// The current tenant's next piece, and whether it was its last.
    fn piece(current: &mut Current) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let taken = read(&current.region).piece_at(
            current.member,
            current.after.as_ref(),
            ENTRIES_PER_PIECE,
        );
        let Some(mut piece) = taken else {
            current.joiner.finish(&mut out);
            out.push(b'}');
            return (out, true);
        };
        if let Some(redacted) =
            crate::model::redact::redacted_member_json(piece.member, &piece.json)
        {
            piece.json = redacted;
        }
        current
            .joiner
            .push(&piece, current.after.is_none(), &mut out);
        match piece.next {
            Some(next) => current.after = Some(next),
            None => {
                current.member += 1;
                current.after = None;
            }
        }
        (out, false)
    }
}

impl Iterator for StatePieces {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if !std::mem::replace(&mut self.started, true) {
            return Some(b"{\"regions\":[".to_vec());
        }
        if let Some(current) = self.current.as_mut() {
            let (piece, last) = Self::piece(current);
            if last {
                self.current = None;
            }
            return Some(piece);
        }
        if let Some((tenant, region)) = self.pending.pop_front() {
            let opening = self.open(&tenant);
            self.current = Some(Current {
                region,
                member: 0,
                after: None,
                joiner: Joiner::default(),
            });
            return Some(opening);
        }
        if !std::mem::replace(&mut self.finished, true) {
            return Some(b"]}".to_vec());
        }
        None
    }
}
