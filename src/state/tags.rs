//! Tags of every taggable resource in a region, keyed by the resource's ARN.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub type Tags = BTreeMap<String, String>;

/// AWS's limit of tags on one resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// In ARN order, so that the state shows them in a stable order, a piece at a time.
#[derive(Default, Clone, Serialize, Deserialize)]
pub struct TagStore {
    by_arn: BTreeMap<String, Tags>,
}

impl TagStore {
    pub fn by_arn(&self) -> &BTreeMap<String, Tags> {
        &self.by_arn
    }

    pub fn get(&self, arn: &str) -> Tags {
        self.by_arn.get(arn).cloned().unwrap_or_default()
    }

    /// How many tags the resource would carry after merging `new` into it.
    pub fn count_after_merge(&self, arn: &str, new: &Tags) -> usize {
        let existing = self.by_arn.get(arn);
        let added = new
            .keys()
            .filter(|k| existing.is_none_or(|e| !e.contains_key(*k)))
            .count();
        existing.map_or(0, BTreeMap::len) + added
    }

    pub fn merge(&mut self, arn: &str, new: Tags) {
        if new.is_empty() {
            return;
        }
        self.by_arn.entry(arn.to_string()).or_default().extend(new);
    }

    pub fn remove_keys(&mut self, arn: &str, keys: &[String]) {
        if let Some(tags) = self.by_arn.get_mut(arn) {
            for key in keys {
                tags.remove(key);
            }
            if tags.is_empty() {
                self.by_arn.remove(arn);
            }
        }
    }

    /// Forgets the tags of a resource that is gone.
    pub fn remove_resource(&mut self, arn: &str) {
        self.by_arn.remove(arn);
    }
}
