//! The store: every account's state in every Region, each locked on its own, and the
//! ways an operation locks one, two or several of them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::identity::tenant::Tenant;

use super::*;

#[derive(Default)]
pub struct Store {
    regions: RwLock<HashMap<Tenant, Arc<RwLock<RegionState>>>>,
    /// Held shared by every operation and exclusively by compaction, which must see no
    /// operation half done.
    gate: RwLock<()>,
    /// Who shares images with whom, kept as every write leaves it.
    shares: shares::ShareIndex,
    /// What a full reset returns to: the state `--init` seeded (empty without one).
    baseline: RwLock<Arc<Vec<TenantState>>>,
}

/// One account's state in one region, as snapshots and `GET /_state` show it.
#[derive(Clone, Serialize, Deserialize)]
pub struct TenantState {
    #[serde(flatten)]
    pub tenant: Tenant,
    pub state: RegionState,
}

impl Store {
    /// The tenants that have state (or just `only`, if it has), in a stable order.
    pub fn tenants(&self, only: Option<&Tenant>) -> Vec<(Tenant, Arc<RwLock<RegionState>>)> {
        let regions = read(&self.regions);
        let mut tenants: Vec<(Tenant, Arc<RwLock<RegionState>>)> = regions
            .iter()
            .filter(|(tenant, _)| only.is_none_or(|o| o == *tenant))
            .map(|(tenant, state)| (tenant.clone(), state.clone()))
            .collect();
        tenants.sort_by(|a, b| a.0.cmp(&b.0));
        tenants
    }

    /// Shared access for one operation.
    pub fn enter(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        read(&self.gate)
    }

    /// Exclusive access: waits until no operation runs and keeps new ones out.
    pub fn exclusive(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        write(&self.gate)
    }

    /// Every region's state, in a stable order (each region locked in turn).
    pub fn export(&self) -> Vec<TenantState> {
        let regions = read(&self.regions);
        let mut tenants: Vec<&Tenant> = regions.keys().collect();
        tenants.sort();
        tenants
            .into_iter()
            .map(|tenant| {
                let state = read(&regions[tenant]);
                TenantState {
                    tenant: tenant.clone(),
                    state: state.clone(),
                }
            })
            .collect()
    }

    /// Replaces everything with `states` (loading a snapshot).
    pub fn import(&self, states: Vec<TenantState>) {
        let mut regions = write(&self.regions);
        regions.clear();
        self.shares.forget(None);
        self.insert_all(&mut regions, states);
    }

    fn insert_all(
        &self,
        regions: &mut HashMap<Tenant, Arc<RwLock<RegionState>>>,
        states: Vec<TenantState>,
    ) {
        for TenantState { tenant, state } in states {
            self.shares
                .update(&tenant, &Default::default(), &state.image_grantees());
            regions.insert(tenant, Arc::new(RwLock::new(state)));
        }
    }

    /// Makes `states` what a full reset returns to (the seeded state).
    pub fn set_baseline(&self, states: Vec<TenantState>) {
        *write(&self.baseline) = Arc::new(states);
    }

    /// What a full reset returns to.
    pub fn baseline(&self) -> Arc<Vec<TenantState>> {
        read(&self.baseline).clone()
    }

    /// Returns all state, or one account's in one region, to the baseline (what `--init`
    /// seeded, or nothing). `record` runs once every affected region is locked, so a write either
    /// lands before the reset (and is forgotten) or after it, in the journal as in memory.
    pub fn reset<T, E>(
        &self,
        only: Option<&Tenant>,
        record: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let _operation = self.enter();
        let mut regions = write(&self.regions);
        let mut affected: Vec<(&Tenant, &Arc<RwLock<RegionState>>)> = regions
            .iter()
            .filter(|(tenant, _)| only.is_none_or(|o| o == *tenant))
            .collect();
        // One order for everyone, so two resets cannot deadlock.
        affected.sort_by(|a, b| a.0.cmp(b.0));
        let mut guards: Vec<_> = affected.iter().map(|(_, state)| write(state)).collect();
        let recorded = record()?;
        for state in guards.iter_mut() {
            // A writer that fetched this region before the reset finds it retired and
            // fetches the tenant's new one.
            **state = RegionState {
                retired: true,
                ..RegionState::default()
            };
        }
        drop(guards);
        self.shares.forget(only);
        match only {
            Some(tenant) => {
                regions.remove(tenant);
            }
            None => *regions = HashMap::new(),
        }
        let seeded = self
            .baseline()
            .iter()
            .filter(|seeded| only.is_none_or(|o| *o == seeded.tenant))
            .cloned()
            .collect();
        self.insert_all(&mut regions, seeded);
        Ok(recorded)
    }

    /// The state of one account in one region, if it has any; reads use this, so that
    /// reading creates nothing.
    pub fn existing_region(&self, tenant: &Tenant) -> Option<Arc<RwLock<RegionState>>> {
        read(&self.regions).get(tenant).cloned()
    }

    /// Runs `change` on two tenants' states at once, for an operation that spans Regions:
    /// both are locked, always in the tenants' order (as resets lock too), so two such
    /// operations never deadlock. The second is `None` when it is the first.
    pub fn write_regions<R>(
        &self,
        first: &Tenant,
        second: &Tenant,
        change: impl FnOnce(&mut RegionState, Option<&mut RegionState>) -> R,
    ) -> R {
        if first == second {
            return self.write_region(first, |state| change(state, None));
        }
        loop {
            let (a, b) = (self.region_to_write(first), self.region_to_write(second));
            let (mut state_a, mut state_b) = if first < second {
                let state_a = write(&a);
                (state_a, write(&b))
            } else {
                let state_b = write(&b);
                (write(&a), state_b)
            };
            if !state_a.retired && !state_b.retired {
                let before = (state_a.image_grantees(), state_b.image_grantees());
                let result = change(&mut state_a, Some(&mut state_b));
                self.shares
                    .update(first, &before.0, &state_a.image_grantees());
                self.shares
                    .update(second, &before.1, &state_b.image_grantees());
                return result;
            }
        }
    }

    /// Runs `look` on a tenant's state (an empty one if it has none) alongside the states
    /// of the accounts of its Region that share images with it, for a read that sees what
    /// they share. Each is settled first, one at a time; then all are read-locked in the
    /// tenants' order, the order writes lock in, so this never deadlocks with them.
    pub fn read_region_accounts<R>(
        &self,
        tenant: &Tenant,
        now: f64,
        look: impl FnOnce(&RegionState, &[(&Tenant, &RegionState)]) -> R,
    ) -> R {
        let regions = self.settled_accounts_of_region(tenant, now);
        let guards: Vec<(&Tenant, std::sync::RwLockReadGuard<'_, RegionState>)> = regions
            .iter()
            .map(|(t, region)| (t, read(region)))
            .collect();
        let empty = RegionState::default();
        let own = guards
            .iter()
            .find(|(t, _)| *t == tenant)
            .map_or(&empty, |(_, state)| &**state);
        let others: Vec<(&Tenant, &RegionState)> = guards
            .iter()
            .filter(|(t, _)| *t != tenant)
            .map(|(t, state)| (*t, &**state))
            .collect();
        look(own, &others)
    }

    /// The states of `tenant` and of the accounts that share images with it in its
    /// Region (the share index says which), in the tenants' order, each settled as of
    /// `now` under its own lock in turn, so that they can then be locked together. No
    /// other account is looked at.
    fn settled_accounts_of_region(
        &self,
        tenant: &Tenant,
        now: f64,
    ) -> Vec<(Tenant, Arc<RwLock<RegionState>>)> {
        let owners = self.shares.owners(&tenant.region, &tenant.account);
        let all = read(&self.regions);
        let mut regions: Vec<(Tenant, Arc<RwLock<RegionState>>)> = std::iter::once(tenant.clone())
            .chain(owners.into_iter().map(|account| Tenant {
                account,
                region: tenant.region.clone(),
            }))
            .filter_map(|t| all.get(&t).cloned().map(|state| (t, state)))
            .collect();
        drop(all);
        regions.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, region) in &regions {
            let stale = read(region).needs_settling(now);
            if stale {
                write(region).settle(now);
            }
        }
        regions
    }

    /// Runs `change` on a tenant's state (created empty on first use), locked exclusively,
    /// with the states of the accounts of its Region that share images with it locked
    /// shared beside it, for a write that uses what they share. Those are settled first, one at a
    /// time; then all are locked in the tenants' order, as every multi-region lock is.
    pub fn write_region_reading_accounts<R>(
        &self,
        tenant: &Tenant,
        now: f64,
        change: impl FnOnce(&mut RegionState, &[(&Tenant, &RegionState)]) -> R,
    ) -> R {
        enum Held<'a> {
            Own(std::sync::RwLockWriteGuard<'a, RegionState>),
            Other(&'a Tenant, std::sync::RwLockReadGuard<'a, RegionState>),
        }
        loop {
            // Created first, so that it is among the Region's accounts.
            self.region_to_write(tenant);
            let regions = self.settled_accounts_of_region(tenant, now);
            let mut held: Vec<Held> = regions
                .iter()
                .map(|(t, region)| match t == tenant {
                    true => Held::Own(write(region)),
                    false => Held::Other(t, read(region)),
                })
                .collect();
            let mut own_state = None;
            let mut others: Vec<(&Tenant, &RegionState)> = Vec::new();
            for entry in held.iter_mut() {
                match entry {
                    Held::Own(state) => own_state = Some(&mut **state),
                    Held::Other(t, state) => others.push((*t, &**state)),
                }
            }
            match own_state {
                Some(state) if !state.retired => {
                    return self.sharing(tenant, state, |state| change(state, &others))
                }
                // Reset while we waited: fetch the tenant's new region.
                _ => continue,
            }
        }
    }

    /// Runs `look` on a tenant's state settled as of `now` (an empty state, creating
    /// none, when it has none), holding it shared: how reads see a Region.
    pub fn read_settled<R>(
        &self,
        tenant: &Tenant,
        now: f64,
        look: impl FnOnce(&RegionState) -> R,
    ) -> R {
        match self.existing_region(tenant) {
            Some(region) => {
                let mut state = read(&region);
                if state.needs_settling(now) {
                    drop(state);
                    write(&region).settle(now);
                    state = read(&region);
                }
                look(&state)
            }
            None => look(&RegionState::default()),
        }
    }

    /// A tenant's region, created empty on first use.
    fn region_to_write(&self, tenant: &Tenant) -> Arc<RwLock<RegionState>> {
        match self.existing_region(tenant) {
            Some(region) => region,
            None => write(&self.regions)
                .entry(tenant.clone())
                .or_default()
                .clone(),
        }
    }

    /// Runs `change` on one account's state in one region, created empty on first use,
    /// with the region locked exclusively.
    pub fn write_region<R>(
        &self,
        tenant: &Tenant,
        change: impl FnOnce(&mut RegionState) -> R,
    ) -> R {
        loop {
            let region = self.region_to_write(tenant);
            let mut state = write(&region);
            if !state.retired {
                return self.sharing(tenant, &mut state, change);
            }
        }
    }

    /// Runs `change`, then notes in the share index whom the tenant shares images with,
    /// if that changed: the region is still locked, so the index is current once the
    /// write is acknowledged.
    fn sharing<R>(
        &self,
        tenant: &Tenant,
        state: &mut RegionState,
        change: impl FnOnce(&mut RegionState) -> R,
    ) -> R {
        let before = state.image_grantees();
        let result = change(state);
        self.shares.update(tenant, &before, &state.image_grantees());
        result
    }
}
