//! A two-way index of pairs, e.g. (stack, fleet) or (stack, user): either side's partners
//! in name order without a scan. Serialized as the list of pairs; the reverse side is
//! rebuilt on loading.

use std::collections::BTreeSet;
use std::ops::Bound;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Default)]
pub struct Associations {
    /// (left, right) pairs.
    pairs: BTreeSet<(String, String)>,
    /// The same pairs as (right, left).
    reversed: BTreeSet<(String, String)>,
}

/// The pairs of `set` whose first element is `first`, after `(first, after)` if given.
fn with_first<'a>(
    set: &'a BTreeSet<(String, String)>,
    first: &'a str,
    after: Option<&str>,
) -> impl Iterator<Item = &'a str> {
    let start = match after {
        Some(after) => Bound::Excluded((first.to_string(), after.to_string())),
        None => Bound::Included((first.to_string(), String::new())),
    };
    set.range((start, Bound::Unbounded))
        .take_while(move |(f, _)| f == first)
        .map(|(_, second)| second.as_str())
}

impl Associations {
    /// Adds a pair; false when it was already there.
    pub fn insert(&mut self, left: &str, right: &str) -> bool {
        self.reversed.insert((right.to_string(), left.to_string()));
        self.pairs.insert((left.to_string(), right.to_string()))
    }

    /// Removes a pair; false when it was not there.
    pub fn remove(&mut self, left: &str, right: &str) -> bool {
        self.reversed.remove(&(right.to_string(), left.to_string()));
        self.pairs.remove(&(left.to_string(), right.to_string()))
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn contains(&self, left: &str, right: &str) -> bool {
        self.pairs.contains(&(left.to_string(), right.to_string()))
    }

    /// The rights paired with `left`, in name order.
    pub fn rights_of<'a>(&'a self, left: &'a str) -> impl Iterator<Item = &'a str> {
        with_first(&self.pairs, left, None)
    }

    /// The lefts paired with `right`, in name order.
    pub fn lefts_of<'a>(&'a self, right: &'a str) -> impl Iterator<Item = &'a str> {
        with_first(&self.reversed, right, None)
    }

    /// Every pair in (left, right) order, starting after `after`.
    pub fn pairs_after(
        &self,
        after: Option<(String, String)>,
    ) -> impl Iterator<Item = &(String, String)> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.pairs.range((start, Bound::Unbounded))
    }

    /// Drops every pair with `left` (a left-side resource is deleted).
    pub fn remove_left(&mut self, left: &str) {
        let rights: Vec<String> = self.rights_of(left).map(str::to_string).collect();
        for right in rights {
            self.remove(left, &right);
        }
    }

    /// Drops every pair with `right` (a right-side resource is deleted).
    pub fn remove_right(&mut self, right: &str) {
        let lefts: Vec<String> = self.lefts_of(right).map(str::to_string).collect();
        for left in lefts {
            self.remove(&left, right);
        }
    }
}

impl Serialize for Associations {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.pairs.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Associations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = BTreeSet::<(String, String)>::deserialize(deserializer)?;
        let reversed = pairs.iter().map(|(l, r)| (r.clone(), l.clone())).collect();
        Ok(Associations { pairs, reversed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_list_their_partners_in_order() {
        let mut a = Associations::default();
        for (l, r) in [("s1", "f2"), ("s1", "f1"), ("s2", "f1"), ("s10", "f1")] {
            assert!(a.insert(l, r));
        }
        assert!(!a.insert("s1", "f1"));
        assert_eq!(a.rights_of("s1").collect::<Vec<_>>(), ["f1", "f2"]);
        assert_eq!(a.lefts_of("f1").collect::<Vec<_>>(), ["s1", "s10", "s2"]);
        a.remove_right("f1");
        assert_eq!(a.lefts_of("f1").count(), 0);
        assert_eq!(a.rights_of("s1").collect::<Vec<_>>(), ["f2"]);
        let json = serde_json::to_string(&a).unwrap();
        let back: Associations = serde_json::from_str(&json).unwrap();
        assert_eq!(back.lefts_of("f2").collect::<Vec<_>>(), ["s1"]);
    }
}
