//! Which accounts share images with which, per Region: the owners a request has to look
//! at to see what is shared with its account. Without it, DescribeImages and CreateFleet
//! would settle and lock every account of the Region; with it, only the caller's and
//! those of the accounts that shared something with it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use super::{lock, RegionState};
use crate::identity::tenant::Tenant;

/// (Region, grantee account) -> the accounts of that Region that share images with it.
#[derive(Default)]
pub struct ShareIndex {
    owners: Mutex<HashMap<(String, String), BTreeSet<String>>>,
}

impl ShareIndex {
    /// The accounts of `region` that share some image with `grantee`.
    pub fn owners(&self, region: &str, grantee: &str) -> Vec<String> {
        lock(&self.owners)
            .get(&(region.to_string(), grantee.to_string()))
            .map(|owners| owners.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Records that `owner` now shares with `after` where it shared with `before`.
    pub fn update(&self, owner: &Tenant, before: &BTreeSet<String>, after: &BTreeSet<String>) {
        let mut owners = lock(&self.owners);
        for gone in before.difference(after) {
            let key = (owner.region.clone(), gone.clone());
            if let Some(set) = owners.get_mut(&key) {
                set.remove(&owner.account);
                if set.is_empty() {
                    owners.remove(&key);
                }
            }
        }
        for new in after.difference(before) {
            owners
                .entry((owner.region.clone(), new.clone()))
                .or_default()
                .insert(owner.account.clone());
        }
    }

    /// Forgets what `owner` shared (a scoped reset), or everything.
    pub fn forget(&self, owner: Option<&Tenant>) {
        let mut owners = lock(&self.owners);
        match owner {
            None => owners.clear(),
            Some(owner) => owners.retain(|(region, _), set| {
                if *region == owner.region {
                    set.remove(&owner.account);
                }
                !set.is_empty()
            }),
        }
    }
}

impl RegionState {
    /// The accounts this account shares at least one image with.
    pub fn image_grantees(&self) -> BTreeSet<String> {
        self.image_permissions
            .values()
            .flat_map(|shares| shares.keys().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(account: &str) -> Tenant {
        Tenant {
            account: account.into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn owners_follow_what_each_account_shares() {
        let index = ShareIndex::default();
        let set = |accounts: &[&str]| accounts.iter().map(|a| a.to_string()).collect();
        index.update(&tenant("111111111111"), &set(&[]), &set(&["333333333333"]));
        index.update(&tenant("222222222222"), &set(&[]), &set(&["333333333333"]));
        assert_eq!(
            index.owners("us-east-1", "333333333333"),
            ["111111111111", "222222222222"]
        );
        assert!(index.owners("eu-west-1", "333333333333").is_empty());
        index.update(&tenant("111111111111"), &set(&["333333333333"]), &set(&[]));
        assert_eq!(index.owners("us-east-1", "333333333333"), ["222222222222"]);
        index.forget(Some(&tenant("222222222222")));
        assert!(index.owners("us-east-1", "333333333333").is_empty());
    }
}
