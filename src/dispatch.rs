//! Operation -> validation -> handler, in one table. Operations that are not in the
//! table answer NotImplementedException naming themselves.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::generated::operations::Operation;
use crate::handlers::{
    associations, fleets, image_builders, images, sessions, stacks, tagging, users,
};
use crate::protocol::Protocol;
use crate::state::{read, write, RegionState, Store};
use crate::validation::validate_input;

/// Where writes are recorded before they are acknowledged. The durability layer above
/// implements it; dispatch calls it under the region's lock, so the log's order is the
/// order in which writes took effect.
pub trait WriteLog: Sync {
    /// Refuses every write once the log can no longer promise durability.
    fn check_writable(&self) -> Result<(), ApiError>;
    /// Records one validated write as it runs; the number is what the caller waits on
    /// before acknowledging it.
    fn append(&self, ctx: &RequestContext, operation: &str, input: Value) -> Result<u64, ApiError>;
}

/// A handler that changes state: it runs with the region locked exclusively.
type WriteHandler<I, O> = fn(&RequestContext, &mut RegionState, I) -> Result<O, ApiError>;
/// A handler that only reads: concurrent reads of a region run side by side.
type ReadHandler<I, O> = fn(&RequestContext, &RegionState, I) -> Result<O, ApiError>;

macro_rules! handlers {
    ($($op:ident => $access:ident $handler:path,)*) => {
        /// The operations this server implements, in the model's naming.
        pub const IMPLEMENTED: &[Operation] = &[$(Operation::$op),*];

        fn call(
            op: Operation,
            ctx: &RequestContext,
            store: &Store,
            input: Value,
            protocol: Option<Protocol>,
            log: Option<&dyn WriteLog>,
        ) -> Result<Dispatched, ApiError> {
            match op {
                $(Operation::$op => $access(op, ctx, store, input, protocol, log, $handler),)*
                _ => Err(ApiError::not_implemented(op.name())),
            }
        }
    };
}

handlers! {
    CreateStack => writing stacks::create_stack,
    DescribeStacks => reading stacks::describe_stacks,
    UpdateStack => writing stacks::update_stack,
    DeleteStack => writing stacks::delete_stack,
    ListTagsForResource => reading tagging::list_tags_for_resource,
    TagResource => writing tagging::tag_resource,
    UntagResource => writing tagging::untag_resource,
    CreateFleet => writing fleets::create_fleet,
    DescribeFleets => reading fleets::describe_fleets,
    UpdateFleet => writing fleets::update_fleet,
    DeleteFleet => writing fleets::delete_fleet,
    StartFleet => writing fleets::start_fleet,
    StopFleet => writing fleets::stop_fleet,
    AssociateFleet => writing associations::associate_fleet,
    DisassociateFleet => writing associations::disassociate_fleet,
    ListAssociatedFleets => reading associations::list_associated_fleets,
    ListAssociatedStacks => reading associations::list_associated_stacks,
    DescribeImages => reading images::describe_images,
    DeleteImage => writing images::delete_image,
    CreateUpdatedImage => writing images::create_updated_image,
    DescribeImagePermissions => reading images::describe_image_permissions,
    UpdateImagePermissions => writing images::update_image_permissions,
    DeleteImagePermissions => writing images::delete_image_permissions,
    CreateImageBuilder => writing image_builders::create_image_builder,
    DescribeImageBuilders => reading image_builders::describe_image_builders,
    StartImageBuilder => writing image_builders::start_image_builder,
    StopImageBuilder => writing image_builders::stop_image_builder,
    DeleteImageBuilder => writing image_builders::delete_image_builder,
    CreateImageBuilderStreamingURL => writing image_builders::create_image_builder_streaming_url,
    CreateUser => writing users::create_user,
    DescribeUsers => reading users::describe_users,
    DeleteUser => writing users::delete_user,
    EnableUser => writing users::enable_user,
    DisableUser => writing users::disable_user,
    BatchAssociateUserStack => writing users::batch_associate_user_stack,
    BatchDisassociateUserStack => writing users::batch_disassociate_user_stack,
    DescribeUserStackAssociations => reading users::describe_user_stack_associations,
    CreateStreamingURL => writing sessions::create_streaming_url,
    DescribeSessions => reading sessions::describe_sessions,
    ExpireSession => writing sessions::expire_session,
}

pub fn is_implemented(op: Operation) -> bool {
    IMPLEMENTED.contains(&op)
}

/// Runs one decoded request to its encoded output. The input is validated in full before
/// any state is touched; a write holds the region's lock for the whole operation,
/// including the journal append when state is durable. The protocol only writes the
/// output; handlers never see it.
/// An operation's encoded output and, for a logged write, the log's number for it, which
/// must be durable before the write is acknowledged.
#[derive(Debug)]
pub struct Dispatched {
    pub body: Vec<u8>,
    pub log_seq: Option<u64>,
}

/// Runs one request; a write is recorded in `log` when there is one.
pub fn dispatch(
    op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Protocol,
    log: Option<&dyn WriteLog>,
) -> Result<Dispatched, ApiError> {
    run(op, ctx, store, input, Some(protocol), log)
}

/// Re-runs a recorded write while loading durable state: nothing is recorded again and no
/// output is encoded.
pub fn dispatch_replay(
    op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
) -> Result<(), ApiError> {
    run(op, ctx, store, input, None, None).map(|_| ())
}

fn run(
    op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Option<Protocol>,
    log: Option<&dyn WriteLog>,
) -> Result<Dispatched, ApiError> {
    if !is_implemented(op) {
        return Err(ApiError::not_implemented(op.name()));
    }
    validate_input(op.input(), &input)?;
    let _operation = store.enter();
    // A bug in a handler must answer 500, not take the connection down with it.
    catch_unwind(AssertUnwindSafe(|| {
        call(op, ctx, store, input, protocol, log)
    }))
    .unwrap_or_else(|_| {
        Err(ApiError::internal(format!(
            "{} failed unexpectedly inside appstream-local.",
            op.name()
        )))
    })
}

fn typed_input<I: DeserializeOwned>(input: Value) -> Result<I, ApiError> {
    serde_json::from_value(input)
        .map_err(|e| ApiError::serialization(format!("The request could not be read: {e}")))
}

/// The output on the wire, or nothing for a replay, which only rebuilds state.
fn encoded<O: Serialize>(protocol: Option<Protocol>, output: &O) -> Result<Vec<u8>, ApiError> {
    protocol.map_or(Ok(Vec::new()), |p| p.encode_output(output))
}

/// Runs a read under a shared lock; the input is read and the output written outside it.
/// A read of an account and Region that has no state sees an empty one and creates none.
fn reading<I: DeserializeOwned, O: Serialize>(
    _op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Option<Protocol>,
    _log: Option<&dyn WriteLog>,
    handler: ReadHandler<I, O>,
) -> Result<Dispatched, ApiError> {
    let input = typed_input(input)?;
    let output = match store.existing_region(ctx.tenant) {
        Some(region) => {
            let mut state = read(&region);
            if state.needs_settling(ctx.now) {
                drop(state);
                write(&region).settle(ctx.now);
                state = read(&region);
            }
            handler(ctx, &state, input)?
        }
        None => handler(ctx, &RegionState::default(), input)?,
    };
    Ok(Dispatched {
        body: encoded(protocol, &output)?,
        log_seq: None,
    })
}

/// Runs a write under the exclusive lock, the log's record included, so the log's order
/// is the order in which writes took effect.
fn writing<I: DeserializeOwned, O: Serialize>(
    op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Option<Protocol>,
    log: Option<&dyn WriteLog>,
    handler: WriteHandler<I, O>,
) -> Result<Dispatched, ApiError> {
    if let Some(log) = log {
        log.check_writable()?;
    }
    let record = log.map(|_| input.clone());
    let input = typed_input(input)?;
    let (output, log_seq) = store.write_region(ctx.tenant, |state| {
        let ctx = &ctx.under_lock(state.settled_through());
        state.settle(ctx.now);
        let output = handler(ctx, state, input)?;
        // Every transition a handler begins is due at this time (`Transition::after_delay`).
        state.expect_transition_by(ctx.transition_due());
        let seq = match (log, record) {
            (Some(log), Some(record)) => Some(log.append(ctx, op.name(), record)?),
            _ => None,
        };
        Ok::<_, ApiError>((output, seq))
    })?;
    Ok(Dispatched {
        body: encoded(protocol, &output)?,
        log_seq,
    })
}
