//! All emulated state, partitioned by (account, region) so that nothing leaks across.

pub mod associations;
pub mod collection;
pub mod lifecycle;
pub mod pieces;
pub mod shares;
pub mod tags;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::generated::errors::ModeledError;
use crate::generated::types::{
    AdminAppLicenseUsageRecord, AppBlock, Application, DirectoryConfig, Entitlement,
    ImagePermissions, Session, Stack, Theme, UsageReportSubscription, User,
};
use crate::identity::tenant::Tenant;
use associations::Associations;
use collection::{Collection, Family, Resource};
use lifecycle::{
    AppBlockBuilderRecord, ExportTaskRecord, FleetRecord, ImageBuilderRecord, ImageRecord,
};
use tags::TagStore;

#[derive(Default)]
pub struct Store {
    regions: RwLock<HashMap<Tenant, Arc<RwLock<RegionState>>>>,
    /// Held shared by every operation and exclusively by compaction, which must see no
    /// operation half done.
    gate: RwLock<()>,
    /// Who shares images with whom, kept as every write leaves it.
    shares: shares::ShareIndex,
}

/// One account's state in one region, as snapshots and `GET /_state` show it.
#[derive(Serialize, Deserialize)]
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
        for TenantState { tenant, state } in states {
            self.shares
                .update(&tenant, &Default::default(), &state.image_grantees());
            regions.insert(tenant, Arc::new(RwLock::new(state)));
        }
    }

    /// Forgets all state, or one account's in one region, entries included. `record`
    /// runs once every affected region is locked, so a write either lands before the
    /// reset (and is forgotten) or after it, in the journal as in memory.
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

/// One account's resources in one region. A write holds its lock exclusively for the
/// whole operation, so every operation is atomic and concurrent creates of one name have
/// exactly one winner; reads share it.
#[derive(Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RegionState {
    /// Ordered by name: DescribeStacks pages over this order.
    pub stacks: Collection<Stack>,
    pub fleets: Collection<FleetRecord>,
    pub image_builders: Collection<ImageBuilderRecord>,
    /// This account's own (private) images; public ones come from the catalogue.
    pub images: Collection<ImageRecord>,
    /// Image name -> account it is shared with -> what that account may do.
    pub image_permissions: BTreeMap<String, BTreeMap<String, ImagePermissions>>,
    /// (stack, fleet) pairs.
    pub fleet_stacks: Associations,
    /// User-pool users by user name (case-sensitive, as AWS documents).
    pub users: Collection<User>,
    /// (stack, user name) pairs of user-pool users.
    pub user_stacks: Associations,
    /// Streaming sessions by id.
    pub sessions: BTreeMap<String, Session>,
    /// Active Directory configs by directory name.
    pub directory_configs: Collection<DirectoryConfig>,
    /// Stack themes by stack name.
    pub themes: Collection<Theme>,
    /// App blocks by name.
    pub app_blocks: Collection<AppBlock>,
    /// Applications by name.
    pub applications: Collection<Application>,
    /// (fleet name, application ARN) pairs.
    pub application_fleets: Associations,
    /// App block builders by name.
    pub app_block_builders: Collection<AppBlockBuilderRecord>,
    /// (app block builder name, app block ARN) pairs: one each way at most.
    pub app_block_builder_blocks: Associations,
    /// Image export tasks by task id.
    pub export_tasks: Collection<ExportTaskRecord>,
    /// Entitlements by "<stack>/<name>".
    pub entitlements: Collection<Entitlement>,
    /// ("<stack>/<entitlement>", application identifier) pairs.
    pub entitled_applications: Associations,
    /// The account's usage report subscription in this Region, if any.
    pub usage_report_subscription: Option<UsageReportSubscription>,
    /// License-included application usage by billing period (yyyy-mm), each period's in
    /// (user id, license type) order.
    pub license_usage: BTreeMap<String, Vec<AdminAppLicenseUsageRecord>>,
    pub tags: tags::TagStore,
    /// The account's application settings bucket in this Region, once a stack enabled
    /// application settings; every stack uses it.
    pub application_settings_bucket: Option<String>,
    /// No pending transition comes due before this (epoch seconds), so reads until then
    /// need not settle. Zero, as after loading, means "unknown: settle at the next look".
    #[serde(skip)]
    next_due: f64,
    /// The latest time this region was settled at; a live write takes a time no earlier.
    #[serde(skip)]
    settled_through: f64,
    /// Set on a region a reset has removed from the store.
    #[serde(skip)]
    retired: bool,
}

/// The region's families, listed once: `families()` for reads, `families_mut()` with
/// the tag store for settling.
macro_rules! families {
    ($($field:ident),*) => {
        fn families(&self) -> Vec<&dyn Family> {
            vec![$(&self.$field),*]
        }

        fn families_mut(&mut self) -> (Vec<&mut dyn Family>, &mut TagStore) {
            (vec![$(&mut self.$field),*], &mut self.tags)
        }
    };
}

impl RegionState {
    // Every family's collection: a new family adds its field here, and the tagging
    // registry and settling cover it.
    families!(
        stacks,
        fleets,
        image_builders,
        images,
        users,
        directory_configs,
        themes,
        app_blocks,
        applications,
        entitlements,
        app_block_builders,
        export_tasks
    );

    /// Whether a taggable resource of ARN type `arn_type` named `name` exists here (the
    /// tagging operations' check), through the families' registry of ARN types.
    pub fn resource_exists(&self, arn_type: &str, name: &str) -> bool {
        self.families()
            .iter()
            .any(|family| family.arn_type() == Some(arn_type) && family.contains(name))
    }

    /// Whether any resource has a transition under way.
    pub fn transition_under_way(&self) -> bool {
        self.families().iter().any(|family| family.in_transition())
    }

    pub fn settled_through(&self) -> f64 {
        self.settled_through
    }

    /// Whether a state change may have come due by `now`.
    pub fn needs_settling(&self, now: f64) -> bool {
        now >= self.next_due
    }

    /// Records that a write may have begun a transition due at `due`.
    pub fn expect_transition_by(&mut self, due: f64) {
        self.next_due = self.next_due.min(due);
    }

    /// Applies every state change that has come due (fleets started, builders booted or
    /// deleted, images created). Called before each operation sees the region; it scans
    /// the resources only when something may be due.
    pub fn settle(&mut self, now: f64) {
        if !self.needs_settling(now) {
            return;
        }
        self.settled_through = self.settled_through.max(now);
        let (families, tags) = self.families_mut();
        let next_due = families
            .into_iter()
            .map(|family| family.settle(now, tags))
            .fold(f64::INFINITY, f64::min);
        self.next_due = next_due.min(self.end_expired_sessions(now));
    }

    /// Ends the sessions whose MaxExpirationTime has come, as AppStream ends a session
    /// at its fleet's MaxUserDurationInSeconds; returns when the next one ends.
    fn end_expired_sessions(&mut self, now: f64) -> f64 {
        self.sessions
            .retain(|_, session| session.max_expiration_time.is_none_or(|end| end > now));
        self.sessions
            .values()
            .filter_map(|session| session.max_expiration_time)
            .fold(f64::INFINITY, f64::min)
    }

    pub fn fleets_of_stack<'a>(&'a self, stack: &'a str) -> impl Iterator<Item = &'a str> {
        self.fleet_stacks.rights_of(stack)
    }

    pub fn stacks_of_fleet<'a>(&'a self, fleet: &'a str) -> impl Iterator<Item = &'a str> {
        self.fleet_stacks.lefts_of(fleet)
    }
}

/// A poisoned lock only means another request panicked mid-way; the data is still the
/// last consistent state because handlers change state only after all checks pass.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

pub fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

impl Resource for Stack {
    const KIND: &'static str = "Stack";
    const PLURAL: &'static str = "stacks";
    const ARN_TYPE: Option<&'static str> = Some("stack");
    fn taggable_arn(&self) -> Option<&str> {
        self.arn.as_deref()
    }
}

impl Resource for AppBlock {
    const KIND: &'static str = "App block";
    const PLURAL: &'static str = "app blocks";
    const ARN_TYPE: Option<&'static str> = Some("app-block");
    fn taggable_arn(&self) -> Option<&str> {
        Some(&self.arn)
    }
}

impl Resource for Application {
    const KIND: &'static str = "Application";
    const PLURAL: &'static str = "applications";
    const ARN_TYPE: Option<&'static str> = Some("application");
    fn taggable_arn(&self) -> Option<&str> {
        self.arn.as_deref()
    }
}

/// Keyed by "<stack>/<name>", with error codes of their own.
impl Resource for Entitlement {
    const KIND: &'static str = "Entitlement";
    const PLURAL: &'static str = "entitlements";
    const NOT_FOUND: ModeledError = ModeledError::EntitlementNotFoundException;
    const ALREADY_EXISTS: ModeledError = ModeledError::EntitlementAlreadyExistsException;
    const ARN_TYPE: Option<&'static str> = None;
    fn taggable_arn(&self) -> Option<&str> {
        None
    }
}

impl Resource for DirectoryConfig {
    const KIND: &'static str = "Directory config";
    const PLURAL: &'static str = "directory configs";
    const ARN_TYPE: Option<&'static str> = None;
    fn taggable_arn(&self) -> Option<&str> {
        None
    }
}

/// Keyed by the stack's name.
impl Resource for Theme {
    const KIND: &'static str = "Theme for stack";
    const PLURAL: &'static str = "themes";
    const ARN_TYPE: Option<&'static str> = None;
    fn taggable_arn(&self) -> Option<&str> {
        None
    }
}

impl Resource for User {
    const KIND: &'static str = "User";
    const PLURAL: &'static str = "users";
    const ARN_TYPE: Option<&'static str> = None;
    const NAME_IS_SENSITIVE: bool = true;
    /// Users have ARNs but no tags.
    fn taggable_arn(&self) -> Option<&str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::types::FleetState;
    use crate::state::lifecycle::Transition;

    fn starting_fleet(due: f64) -> FleetRecord {
        FleetRecord {
            fleet: serde_json::from_value(serde_json::json!({
                "Arn": "arn:aws:appstream:us-east-1:000000000000:fleet/f",
                "Name": "f",
                "InstanceType": "stream.standard.small",
                "ComputeCapacityStatus": {"Desired": 1},
                "State": "STARTING",
            }))
            .unwrap(),
            transition: Some(Transition::due_at(FleetState::Running, due)),
            failing: None,
        }
    }

    #[test]
    fn settling_waits_for_the_earliest_due_transition_and_no_longer() {
        let mut state = RegionState::default();
        assert!(
            state.needs_settling(0.0),
            "a fresh or loaded region settles first"
        );
        state.fleets.insert("f".into(), starting_fleet(10.0));
        state.settle(5.0);
        assert!(!state.needs_settling(9.9), "nothing is due before 10");
        assert_eq!(state.fleets["f"].fleet.state, FleetState::Starting);

        state.fleets.insert("g".into(), starting_fleet(20.0));
        state.expect_transition_by(20.0);
        assert!(state.needs_settling(10.0));
        state.settle(10.0);
        assert_eq!(state.fleets["f"].fleet.state, FleetState::Running);
        assert_eq!(state.fleets["g"].fleet.state, FleetState::Starting);
        assert!(
            !state.needs_settling(19.9),
            "g's transition is the next one due"
        );
        state.settle(20.0);
        assert_eq!(state.fleets["g"].fleet.state, FleetState::Running);
        assert!(!state.needs_settling(1e12), "nothing is pending any more");
    }
}
