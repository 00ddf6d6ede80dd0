//! A region's state as JSON a bounded number of entries at a time, for the answers that
//! show a whole state (`/_state`, the state browser): each piece is taken under the
//! region's shared lock and the lock is let go between pieces, so a writer waits at most
//! for one piece, and a reader holds at most one piece, however large the state.
//! Between pieces the state may change: each entry is shown whole, as it was when its
//! piece was taken, and none twice.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::Serialize;

use super::associations::Associations;
use super::RegionState;

/// Entries per piece at most: a thousand stacks are about a megabyte of JSON.
pub const ENTRIES_PER_PIECE: usize = 256;
/// A piece ends once it holds this many bytes (a resource's tags alone can be 19 KB).
const PIECE_BYTES: usize = 64 * 1024;

/// Where the next piece of a member starts: after this entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Key {
    Name(String),
    Pair(String, String),
}

/// How a member is written: a JSON object of named entries, an array of pairs, or one
/// value written whole.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Map,
    Pairs,
    Whole,
}

/// Up to `ENTRIES_PER_PIECE` entries of one member.
pub struct Piece {
    /// The member's field in the state, e.g. `stacks`.
    pub member: &'static str,
    /// The field the entries sit under within the member (the tag store's `by_arn`).
    pub inner: Option<&'static str>,
    pub shape: Shape,
    /// The entries as one JSON value: an object (Map), an array (Pairs) or the value.
    pub json: Vec<u8>,
    /// How many entries the member holds now.
    pub total: usize,
    /// Where the next piece starts; none when this is the member's last.
    pub next: Option<Key>,
}

/// What the pieces need of a member.
trait Member {
    fn shape(&self) -> Shape;
    fn total(&self) -> usize;
    /// Writes up to `limit` entries after `after` into `out` as one JSON value, fewer
    /// once it passes `PIECE_BYTES`; returns the last key written when more follow.
    fn write(&self, after: Option<&Key>, limit: usize, out: &mut Vec<u8>) -> Option<Key>;
    /// One named entry as JSON.
    fn entry(&self, _key: &str) -> Option<Vec<u8>> {
        None
    }
}

impl<V: Serialize> Member for BTreeMap<String, V> {
    fn shape(&self) -> Shape {
        Shape::Map
    }

    fn total(&self) -> usize {
        self.len()
    }

    fn write(&self, after: Option<&Key>, limit: usize, out: &mut Vec<u8>) -> Option<Key> {
        let start = match after {
            Some(Key::Name(name)) => Bound::Excluded(name.as_str()),
            _ => Bound::Unbounded,
        };
        let mut entries = self.range::<str, _>((start, Bound::Unbounded)).peekable();
        out.push(b'{');
        let mut last = None;
        for (written, (name, value)) in entries.by_ref().take(limit).enumerate() {
            if out.len() >= PIECE_BYTES {
                break;
            }
            if written > 0 {
                out.push(b',');
            }
            // Plain data with string keys cannot fail to serialise.
            let _ = serde_json::to_writer(&mut *out, name);
            out.push(b':');
            let _ = serde_json::to_writer(&mut *out, value);
            last = Some(name);
        }
        out.push(b'}');
        entries.peek()?;
        last.map(|name| Key::Name(name.clone()))
    }

    fn entry(&self, key: &str) -> Option<Vec<u8>> {
        serde_json::to_vec(self.get(key)?).ok()
    }
}

impl Member for Associations {
    fn shape(&self) -> Shape {
        Shape::Pairs
    }

    fn total(&self) -> usize {
        self.len()
    }

    fn write(&self, after: Option<&Key>, limit: usize, out: &mut Vec<u8>) -> Option<Key> {
        let after = match after {
            Some(Key::Pair(left, right)) => Some((left.clone(), right.clone())),
            _ => None,
        };
        let mut pairs = self.pairs_after(after).peekable();
        out.push(b'[');
        let mut last = None;
        for (written, pair) in pairs.by_ref().take(limit).enumerate() {
            if out.len() >= PIECE_BYTES {
                break;
            }
            if written > 0 {
                out.push(b',');
            }
            let _ = serde_json::to_writer(&mut *out, pair);
            last = Some(pair);
        }
        out.push(b']');
        pairs.peek()?;
        last.map(|(left, right)| Key::Pair(left.clone(), right.clone()))
    }
}

impl<T: Serialize> Member for Option<T> {
    fn shape(&self) -> Shape {
        Shape::Whole
    }

    fn total(&self) -> usize {
        usize::from(self.is_some())
    }

    fn write(&self, _after: Option<&Key>, _limit: usize, out: &mut Vec<u8>) -> Option<Key> {
        let _ = serde_json::to_writer(out, self);
        None
    }
}

impl RegionState {
    /// Every member as the state serialises it, in its order, with the field its entries
    /// sit under; a test holds this list to the serialised state's fields.
    fn members(&self) -> [(&'static str, Option<&'static str>, &dyn Member); 23] {
        [
            ("stacks", None, &*self.stacks),
            ("fleets", None, &*self.fleets),
            ("image_builders", None, &*self.image_builders),
            ("images", None, &*self.images),
            ("image_permissions", None, &self.image_permissions),
            ("fleet_stacks", None, &self.fleet_stacks),
            ("users", None, &*self.users),
            ("user_stacks", None, &self.user_stacks),
            ("sessions", None, &self.sessions),
            ("directory_configs", None, &*self.directory_configs),
            ("themes", None, &*self.themes),
            ("app_blocks", None, &*self.app_blocks),
            ("applications", None, &*self.applications),
            ("application_fleets", None, &self.application_fleets),
            ("app_block_builders", None, &*self.app_block_builders),
            (
                "app_block_builder_blocks",
                None,
                &self.app_block_builder_blocks,
            ),
            ("export_tasks", None, &*self.export_tasks),
            ("entitlements", None, &*self.entitlements),
            ("entitled_applications", None, &self.entitled_applications),
            (
                "usage_report_subscription",
                None,
                &self.usage_report_subscription,
            ),
            ("license_usage", None, &self.license_usage),
            ("tags", Some("by_arn"), self.tags.by_arn()),
            (
                "application_settings_bucket",
                None,
                &self.application_settings_bucket,
            ),
        ]
    }

    /// The names of the members, in the order `piece_at` counts them.
    pub fn member_names(&self) -> impl Iterator<Item = &'static str> {
        self.members().map(|(name, _, _)| name).into_iter()
    }

    /// Up to `limit` entries of `member` after `after` (fewer past `PIECE_BYTES`); none
    /// when the state has no such member.
    pub fn piece(&self, member: &str, after: Option<&Key>, limit: usize) -> Option<Piece> {
        let index = self.member_names().position(|name| name == member)?;
        self.piece_at(index, after, limit)
    }

    /// The same, of the `index`th member; none past the last.
    pub fn piece_at(&self, index: usize, after: Option<&Key>, limit: usize) -> Option<Piece> {
        let (name, inner, found) = self.members().into_iter().nth(index)?;
        let mut json = Vec::new();
        let next = found.write(after, limit, &mut json);
        Some(Piece {
            member: name,
            inner,
            shape: found.shape(),
            json,
            total: found.total(),
            next,
        })
    }

    /// One entry of a map member, by its key, as JSON.
    pub fn entry_json(&self, member: &str, key: &str) -> Option<Vec<u8>> {
        let (_, _, found) = self
            .members()
            .into_iter()
            .find(|(name, _, _)| *name == member)?;
        found.entry(key)
    }
}

/// Joins a state's pieces, member after member, into the JSON the state serialises to.
#[derive(Default)]
pub struct Joiner {
    members_written: usize,
    /// Whether the current member has had an entry yet.
    has_entries: bool,
}

impl Joiner {
    /// Appends `piece` (its `json` possibly rewritten, e.g. redacted, but still the same
    /// shape) to `out`; `first` says whether it is the member's first piece.
    pub fn push(&mut self, piece: &Piece, first: bool, out: &mut Vec<u8>) {
        if first {
            out.push(if self.members_written == 0 {
                b'{'
            } else {
                b','
            });
            let _ = serde_json::to_writer(&mut *out, piece.member);
            out.push(b':');
            if let Some(inner) = piece.inner {
                out.push(b'{');
                let _ = serde_json::to_writer(&mut *out, inner);
                out.push(b':');
            }
            self.has_entries = false;
        }
        match piece.shape {
            Shape::Whole => out.extend_from_slice(&piece.json),
            Shape::Map | Shape::Pairs => {
                if first {
                    out.push(piece.json[0]);
                }
                let entries = &piece.json[1..piece.json.len() - 1];
                if !entries.is_empty() {
                    if self.has_entries {
                        out.push(b',');
                    }
                    out.extend_from_slice(entries);
                    self.has_entries = true;
                }
                if piece.next.is_none() {
                    out.push(piece.json[piece.json.len() - 1]);
                }
            }
        }
        if piece.next.is_none() {
            if piece.inner.is_some() {
                out.push(b'}');
            }
            self.members_written += 1;
        }
    }

    /// Closes the state's object.
    pub fn finish(&self, out: &mut Vec<u8>) {
        out.push(if self.members_written == 0 {
            b'{'
        } else {
            b'}'
        });
        if self.members_written == 0 {
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::types::{Stack, UsageReportSubscription};
    use serde_json::Value;

    /// Every piece of every member, joined.
    fn joined(state: &RegionState) -> Value {
        let mut joiner = Joiner::default();
        let mut out = Vec::new();
        let mut pieces = 0;
        for member in state.member_names() {
            let mut after = None;
            loop {
                let piece = state
                    .piece(member, after.as_ref(), ENTRIES_PER_PIECE)
                    .unwrap();
                joiner.push(&piece, after.is_none(), &mut out);
                pieces += 1;
                match piece.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        joiner.finish(&mut out);
        assert!(
            pieces > state.member_names().count(),
            "some member took several pieces"
        );
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn the_pieces_joined_are_the_state_as_it_serialises() {
        let mut state = RegionState::default();
        for i in 0..(2 * ENTRIES_PER_PIECE + 3) {
            let name = format!("s{i:04}");
            let stack = Stack {
                name: name.clone(),
                arn: Some(format!(
                    "arn:aws:appstream:us-east-1:000000000000:stack/{name}"
                )),
                ..Default::default()
            };
            state.stacks.insert(name.clone(), stack);
            state.fleet_stacks.insert(&name, "f");
            let arn = format!("arn:aws:appstream:us-east-1:000000000000:stack/{name}");
            state
                .tags
                .merge(&arn, [("k".to_string(), i.to_string())].into());
        }
        state.usage_report_subscription = Some(UsageReportSubscription::default());
        let whole = serde_json::to_value(&state).unwrap();
        let fields: Vec<&str> = whole
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut names: Vec<&str> = state.member_names().collect();
        names.sort();
        let mut sorted = fields.clone();
        sorted.sort();
        assert_eq!(names, sorted, "every field of the state is a member");
        assert_eq!(joined(&state), whole);
        assert_eq!(
            joined_empty(),
            serde_json::to_value(RegionState::default()).unwrap()
        );
        assert_eq!(
            state
                .entry_json("stacks", "s0001")
                .map(|j| serde_json::from_slice::<Value>(&j).unwrap()),
            Some(whole["stacks"]["s0001"].clone())
        );
    }

    fn joined_empty() -> Value {
        let state = RegionState::default();
        let mut joiner = Joiner::default();
        let mut out = Vec::new();
        for member in state.member_names() {
            joiner.push(&state.piece(member, None, 1).unwrap(), true, &mut out);
        }
        joiner.finish(&mut out);
        serde_json::from_slice(&out).unwrap()
    }
}
