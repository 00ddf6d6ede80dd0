//! One resource family's resources in a region, by name: lookups that answer AWS's
//! not-found error, creation with the duplicate and quota checks, and removal that also
//! drops the resource's tags. Every family keeps its resources in one of these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::model::arn::Arn;
use crate::request::context::RequestContext;
use crate::request::pagination::{decode_token, map_after, operation, page};
use crate::state::tags::TagStore;

/// What a collection needs to know of its resources.
pub trait Resource {
    /// How messages name one, e.g. "Fleet" or "Image builder".
    const KIND: &'static str;
    /// How quota messages name several, e.g. "fleets".
    const PLURAL: &'static str;
    /// The error for a name the collection does not have, and for one it has already.
    /// Entitlements have codes of their own.
    const NOT_FOUND: ModeledError = ModeledError::ResourceNotFoundException;
    const ALREADY_EXISTS: ModeledError = ModeledError::ResourceAlreadyExistsException;
    /// The resource type in its ARN (`fleet` in `...:fleet/<name>`) when it is taggable.
    const ARN_TYPE: Option<&'static str>;
    /// The model marks the name sensitive (a user name): messages do not repeat it, as
    /// AWS's validation messages do not, so it reaches no log.
    const NAME_IS_SENSITIVE: bool = false;
    /// The resource's ARN when it is taggable.
    fn taggable_arn(&self) -> Option<&str>;
    /// Whether resources of the family change state on their own (a lifecycle), so that
    /// settling has to look at them.
    const CHANGES_ON_ITS_OWN: bool = false;
    /// Completes a transition due by `now` (resources with a lifecycle; see
    /// `lifecycle::settle_record`). Others never change on their own.
    fn settle(&mut self, _now: f64) -> Settled {
        Settled::Pending(f64::INFINITY)
    }
    /// Whether a transition is under way (it will change on its own, soon).
    fn in_transition(&self) -> bool {
        false
    }
}

/// What settling did to one resource.
pub enum Settled {
    /// Nothing more is due before this time (epoch seconds; infinity: never).
    Pending(f64),
    /// Its transition ended it: it is gone.
    Gone,
}

/// What the region needs of every family's collection, whatever its resources: the
/// registry of taggable resources by ARN type, and settling.
pub trait Family {
    /// The ARN resource type of its resources, when they are taggable.
    fn arn_type(&self) -> Option<&'static str>;
    fn contains(&self, name: &str) -> bool;
    /// Whether any of its resources has a transition under way.
    fn in_transition(&self) -> bool;
    /// Completes due transitions; returns when the next one comes due.
    fn settle(&mut self, now: f64, tags: &mut TagStore) -> f64;
}

impl<R: Resource> Family for Collection<R> {
    fn arn_type(&self) -> Option<&'static str> {
        R::ARN_TYPE
    }

    fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    fn in_transition(&self) -> bool {
        R::CHANGES_ON_ITS_OWN && self.by_name.values().any(R::in_transition)
    }

    fn settle(&mut self, now: f64, tags: &mut TagStore) -> f64 {
        if !R::CHANGES_ON_ITS_OWN {
            return f64::INFINITY;
        }
        let mut gone = Vec::new();
        let mut next_due = f64::INFINITY;
        for (name, record) in self.by_name.iter_mut() {
            match record.settle(now) {
                Settled::Pending(due) => next_due = next_due.min(due),
                Settled::Gone => gone.push(name.clone()),
            }
        }
        for name in gone {
            self.remove(&name, tags);
        }
        next_due
    }
}

/// Resources by name, in name order (the order Describe* pages in). Serialized as the
/// plain map, so snapshots keep their form.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Collection<R> {
    by_name: BTreeMap<String, R>,
}

impl<R> Default for Collection<R> {
    fn default() -> Self {
        Collection {
            by_name: BTreeMap::new(),
        }
    }
}

/// Reads see the collection as the map it is.
impl<R> std::ops::Deref for Collection<R> {
    type Target = BTreeMap<String, R>;
    fn deref(&self) -> &Self::Target {
        &self.by_name
    }
}

impl<R: Resource> Collection<R> {
    /// The not-found error every family answers for a name it does not have.
    pub fn not_found(name: &str) -> ApiError {
        ApiError::modeled(
            R::NOT_FOUND,
            format!("{} {}does not exist.", R::KIND, Self::named(name)),
        )
    }

    /// `name` and a space, or nothing when the name is sensitive.
    fn named(name: &str) -> String {
        match R::NAME_IS_SENSITIVE {
            true => String::new(),
            false => format!("{name} "),
        }
    }

    pub fn find(&self, name: &str) -> Result<&R, ApiError> {
        self.by_name.get(name).ok_or_else(|| Self::not_found(name))
    }

    pub fn find_mut(&mut self, name: &str) -> Result<&mut R, ApiError> {
        self.by_name
            .get_mut(name)
            .ok_or_else(|| Self::not_found(name))
    }

    /// Whether `name` may be created: not taken, and within `quota` when one applies.
    pub fn check_new(&self, name: &str, quota: Option<usize>) -> Result<(), ApiError> {
        if self.by_name.contains_key(name) {
            return Err(ApiError::modeled(
                R::ALREADY_EXISTS,
                format!("{} {}already exists.", R::KIND, Self::named(name)),
            ));
        }
        match quota {
            Some(limit) if self.by_name.len() >= limit => Err(ApiError::limit_exceeded(format!(
                "The maximum number of {} in this Region ({limit}) has been reached.",
                R::PLURAL
            ))),
            _ => Ok(()),
        }
    }

    /// Adds a resource (after `check_new`).
    pub fn insert(&mut self, name: String, resource: R) {
        self.by_name.insert(name, resource);
    }

    /// Removes a resource, and its tags with it.
    pub fn remove(&mut self, name: &str, tags: &mut TagStore) -> Option<R> {
        let removed = self.by_name.remove(name)?;
        if let Some(arn) = removed.taggable_arn() {
            tags.remove_resource(arn);
        }
        Some(removed)
    }

    /// The resource an ARN of this family names in the caller's account and Region, with
    /// its name; anything else is not found.
    pub fn find_by_arn(&self, ctx: &RequestContext, arn: &str) -> Result<(&String, &R), ApiError> {
        Arn::parse(arn)
            .filter(|a| {
                a.account == ctx.tenant.account
                    && a.region == ctx.tenant.region
                    && Some(a.resource_type.as_str()) == R::ARN_TYPE
            })
            .and_then(|a| self.by_name.get_key_value(&a.name))
            .ok_or_else(|| Self::not_found(arn))
    }

    /// `describe` for families that Describe by ARN (app blocks, applications).
    pub fn describe_arns<O>(
        &self,
        ctx: &RequestContext,
        arns: Option<&[String]>,
        next_token: Option<&str>,
        page_size: usize,
        view: impl Fn(&R) -> O,
    ) -> Result<(Vec<O>, Option<String>), ApiError> {
        let names = arns
            .map(|arns| {
                arns.iter()
                    .map(|arn| self.find_by_arn(ctx, arn).map(|(name, _)| name.clone()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        self.describe(ctx, names.as_deref(), next_token, page_size, view)
    }

    /// The Describe* shape stacks, fleets and image builders share: with `names`, those
    /// resources in the order asked for, each once however often it is named, in one
    /// response, any unknown name being not found; without, one page of all of them.
    pub fn describe<O>(
        &self,
        ctx: &RequestContext,
        names: Option<&[String]>,
        next_token: Option<&str>,
        page_size: usize,
        view: impl Fn(&R) -> O,
    ) -> Result<(Vec<O>, Option<String>), ApiError> {
        if let Some(names) = names {
            // A token is checked even when names make it moot, so a bad one is never ignored.
            if let Some(token) = next_token {
                decode_token::<String>(operation(ctx), token)?;
            }
            let mut answered = std::collections::HashSet::new();
            let found = names
                .iter()
                .filter(|name| answered.insert(name.as_str()))
                .map(|name| self.find(name).map(&view))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok((found, None));
        }
        let (paged, next) = page(ctx, next_token, page_size, |after| {
            map_after(&self.by_name, after)
        })?;
        Ok((paged.into_iter().map(view).collect(), next))
    }
}
