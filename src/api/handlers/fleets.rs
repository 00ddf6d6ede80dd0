//! CreateFleet, DescribeFleets, UpdateFleet, DeleteFleet, StartFleet, StopFleet.

use crate::api::handlers::directory_configs::check_domain_join;
use crate::api::handlers::fleet_rules::{
    check_ranges, check_type_rules, desired_instances, FleetSettings,
};
use crate::api::handlers::images::{lookup_visible, resolve_image, ImageUse};
use crate::api::handlers::instance_types;
use crate::config::quotas;
use crate::error::ApiError;
use crate::generated::types::{
    ComputeCapacity, ComputeCapacityStatus, CreateFleetRequest, CreateFleetResult,
    DeleteFleetRequest, DeleteFleetResult, DescribeFleetsRequest, DescribeFleetsResult, Fleet,
    FleetAttribute, FleetState, FleetType, StartFleetRequest, StartFleetResult, StopFleetRequest,
    StopFleetResult, StreamView, UpdateFleetRequest, UpdateFleetResult,
};
use crate::identity::tenant::Tenant;
use crate::model::arn::resource_arn;
use crate::request::context::RequestContext;
use crate::state::lifecycle::{begin, FleetRecord, Lifecycle, Outcome, START_FLEET, STOP_FLEET};
use crate::state::RegionState;

/// Fleets per DescribeFleets page; like DescribeStacks, the model has no MaxResults.
pub const DESCRIBE_FLEETS_PAGE_SIZE: usize = 25;

/// AWS's documented defaults.
const DEFAULT_MAX_USER_DURATION: i32 = 57_600;
const DEFAULT_DISCONNECT_TIMEOUT: i32 = 900;

fn check_instance_type_listed(fleet_type: FleetType, instance_type: &str) -> Result<(), ApiError> {
    match fleet_type {
        FleetType::Elastic => instance_types::check_listed(
            instance_types::ELASTIC_FLEET_INSTANCE_TYPES,
            instance_type,
            "Elastic fleets",
        ),
        _ => instance_types::check_listed(
            instance_types::FLEET_INSTANCE_TYPES,
            instance_type,
            "fleets",
        ),
    }
}

pub fn create_fleet(
    ctx: &RequestContext,
    state: &mut RegionState,
    others: &[(&Tenant, &RegionState)],
    req: CreateFleetRequest,
) -> Result<CreateFleetResult, ApiError> {
    let fleet_type = req.fleet_type.unwrap_or(FleetType::OnDemand);
    let settings = FleetSettings {
        fleet_type,
        max_user_duration: req.max_user_duration_in_seconds,
        disconnect_timeout: req.disconnect_timeout_in_seconds,
        idle_disconnect_timeout: req.idle_disconnect_timeout_in_seconds,
        compute_capacity: req.compute_capacity.as_ref(),
        max_concurrent_sessions: req.max_concurrent_sessions,
        max_sessions_per_instance: req.max_sessions_per_instance,
        vpc_config: req.vpc_config.as_ref(),
        platform: req.platform,
        has_domain_join: req.domain_join_info.is_some(),
        has_session_script: req.session_script_s3_location.is_some(),
    };
    check_ranges(&settings)?;
    check_type_rules(&settings)?;
    check_instance_type_listed(fleet_type, &req.instance_type)?;
    state
        .fleets
        .check_new(&req.name, ctx.rules.quota(quotas::FLEETS_PER_REGION))?;
    check_domain_join(state, req.domain_join_info.as_ref())?;
    // Elastic fleets stream app blocks and need no image.
    let image = if fleet_type == FleetType::Elastic
        && req.image_name.is_none()
        && req.image_arn.is_none()
    {
        None
    } else {
        Some(resolve_image(
            ctx,
            state,
            others,
            req.image_name.as_deref(),
            req.image_arn.as_deref(),
            ImageUse::Fleet,
        )?)
    };
    if let Some(image) = &image {
        instance_types::check_compatible(image, &req.instance_type)?;
    }
    let desired = match fleet_type {
        FleetType::Elastic => req.max_concurrent_sessions.unwrap_or(0),
        _ => desired_instances(req.compute_capacity.as_ref(), req.max_sessions_per_instance),
    };
    let arn = resource_arn(ctx.tenant, "fleet", &req.name);
    let mut record = FleetRecord {
        fleet: Fleet {
            arn: arn.clone(),
            name: req.name.clone(),
            display_name: req.display_name,
            description: req.description,
            image_name: image.as_ref().map(|i| i.name.clone()),
            image_arn: image.as_ref().and_then(|i| i.arn.clone()),
            instance_type: req.instance_type,
            fleet_type: Some(fleet_type),
            compute_capacity_status: ComputeCapacityStatus {
                desired,
                desired_user_sessions: req
                    .compute_capacity
                    .as_ref()
                    .and_then(|c| c.desired_sessions),
                ..Default::default()
            },
            max_user_duration_in_seconds: Some(
                req.max_user_duration_in_seconds
                    .unwrap_or(DEFAULT_MAX_USER_DURATION),
            ),
            disconnect_timeout_in_seconds: Some(
                req.disconnect_timeout_in_seconds
                    .unwrap_or(DEFAULT_DISCONNECT_TIMEOUT),
            ),
            state: FleetState::Stopped,
            vpc_config: req.vpc_config,
            created_time: Some(ctx.now),
            fleet_errors: None,
            enable_default_internet_access: Some(
                req.enable_default_internet_access.unwrap_or(false),
            ),
            domain_join_info: req.domain_join_info,
            idle_disconnect_timeout_in_seconds: Some(
                req.idle_disconnect_timeout_in_seconds.unwrap_or(0),
            ),
            iam_role_arn: req.iam_role_arn,
            stream_view: Some(req.stream_view.unwrap_or(StreamView::App)),
            platform: req.platform.or(image.as_ref().and_then(|i| i.platform)),
            max_concurrent_sessions: req.max_concurrent_sessions,
            usb_device_filter_strings: req.usb_device_filter_strings,
            session_script_s3_location: req.session_script_s3_location,
            max_sessions_per_instance: req.max_sessions_per_instance,
            root_volume_config: req.root_volume_config,
            disable_imdsv1: req.disable_imdsv1,
        },
        transition: None,
        failing: None,
    };
    record.set_state(FleetState::Stopped);
    let fleet = record.fleet.clone();
    state.fleets.insert(req.name, record);
    if let Some(tags) = req.tags {
        state.tags.merge(&arn, tags);
    }
    Ok(CreateFleetResult { fleet: Some(fleet) })
}

pub fn describe_fleets(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeFleetsRequest,
) -> Result<DescribeFleetsResult, ApiError> {
    let (fleets, next_token) = state.fleets.describe(
        ctx,
        req.names.as_deref(),
        req.next_token.as_deref(),
        DESCRIBE_FLEETS_PAGE_SIZE,
        |record| record.fleet.clone(),
    )?;
    Ok(DescribeFleetsResult {
        fleets: Some(fleets),
        next_token,
    })
}

/// The members an UpdateFleet request sets or deletes, by their model names.
fn requested_changes(req: &UpdateFleetRequest) -> Vec<&'static str> {
    let mut changes = Vec::new();
    let mut add = |present: bool, name: &'static str| {
        if present {
            changes.push(name);
        }
    };
    add(req.image_name.is_some(), "ImageName");
    add(req.image_arn.is_some(), "ImageArn");
    add(req.instance_type.is_some(), "InstanceType");
    add(req.compute_capacity.is_some(), "ComputeCapacity");
    add(
        req.vpc_config.is_some() || req.delete_vpc_config == Some(true),
        "VpcConfig",
    );
    add(
        req.max_user_duration_in_seconds.is_some(),
        "MaxUserDurationInSeconds",
    );
    add(
        req.disconnect_timeout_in_seconds.is_some(),
        "DisconnectTimeoutInSeconds",
    );
    add(req.description.is_some(), "Description");
    add(req.display_name.is_some(), "DisplayName");
    add(
        req.enable_default_internet_access.is_some(),
        "EnableDefaultInternetAccess",
    );
    add(req.domain_join_info.is_some(), "DomainJoinInfo");
    add(
        req.idle_disconnect_timeout_in_seconds.is_some(),
        "IdleDisconnectTimeoutInSeconds",
    );
    add(req.iam_role_arn.is_some(), "IamRoleArn");
    add(req.stream_view.is_some(), "StreamView");
    add(req.platform.is_some(), "Platform");
    add(
        req.max_concurrent_sessions.is_some(),
        "MaxConcurrentSessions",
    );
    add(
        req.usb_device_filter_strings.is_some(),
        "UsbDeviceFilterStrings",
    );
    add(
        req.session_script_s3_location.is_some(),
        "SessionScriptS3Location",
    );
    add(
        req.max_sessions_per_instance.is_some(),
        "MaxSessionsPerInstance",
    );
    add(req.root_volume_config.is_some(), "RootVolumeConfig");
    add(req.disable_imdsv1.is_some(), "DisableIMDSV1");
    for attribute in req.attributes_to_delete.iter().flatten() {
        changes.push(match attribute {
            FleetAttribute::VpcConfiguration | FleetAttribute::VpcConfigurationSecurityGroupIds => {
                "VpcConfig"
            }
            FleetAttribute::DomainJoinInfo => "DomainJoinInfo",
            FleetAttribute::IamRoleArn => "IamRoleArn",
            FleetAttribute::UsbDeviceFilterStrings => "UsbDeviceFilterStrings",
            FleetAttribute::SessionScriptS3Location => "SessionScriptS3Location",
            FleetAttribute::MaxSessionsPerInstance => "MaxSessionsPerInstance",
            FleetAttribute::VolumeConfiguration => "RootVolumeConfig",
        });
    }
    changes
}

/// Whether a RUNNING fleet may take `change`: its type's list in UpdateFleet's
/// documentation, and for a multi-session fleet also its sessions per instance (the
/// Terraform provider's tests change it on a RUNNING fleet against AWS; the older
/// documentation left it out).
fn may_change_while_running(fleet: &Fleet, change: &str) -> bool {
    let listed: &[&str] = match fleet.fleet_type.unwrap_or(FleetType::OnDemand) {
        FleetType::Elastic => &[
            "DisplayName",
            "IdleDisconnectTimeoutInSeconds",
            "DisconnectTimeoutInSeconds",
            "MaxConcurrentSessions",
            "SessionScriptS3Location",
            "UsbDeviceFilterStrings",
        ],
        FleetType::AlwaysOn | FleetType::OnDemand => &[
            "DisplayName",
            "ComputeCapacity",
            "ImageArn",
            "ImageName",
            "IdleDisconnectTimeoutInSeconds",
            "DisconnectTimeoutInSeconds",
        ],
    };
    listed.contains(&change)
        || (change == "MaxSessionsPerInstance" && fleet.max_sessions_per_instance.is_some())
}

pub fn update_fleet(
    ctx: &RequestContext,
    state: &mut RegionState,
    others: &[(&Tenant, &RegionState)],
    req: UpdateFleetRequest,
) -> Result<UpdateFleetResult, ApiError> {
    let name = req.name.clone();
    let record = state.fleets.find(&name)?;
    let current = record.fleet.clone();
    let fleet_type = current.fleet_type.unwrap_or(FleetType::OnDemand);
    match current.state {
        FleetState::Stopped => {}
        FleetState::Running => {
            let refused: Vec<&str> = requested_changes(&req)
                .into_iter()
                .filter(|c| !may_change_while_running(&current, c))
                .collect();
            if !refused.is_empty() {
                return Err(ApiError::in_use(format!(
                    "Fleet {name} is RUNNING; stop it before changing {}.",
                    refused.join(", ")
                )));
            }
        }
        other => {
            return Err(ApiError::in_use(format!(
                "Fleet {name} is {}; it can be updated once it is RUNNING or STOPPED.",
                other.as_str()
            )))
        }
    }

    let mut fleet = current;
    for attribute in req.attributes_to_delete.iter().flatten() {
        match attribute {
            FleetAttribute::VpcConfiguration => fleet.vpc_config = None,
            FleetAttribute::VpcConfigurationSecurityGroupIds => {
                if let Some(vpc) = &mut fleet.vpc_config {
                    vpc.security_group_ids = None;
                }
            }
            FleetAttribute::DomainJoinInfo => fleet.domain_join_info = None,
            FleetAttribute::IamRoleArn => fleet.iam_role_arn = None,
            FleetAttribute::UsbDeviceFilterStrings => fleet.usb_device_filter_strings = None,
            FleetAttribute::SessionScriptS3Location => fleet.session_script_s3_location = None,
            FleetAttribute::MaxSessionsPerInstance => fleet.max_sessions_per_instance = None,
            FleetAttribute::VolumeConfiguration => fleet.root_volume_config = None,
        }
    }
    if req.delete_vpc_config == Some(true) {
        fleet.vpc_config = None;
    }
    if req.image_name.is_some() || req.image_arn.is_some() {
        let image = resolve_image(
            ctx,
            state,
            others,
            req.image_name.as_deref(),
            req.image_arn.as_deref(),
            ImageUse::Fleet,
        )?;
        fleet.image_name = Some(image.name);
        fleet.image_arn = image.arn;
    }
    macro_rules! set {
        ($($field:ident),*) => {$(
            if let Some(v) = req.$field.clone() {
                fleet.$field = Some(v);
            }
        )*};
    }
    set!(
        vpc_config,
        max_user_duration_in_seconds,
        disconnect_timeout_in_seconds,
        description,
        display_name,
        enable_default_internet_access,
        domain_join_info,
        idle_disconnect_timeout_in_seconds,
        iam_role_arn,
        stream_view,
        platform,
        max_concurrent_sessions,
        usb_device_filter_strings,
        session_script_s3_location,
        max_sessions_per_instance,
        root_volume_config,
        disable_imdsv1
    );
    if let Some(v) = req.instance_type.clone() {
        check_instance_type_listed(fleet_type, &v)?;
        fleet.instance_type = v;
    }
    if req.instance_type.is_some() || req.image_name.is_some() || req.image_arn.is_some() {
        let image = fleet.image_arn.as_deref().and_then(|arn| {
            lookup_visible(ctx.added_public_images(), ctx.tenant, state, others, arn)
        });
        if let Some(image) = image {
            instance_types::check_compatible(&image, &fleet.instance_type)?;
        }
    }
    // The merged fleet must still satisfy every rule a new one would.
    let capacity = req
        .compute_capacity
        .clone()
        .or_else(|| (fleet_type != FleetType::Elastic).then(|| current_capacity(&fleet)));
    let settings = FleetSettings {
        fleet_type,
        max_user_duration: fleet.max_user_duration_in_seconds,
        disconnect_timeout: fleet.disconnect_timeout_in_seconds,
        idle_disconnect_timeout: fleet.idle_disconnect_timeout_in_seconds,
        compute_capacity: capacity.as_ref(),
        max_concurrent_sessions: fleet.max_concurrent_sessions,
        max_sessions_per_instance: fleet.max_sessions_per_instance,
        vpc_config: fleet.vpc_config.as_ref(),
        platform: fleet.platform,
        has_domain_join: fleet.domain_join_info.is_some(),
        has_session_script: fleet.session_script_s3_location.is_some(),
    };
    check_ranges(&settings)?;
    check_type_rules(&settings)?;
    if req.domain_join_info.is_some() {
        check_domain_join(state, fleet.domain_join_info.as_ref())?;
    }
    fleet.compute_capacity_status.desired = match fleet_type {
        FleetType::Elastic => fleet.max_concurrent_sessions.unwrap_or(0),
        _ => desired_instances(capacity.as_ref(), fleet.max_sessions_per_instance),
    };
    fleet.compute_capacity_status.desired_user_sessions =
        capacity.as_ref().and_then(|c| c.desired_sessions);

    let record = state.fleets.find_mut(&name)?;
    record.fleet = fleet;
    let fleet_state = record.fleet.state;
    record.set_state(fleet_state);
    Ok(UpdateFleetResult {
        fleet: Some(record.fleet.clone()),
    })
}

/// The capacity a fleet was last given, in the request's terms.
fn current_capacity(fleet: &Fleet) -> ComputeCapacity {
    let status = &fleet.compute_capacity_status;
    match status.desired_user_sessions {
        Some(sessions) => ComputeCapacity {
            desired_instances: None,
            desired_sessions: Some(sessions),
        },
        None => ComputeCapacity {
            desired_instances: Some(status.desired),
            desired_sessions: None,
        },
    }
}

pub fn delete_fleet(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteFleetRequest,
) -> Result<DeleteFleetResult, ApiError> {
    let record = state.fleets.find(&req.name)?;
    if record.fleet.state != FleetState::Stopped {
        return Err(ApiError::in_use(format!(
            "Fleet {} is {}. Only fleets in the STOPPED state can be deleted.",
            req.name,
            record.fleet.state.as_str()
        )));
    }
    if let Some(stack) = state.stacks_of_fleet(&req.name).next() {
        return Err(ApiError::in_use(format!(
            "Cannot delete fleet {}. It is associated with stack {stack}. Disassociate it from every stack first.",
            req.name
        )));
    }
    state.fleets.remove(&req.name, &mut state.tags);
    // Its applications are no longer offered anywhere through it.
    state.application_fleets.remove_left(&req.name);
    state.sessions.retain(|_, s| s.fleet_name != req.name);
    Ok(DeleteFleetResult {})
}

pub fn start_fleet(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: StartFleetRequest,
) -> Result<StartFleetResult, ApiError> {
    let record = state.fleets.find_mut(&req.name)?;
    begin(record, &req.name, &START_FLEET, ctx)?;
    Ok(StartFleetResult {})
}

pub fn stop_fleet(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: StopFleetRequest,
) -> Result<StopFleetResult, ApiError> {
    let record = state.fleets.find_mut(&req.name)?;
    if begin(record, &req.name, &STOP_FLEET, ctx)? == Outcome::Began {
        // Stopping a fleet ends its streaming sessions.
        state.sessions.retain(|_, s| s.fleet_name != req.name);
    }
    Ok(StopFleetResult {})
}
