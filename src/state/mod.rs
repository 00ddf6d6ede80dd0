//! All emulated state, partitioned by (account, region) so that nothing leaks across.

pub mod associations;
pub mod collection;
pub mod lifecycle;
pub mod pieces;
pub mod shares;
mod store;
pub mod tags;

pub use store::{Store, TenantState};

use std::collections::BTreeMap;
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::generated::errors::ModeledError;
use crate::generated::types::{
    AdminAppLicenseUsageRecord, AppBlock, Application, DirectoryConfig, Entitlement,
    ImagePermissions, Session, Stack, Theme, UsageReportSubscription, User,
};
use associations::Associations;
use collection::{Collection, Family, Resource};
use lifecycle::{
    AppBlockBuilderRecord, ExportTaskRecord, FleetRecord, ImageBuilderRecord, ImageRecord,
};
use tags::TagStore;
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
