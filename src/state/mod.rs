//! All emulated state, partitioned by (account, region) so that nothing leaks across.

pub mod tags;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use crate::arn::Arn;
use crate::auth::Tenant;
use crate::generated::types::Stack;

#[derive(Default)]
pub struct Store {
    regions: RwLock<HashMap<Tenant, Arc<Mutex<RegionState>>>>,
}

impl Store {
    /// The state of one account in one region, created empty on first use.
    pub fn region(&self, tenant: &Tenant) -> Arc<Mutex<RegionState>> {
        if let Some(state) = read(&self.regions).get(tenant) {
            return state.clone();
        }
        write(&self.regions)
            .entry(tenant.clone())
            .or_default()
            .clone()
    }
}

/// One account's resources in one region. A request holds its lock for the whole
/// operation, so every operation is atomic and concurrent creates of one name have
/// exactly one winner.
#[derive(Default)]
pub struct RegionState {
    /// Ordered by name: DescribeStacks pages over this order.
    pub stacks: BTreeMap<String, Stack>,
    pub tags: tags::TagStore,
}

impl RegionState {
    /// Whether `arn` names a resource that exists here (the tagging operations' check).
    pub fn resource_exists(&self, tenant: &Tenant, arn: &Arn) -> bool {
        if arn.region != tenant.region || arn.account != tenant.account {
            return false;
        }
        match arn.resource_type.as_str() {
            "stack" => self.stacks.contains_key(&arn.name),
            _ => false,
        }
    }
}

/// A poisoned lock only means another request panicked mid-way; the data is still the
/// last consistent state because handlers change state only after all checks pass.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}
