//! Operation -> validation -> handler, in one table. Operations that are not in the
//! table answer NotImplementedException naming themselves.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::auth::Tenant;
use crate::config::Config;
use crate::error::ApiError;
use crate::generated::operations::Operation;
use crate::handlers::{
    associations, fleets, image_builders, images, sessions, stacks, tagging, users,
};
use crate::protocol::Protocol;
use crate::state::{lock, RegionState, Store};
use crate::validation::validate_input;

/// What a handler knows of the request besides its input. Time and randomness come from
/// here, never from the system, so that replaying a journaled request reproduces it.
pub struct RequestContext<'a> {
    pub tenant: &'a Tenant,
    pub config: &'a Config,
    /// The request's time, epoch seconds with millisecond precision.
    pub now: f64,
    /// The request's source of unique ids.
    pub seed: uuid::Uuid,
    ids_issued: std::cell::Cell<u64>,
}

impl<'a> RequestContext<'a> {
    pub fn new(tenant: &'a Tenant, config: &'a Config, now: f64, seed: uuid::Uuid) -> Self {
        RequestContext {
            tenant,
            config,
            now,
            seed,
            ids_issued: std::cell::Cell::new(0),
        }
    }

    /// A context for a request arriving now.
    pub fn arriving(tenant: &'a Tenant, config: &'a Config) -> Self {
        RequestContext::new(tenant, config, wall_clock(), uuid::Uuid::new_v4())
    }

    /// When a state change begun now completes, in epoch seconds.
    pub fn transition_due(&self) -> f64 {
        self.now + self.config.transition_delay.as_secs_f64()
    }

    /// A fresh id, derived from the request's seed so that a replay derives the same.
    pub fn unique_id(&self) -> uuid::Uuid {
        let n = self.ids_issued.get();
        self.ids_issued.set(n + 1);
        uuid::Uuid::new_v5(&self.seed, &n.to_le_bytes())
    }
}

/// The current time as the epoch seconds both protocols carry (millisecond precision,
/// as AWS reports).
pub fn wall_clock() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

type Handler<I, O> = fn(&RequestContext, &mut RegionState, I) -> Result<O, ApiError>;

macro_rules! handlers {
    ($($op:ident => $handler:path,)*) => {
        /// The operations this server implements, in the model's naming.
        pub const IMPLEMENTED: &[Operation] = &[$(Operation::$op),*];

        fn call(
            op: Operation,
            ctx: &RequestContext,
            state: &mut RegionState,
            input: Value,
            protocol: Protocol,
        ) -> Result<Vec<u8>, ApiError> {
            match op {
                $(Operation::$op => invoke(ctx, state, input, protocol, $handler),)*
                _ => Err(ApiError::not_implemented(op.name())),
            }
        }
    };
}

handlers! {
    CreateStack => stacks::create_stack,
    DescribeStacks => stacks::describe_stacks,
    UpdateStack => stacks::update_stack,
    DeleteStack => stacks::delete_stack,
    ListTagsForResource => tagging::list_tags_for_resource,
    TagResource => tagging::tag_resource,
    UntagResource => tagging::untag_resource,
    CreateFleet => fleets::create_fleet,
    DescribeFleets => fleets::describe_fleets,
    UpdateFleet => fleets::update_fleet,
    DeleteFleet => fleets::delete_fleet,
    StartFleet => fleets::start_fleet,
    StopFleet => fleets::stop_fleet,
    AssociateFleet => associations::associate_fleet,
    DisassociateFleet => associations::disassociate_fleet,
    ListAssociatedFleets => associations::list_associated_fleets,
    ListAssociatedStacks => associations::list_associated_stacks,
    DescribeImages => images::describe_images,
    DeleteImage => images::delete_image,
    CreateUpdatedImage => images::create_updated_image,
    DescribeImagePermissions => images::describe_image_permissions,
    UpdateImagePermissions => images::update_image_permissions,
    DeleteImagePermissions => images::delete_image_permissions,
    CreateImageBuilder => image_builders::create_image_builder,
    DescribeImageBuilders => image_builders::describe_image_builders,
    StartImageBuilder => image_builders::start_image_builder,
    StopImageBuilder => image_builders::stop_image_builder,
    DeleteImageBuilder => image_builders::delete_image_builder,
    CreateImageBuilderStreamingURL => image_builders::create_image_builder_streaming_url,
    CreateUser => users::create_user,
    DescribeUsers => users::describe_users,
    DeleteUser => users::delete_user,
    EnableUser => users::enable_user,
    DisableUser => users::disable_user,
    BatchAssociateUserStack => users::batch_associate_user_stack,
    BatchDisassociateUserStack => users::batch_disassociate_user_stack,
    DescribeUserStackAssociations => users::describe_user_stack_associations,
    CreateStreamingURL => sessions::create_streaming_url,
    DescribeSessions => sessions::describe_sessions,
    ExpireSession => sessions::expire_session,
}

pub fn is_implemented(op: Operation) -> bool {
    IMPLEMENTED.contains(&op)
}

/// Runs one decoded request to its encoded output. The input is validated in full before
/// any state is touched, and the region's lock is held for the whole operation,
/// including the journal append when state is durable. The protocol only writes the
/// output; handlers never see it.
pub fn dispatch(
    op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Protocol,
) -> Result<Vec<u8>, ApiError> {
    run(op, ctx, store, input, protocol, true)
}

/// Re-runs a journaled write while loading durable state (nothing is journaled again).
pub fn dispatch_replay(
    op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
) -> Result<(), ApiError> {
    run(op, ctx, store, input, Protocol::AwsJson11, false).map(|_| ())
}

/// Operations that change nothing need no journal record.
fn is_read_only(op: Operation) -> bool {
    let name = op.name();
    name.starts_with("Describe") || name.starts_with("List") || name.starts_with("Get")
}

fn run(
    op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Protocol,
    journal: bool,
) -> Result<Vec<u8>, ApiError> {
    if !is_implemented(op) {
        return Err(ApiError::not_implemented(op.name()));
    }
    validate_input(op.input(), &input)?;
    let journal = store.journal.get().filter(|_| journal && !is_read_only(op));
    let record = journal.map(|_| input.clone());
    let _operation = store.enter();
    let region = store.region(ctx.tenant);
    // A bug in a handler must answer 500, not take the connection down with it.
    catch_unwind(AssertUnwindSafe(|| {
        let mut state = lock(&region);
        state.settle(ctx.now);
        let output = call(op, ctx, &mut state, input, protocol)?;
        if let (Some(journal), Some(input)) = (journal, record) {
            journal
                .append(ctx.tenant, op.name(), ctx, input)
                .map_err(|e| {
                    tracing::error!("journal append failed: {e}");
                    ApiError::internal(format!("The write could not be made durable: {e}"))
                })?;
        }
        Ok(output)
    }))
    .unwrap_or_else(|_| {
        Err(ApiError::internal(format!(
            "{} failed unexpectedly inside appstream-local.",
            op.name()
        )))
    })
}

fn invoke<I: DeserializeOwned, O: Serialize>(
    ctx: &RequestContext,
    state: &mut RegionState,
    input: Value,
    protocol: Protocol,
    handler: Handler<I, O>,
) -> Result<Vec<u8>, ApiError> {
    let input: I = serde_json::from_value(input)
        .map_err(|e| ApiError::serialization(format!("The request could not be read: {e}")))?;
    let output = handler(ctx, state, input)?;
    protocol.encode_output(&output)
}
