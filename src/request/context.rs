//! What a handler knows of a request besides its input: who and where (the tenant),
//! when, a source of ids, and the rules it runs under. Time and randomness reach
//! handlers and state only through here, so that replaying a journaled request
//! reproduces it. It sits below dispatch and the handlers, which both use it.

use crate::config::{Config, Rules};
pub use crate::controls::failure::TransitionFailure;
use crate::error::ApiError;
use crate::generated::operations::{Operation, OperationShape};
use crate::identity::tenant::Tenant;

pub struct RequestContext<'a> {
    pub tenant: &'a Tenant,
    pub config: &'a Config,
    /// The request's time, epoch seconds with millisecond precision. A live write takes
    /// its time under the region's lock (`under_lock`), so the journal records the time
    /// it took effect.
    pub now: f64,
    /// The request's source of unique ids.
    pub seed: uuid::Uuid,
    /// What the request does depends on these, never on `config` directly.
    pub rules: Rules,
    /// The operation being served, once dispatch knows it; paging tokens are bound to it.
    pub operation: Option<Operation>,
    /// Set when a fault rule makes the transitions this request begins fail.
    pub transition_failure: Option<&'a TransitionFailure>,
    /// The host and port the client addressed (its Host header), where the URLs a
    /// handler hands out should point.
    pub host: Option<&'a str>,
    ids_issued: std::cell::Cell<u64>,
    /// A journaled write being replayed keeps its recorded time.
    replayed: bool,
}

impl<'a> RequestContext<'a> {
    /// The public images the server adds to AWS's catalogue: part of the world it models,
    /// like the catalogue itself, not a rule a write ran under.
    pub fn added_public_images(&self) -> &'a [crate::model::public_images::PublicImage] {
        &self.config.public_images
    }

    fn with(
        tenant: &'a Tenant,
        config: &'a Config,
        now: f64,
        seed: uuid::Uuid,
        rules: Rules,
        replayed: bool,
    ) -> Self {
        RequestContext {
            tenant,
            config,
            now,
            seed,
            rules,
            operation: None,
            transition_failure: None,
            host: None,
            ids_issued: std::cell::Cell::new(0),
            replayed,
        }
    }

    /// This context, serving `operation`.
    pub fn serving(&self, operation: Operation) -> RequestContext<'a> {
        RequestContext {
            operation: Some(operation),
            ids_issued: self.ids_issued.clone(),
            ..*self
        }
    }

    /// A context for a request arriving now. Its seed is recorded with every write, so
    /// the ids it yields replay exactly.
    #[allow(clippy::disallowed_methods)]
    pub fn arriving(tenant: &'a Tenant, config: &'a Config) -> Self {
        RequestContext::with(
            tenant,
            config,
            config.clock.now(),
            uuid::Uuid::new_v4(),
            Rules::of(config),
            false,
        )
    }

    /// A journaled write, to run again exactly as it first ran: at its time, with its
    /// seed and under its rules, whatever the server's flags are now.
    pub fn replaying(
        tenant: &'a Tenant,
        config: &'a Config,
        now: f64,
        seed: uuid::Uuid,
        rules: Rules,
    ) -> Self {
        RequestContext::with(tenant, config, now, seed, rules, true)
    }

    /// The context a write runs with once it holds the region's lock: its time is taken
    /// there, and never earlier than the region's last settling, so every state change a
    /// read settled before it is one its replay settles too. A replay keeps its time.
    pub(crate) fn under_lock(&self, settled_through: f64) -> RequestContext<'a> {
        let now = if self.replayed {
            self.now
        } else {
            self.config.clock.now().max(settled_through)
        };
        RequestContext {
            operation: self.operation,
            transition_failure: self.transition_failure,
            host: self.host,
            ..RequestContext::with(
                self.tenant,
                self.config,
                now,
                self.seed,
                self.rules,
                self.replayed,
            )
        }
    }

    /// This context, with the transitions it begins failing as `failure` says.
    pub fn failing(self, failure: Option<&'a TransitionFailure>) -> Self {
        RequestContext {
            transition_failure: failure,
            ..self
        }
    }

    /// This context, for a request that addressed `host`.
    pub fn addressed(self, host: Option<&'a str>) -> Self {
        RequestContext { host, ..self }
    }

    /// The URL that opens `grant`: at this emulator as the client addressed it, unless
    /// the server is told otherwise.
    pub fn streaming_url(&self, grant: &crate::identity::streaming::Grant) -> String {
        self.config.streaming.url(self.host, grant)
    }

    /// When a state change begun now completes, in epoch seconds. Every transition's due
    /// time comes from here (`Transition::after_delay`); dispatch relies on that to know
    /// when to settle.
    pub fn transition_due(&self) -> f64 {
        self.now + self.rules.transition_seconds
    }

    /// `len` (at most 32) random lowercase hex characters, e.g. for a bucket name's
    /// suffix; derived like `unique_id`, so a replay derives the same.
    pub fn random_suffix(&self, len: usize) -> String {
        let mut hex = self.unique_id().simple().to_string();
        hex.truncate(len);
        hex
    }

    /// A fresh id, derived from the request's seed so that a replay derives the same.
    pub fn unique_id(&self) -> uuid::Uuid {
        let n = self.ids_issued.get();
        self.ids_issued.set(n + 1);
        uuid::Uuid::new_v5(&self.seed, &n.to_le_bytes())
    }
}

/// An operation that writes a second account's or Region's state besides the caller's
/// (CopyImage's destination Region): which one, from its input.
pub trait SpansRegions: OperationShape {
    fn second_tenant(input: &Self::Input, caller: &Tenant) -> Result<Tenant, ApiError>;
}
