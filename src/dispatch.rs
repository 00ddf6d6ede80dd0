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

/// What a handler knows of the request besides its input.
pub struct RequestContext<'a> {
    pub tenant: &'a Tenant,
    pub config: &'a Config,
}

impl RequestContext<'_> {
    /// When a state change begun now completes.
    pub fn transition_due(&self) -> std::time::Instant {
        std::time::Instant::now() + self.config.transition_delay
    }
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
                $(Operation::$op => invoke(op, ctx, state, input, protocol, $handler),)*
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
/// any state is touched, and the region's lock is held for the whole operation. The
/// protocol only writes the output; handlers never see it.
pub fn dispatch(
    op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Protocol,
) -> Result<Vec<u8>, ApiError> {
    if !is_implemented(op) {
        return Err(ApiError::not_implemented(op.name()));
    }
    validate_input(op.input(), &input)?;
    let region = store.region(ctx.tenant);
    // A bug in a handler must answer 500, not take the connection down with it.
    catch_unwind(AssertUnwindSafe(|| {
        let mut state = lock(&region);
        state.settle(std::time::Instant::now());
        call(op, ctx, &mut state, input, protocol)
    }))
    .unwrap_or_else(|_| {
        Err(ApiError::internal(format!(
            "{} failed unexpectedly inside appstream-local.",
            op.name()
        )))
    })
}

fn invoke<I: DeserializeOwned, O: Serialize>(
    op: Operation,
    ctx: &RequestContext,
    state: &mut RegionState,
    input: Value,
    protocol: Protocol,
    handler: Handler<I, O>,
) -> Result<Vec<u8>, ApiError> {
    let input: I = serde_json::from_value(input)
        .map_err(|e| ApiError::serialization(format!("The request could not be read: {e}")))?;
    let output = handler(ctx, state, input)?;
    protocol.encode_output(op.output(), &output)
}
