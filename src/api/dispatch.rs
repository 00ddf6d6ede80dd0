//! Operation -> validation -> handler, in one table. Operations that are not in the
//! table answer NotImplementedException naming themselves.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::api::handlers::{
    app_block_builders, app_blocks, application_fleets, applications, associations, builder_images,
    directory_configs, entitlements, export_tasks, fleets, image_builders, image_copies,
    image_imports, images, license_usage, session_connections, sessions, software, stacks, tagging,
    themes, usage_reports, users,
};
use crate::error::ApiError;
use crate::generated::operations::{
    op, Operation, OperationShape, Reads, ReadsAcrossAccounts, Writes, WritesReadingAccounts,
    WritesTwoRegions,
};
use crate::identity::tenant::Tenant;
use crate::model::validation::validate_input;
use crate::protocol::Protocol;
use crate::request::context::{RequestContext, SpansRegions};
use crate::state::{RegionState, Store};

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

/// How an operation of a mode is served: `Reads` under a shared lock, `Writes` under an
/// exclusive one and recorded. The handler's type follows from the operation's type, so
/// a handler bound to the wrong operation, or a reader bound to a write, does not compile.
trait Serve<Op: OperationShape> {
    type Handler;
    fn serve(
        ctx: &RequestContext,
        store: &Store,
        input: Value,
        protocol: Option<Protocol>,
        log: Option<&dyn WriteLog>,
        handler: Self::Handler,
    ) -> Result<Dispatched, ApiError>;
}

impl<Op: OperationShape> Serve<Op> for Reads {
    type Handler = ReadHandler<Op::Input, Op::Output>;
    fn serve(
        ctx: &RequestContext,
        store: &Store,
        input: Value,
        protocol: Option<Protocol>,
        _log: Option<&dyn WriteLog>,
        handler: Self::Handler,
    ) -> Result<Dispatched, ApiError> {
        reading(ctx, store, input, protocol, handler)
    }
}

impl<Op: OperationShape> Serve<Op> for Writes {
    type Handler = WriteHandler<Op::Input, Op::Output>;
    fn serve(
        ctx: &RequestContext,
        store: &Store,
        input: Value,
        protocol: Option<Protocol>,
        log: Option<&dyn WriteLog>,
        handler: Self::Handler,
    ) -> Result<Dispatched, ApiError> {
        writing(Op::OPERATION, ctx, store, input, protocol, log, handler)
    }
}

/// A handler that reads the caller's state and those of the accounts sharing images with it.
type AcrossAccountsHandler<I, O> =
    fn(&RequestContext, &RegionState, &[(&Tenant, &RegionState)], I) -> Result<O, ApiError>;

impl<Op: OperationShape> Serve<Op> for ReadsAcrossAccounts {
    type Handler = AcrossAccountsHandler<Op::Input, Op::Output>;
    fn serve(
        ctx: &RequestContext,
        store: &Store,
        input: Value,
        protocol: Option<Protocol>,
        _log: Option<&dyn WriteLog>,
        handler: Self::Handler,
    ) -> Result<Dispatched, ApiError> {
        let input = typed_input(input)?;
        let output = store.read_region_accounts(ctx.tenant, ctx.now, |own, others| {
            handler(ctx, own, others, input)
        })?;
        Ok(Dispatched {
            body: encoded(protocol, &output)?,
            log_seq: None,
        })
    }
}

/// A handler that changes the caller's state, reading those of the accounts sharing images with it.
type WriteReadingAccountsHandler<I, O> =
    fn(&RequestContext, &mut RegionState, &[(&Tenant, &RegionState)], I) -> Result<O, ApiError>;

impl<Op: OperationShape> Serve<Op> for WritesReadingAccounts {
    type Handler = WriteReadingAccountsHandler<Op::Input, Op::Output>;
    fn serve(
        ctx: &RequestContext,
        store: &Store,
        input: Value,
        protocol: Option<Protocol>,
        log: Option<&dyn WriteLog>,
        handler: Self::Handler,
    ) -> Result<Dispatched, ApiError> {
        let record = recordable(log, &input)?;
        let input = typed_input(input)?;
        let (output, log_seq) =
            store.write_region_reading_accounts(ctx.tenant, ctx.now, |state, others| {
                commit(
                    ctx,
                    state,
                    log,
                    Op::OPERATION.name(),
                    record,
                    |ctx, state| handler(ctx, state, others, input),
                )
            })?;
        Ok(Dispatched {
            body: encoded(protocol, &output)?,
            log_seq,
        })
    }
}

/// A handler that changes the caller's state and a second tenant's (`None`: the same).
type TwoRegionHandler<I, O> =
    fn(&RequestContext, &mut RegionState, Option<&mut RegionState>, I) -> Result<O, ApiError>;

impl<Op: SpansRegions> Serve<Op> for WritesTwoRegions {
    type Handler = TwoRegionHandler<Op::Input, Op::Output>;
    fn serve(
        ctx: &RequestContext,
        store: &Store,
        input: Value,
        protocol: Option<Protocol>,
        log: Option<&dyn WriteLog>,
        handler: Self::Handler,
    ) -> Result<Dispatched, ApiError> {
        writing_two::<Op>(ctx, store, input, protocol, log, handler)
    }
}

/// Serves operation `Op` with `handler`, whose type the operation decides.
fn serve<Op>(
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Option<Protocol>,
    log: Option<&dyn WriteLog>,
    handler: <Op::Mode as Serve<Op>>::Handler,
) -> Result<Dispatched, ApiError>
where
    Op: OperationShape,
    Op::Mode: Serve<Op>,
{
    let served = Op::Mode::serve(ctx, store, input, protocol, log, handler);
    if let Err(error) = &served {
        debug_assert!(
            answerable(Op::OPERATION, &error.code),
            "{} answered {}, which the model does not list for it",
            Op::OPERATION.name(),
            error.code
        );
    }
    served
}

/// Errors any operation may answer besides the ones the model lists for it.
pub const COMMON_ERRORS: &[&str] = &[
    "ValidationException",
    "SerializationException",
    "InternalFailure",
];

/// Whether `op` may answer the error `code`: one the model (with its overlay) lists for
/// it, or a common one.
pub fn answerable(op: Operation, code: &str) -> bool {
    COMMON_ERRORS.contains(&code) || op.errors().iter().any(|e| e.code() == code)
}

macro_rules! handlers {
    ($($op:ident => $handler:path,)*) => {
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
                $(Operation::$op => serve::<op::$op>(ctx, store, input, protocol, log, $handler),)*
                // Unreachable once every operation of the model has a handler.
                #[allow(unreachable_patterns)]
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
    CreateDirectoryConfig => directory_configs::create_directory_config,
    DescribeDirectoryConfigs => directory_configs::describe_directory_configs,
    UpdateDirectoryConfig => directory_configs::update_directory_config,
    DeleteDirectoryConfig => directory_configs::delete_directory_config,
    CreateThemeForStack => themes::create_theme_for_stack,
    DescribeThemeForStack => themes::describe_theme_for_stack,
    UpdateThemeForStack => themes::update_theme_for_stack,
    DeleteThemeForStack => themes::delete_theme_for_stack,
    CreateAppBlock => app_blocks::create_app_block,
    DescribeAppBlocks => app_blocks::describe_app_blocks,
    DeleteAppBlock => app_blocks::delete_app_block,
    CreateApplication => applications::create_application,
    DescribeApplications => applications::describe_applications,
    UpdateApplication => applications::update_application,
    DeleteApplication => applications::delete_application,
    AssociateApplicationFleet => application_fleets::associate_application_fleet,
    DisassociateApplicationFleet => application_fleets::disassociate_application_fleet,
    DescribeApplicationFleetAssociations => application_fleets::describe_application_fleet_associations,
    CreateEntitlement => entitlements::create_entitlement,
    DescribeEntitlements => entitlements::describe_entitlements,
    UpdateEntitlement => entitlements::update_entitlement,
    DeleteEntitlement => entitlements::delete_entitlement,
    AssociateApplicationToEntitlement => entitlements::associate_application_to_entitlement,
    DisassociateApplicationFromEntitlement => entitlements::disassociate_application_from_entitlement,
    ListEntitledApplications => entitlements::list_entitled_applications,
    CreateAppBlockBuilder => app_block_builders::create_app_block_builder,
    DescribeAppBlockBuilders => app_block_builders::describe_app_block_builders,
    UpdateAppBlockBuilder => app_block_builders::update_app_block_builder,
    DeleteAppBlockBuilder => app_block_builders::delete_app_block_builder,
    StartAppBlockBuilder => app_block_builders::start_app_block_builder,
    StopAppBlockBuilder => app_block_builders::stop_app_block_builder,
    AssociateAppBlockBuilderAppBlock => app_block_builders::associate_app_block_builder_app_block,
    DisassociateAppBlockBuilderAppBlock => app_block_builders::disassociate_app_block_builder_app_block,
    DescribeAppBlockBuilderAppBlockAssociations => app_block_builders::describe_app_block_builder_app_block_associations,
    CreateAppBlockBuilderStreamingURL => app_block_builders::create_app_block_builder_streaming_url,
    UpdateImageBuilder => image_builders::update_image_builder,
    DrainSessionInstance => sessions::drain_session_instance,
    DescribeAppLicenseUsage => license_usage::describe_app_license_usage,
    AssociateSoftwareToImageBuilder => software::associate_software_to_image_builder,
    DisassociateSoftwareFromImageBuilder => software::disassociate_software_from_image_builder,
    StartSoftwareDeploymentToImageBuilder => software::start_software_deployment_to_image_builder,
    DescribeSoftwareAssociations => software::describe_software_associations,
    CreateImportedImage => image_imports::create_imported_image,
    CopyImage => image_copies::copy_image,
    CreateExportImageTask => export_tasks::create_export_image_task,
    GetExportImageTask => export_tasks::get_export_image_task,
    ListExportImageTasks => export_tasks::list_export_image_tasks,
    CreateUsageReportSubscription => usage_reports::create_usage_report_subscription,
    DescribeUsageReportSubscriptions => usage_reports::describe_usage_report_subscriptions,
    DeleteUsageReportSubscription => usage_reports::delete_usage_report_subscription,
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
    let ctx = &ctx.serving(op);
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
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Option<Protocol>,
    handler: ReadHandler<I, O>,
) -> Result<Dispatched, ApiError> {
    let input = typed_input(input)?;
    let output = store.read_settled(ctx.tenant, ctx.now, |state| handler(ctx, state, input))?;
    Ok(Dispatched {
        body: encoded(protocol, &output)?,
        log_seq: None,
    })
}

/// `writing` for an operation that spans two tenants: both regions are locked (in one
/// global order) and settled, the write takes a time no earlier than either's last
/// settling, and it is recorded once, under the caller, whose replay writes both again.
fn writing_two<Op: SpansRegions>(
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Option<Protocol>,
    log: Option<&dyn WriteLog>,
    handler: TwoRegionHandler<Op::Input, Op::Output>,
) -> Result<Dispatched, ApiError> {
    let record = recordable(log, &input)?;
    let input: Op::Input = typed_input(input)?;
    let second = Op::second_tenant(&input, ctx.tenant)?;
    let (output, log_seq) = store.write_regions(ctx.tenant, &second, |state, other| {
        let settled = other
            .as_ref()
            .map_or(0.0, |o| o.settled_through())
            .max(state.settled_through());
        let ctx = &ctx.under_lock(settled);
        state.settle(ctx.now);
        let mut other = other;
        if let Some(o) = other.as_deref_mut() {
            o.settle(ctx.now);
        }
        let output = handler(ctx, state, other.as_deref_mut(), input)?;
        state.expect_transition_by(ctx.transition_due());
        if let Some(o) = other {
            o.expect_transition_by(ctx.transition_due());
        }
        let seq = match (log, record) {
            (Some(log), Some(record)) => Some(log.append(ctx, Op::OPERATION.name(), record)?),
            _ => None,
        };
        Ok::<_, ApiError>((output, seq))
    })?;
    Ok(Dispatched {
        body: encoded(protocol, &output)?,
        log_seq,
    })
}

/// A test control that changes state, which is not an operation of the model: it runs
/// like a write and is recorded under its name, so replay runs it again.
pub type ControlHandler = fn(&RequestContext, &mut RegionState, &Value) -> Result<Value, ApiError>;

/// The state-changing test controls, by the name their records carry.
pub fn control(name: &str) -> Option<ControlHandler> {
    match name {
        "_finish_packaging" => Some(app_block_builders::finish_packaging),
        "_create_image" => Some(builder_images::create_image),
        "_connect_session" => Some(session_connections::connect_session),
        "_disconnect_session" => Some(session_connections::disconnect_session),
        _ => None,
    }
}

/// Runs the control `name` like a write: under the region's lock, recorded in `log`.
pub fn dispatch_control(
    name: &str,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    log: Option<&dyn WriteLog>,
) -> Result<(Value, Option<u64>), ApiError> {
    let handler = control(name).ok_or_else(|| ApiError::not_implemented(name))?;
    let record = recordable(log, &input)?;
    let _operation = store.enter();
    store.write_region(ctx.tenant, |state| {
        commit(ctx, state, log, name, record, |ctx, state| {
            handler(ctx, state, &input)
        })
    })
}

/// The input to record for a write, when there is a log; refused before anything is
/// changed once the log cannot promise durability.
fn recordable(log: Option<&dyn WriteLog>, input: &Value) -> Result<Option<Value>, ApiError> {
    match log {
        Some(log) => log.check_writable().map(|()| Some(input.clone())),
        None => Ok(None),
    }
}

/// One write, under its region's exclusive lock: it takes its time there, settles the
/// region, runs, notes the transitions it began, and is recorded as `name` with `record`,
/// so the log's order is the order in which writes took effect.
fn commit<O>(
    ctx: &RequestContext,
    state: &mut RegionState,
    log: Option<&dyn WriteLog>,
    name: &str,
    record: Option<Value>,
    run: impl FnOnce(&RequestContext, &mut RegionState) -> Result<O, ApiError>,
) -> Result<(O, Option<u64>), ApiError> {
    let ctx = &ctx.under_lock(state.settled_through());
    state.settle(ctx.now);
    let output = run(ctx, state)?;
    // Every transition a handler begins is due at this time (`Transition::after_delay`).
    state.expect_transition_by(ctx.transition_due());
    let seq = match (log, record) {
        (Some(log), Some(record)) => Some(log.append(ctx, name, record)?),
        _ => None,
    };
    Ok((output, seq))
}

/// Runs a write under the exclusive lock, the log's record included.
fn writing<I: DeserializeOwned, O: Serialize>(
    op: Operation,
    ctx: &RequestContext,
    store: &Store,
    input: Value,
    protocol: Option<Protocol>,
    log: Option<&dyn WriteLog>,
    handler: WriteHandler<I, O>,
) -> Result<Dispatched, ApiError> {
    let record = recordable(log, &input)?;
    let input = typed_input(input)?;
    let (output, log_seq) = store.write_region(ctx.tenant, |state| {
        commit(ctx, state, log, op.name(), record, |ctx, state| {
            handler(ctx, state, input)
        })
    })?;
    Ok(Dispatched {
        body: encoded(protocol, &output)?,
        log_seq,
    })
}
