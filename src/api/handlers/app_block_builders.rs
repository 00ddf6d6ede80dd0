//! App block builders: Create/Describe/Update/Delete/Start/Stop, their one app block
//! (Associate/Disassociate, DescribeAppBlockBuilderAppBlockAssociations) and
//! CreateAppBlockBuilderStreamingURL.

use serde_json::json;

use crate::api::handlers::instance_types::{self, APP_BLOCK_BUILDER_INSTANCE_TYPES};
use crate::api::handlers::sessions::{entry_grant, validity};
use crate::config::quotas;
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    AppBlockBuilder, AppBlockBuilderAppBlockAssociation, AppBlockBuilderAttribute,
    AppBlockBuilderState, AppBlockState, AssociateAppBlockBuilderAppBlockRequest,
    AssociateAppBlockBuilderAppBlockResult, CreateAppBlockBuilderRequest,
    CreateAppBlockBuilderResult, CreateAppBlockBuilderStreamingURLRequest,
    CreateAppBlockBuilderStreamingURLResult, DeleteAppBlockBuilderRequest,
    DeleteAppBlockBuilderResult, DescribeAppBlockBuilderAppBlockAssociationsRequest,
    DescribeAppBlockBuilderAppBlockAssociationsResult, DescribeAppBlockBuildersRequest,
    DescribeAppBlockBuildersResult, DisassociateAppBlockBuilderAppBlockRequest,
    DisassociateAppBlockBuilderAppBlockResult, PackagingType, PlatformType,
    StartAppBlockBuilderRequest, StartAppBlockBuilderResult, StopAppBlockBuilderRequest,
    StopAppBlockBuilderResult, UpdateAppBlockBuilderRequest, UpdateAppBlockBuilderResult,
    VpcConfig,
};
use crate::identity::streaming::{Grant, Target};
use crate::model::arn::resource_arn;
use crate::request::context::RequestContext;
use crate::request::pagination::{page, page_size};
use crate::state::lifecycle::{
    begin, AppBlockBuilderRecord, START_APP_BLOCK_BUILDER, STOP_APP_BLOCK_BUILDER,
};
use crate::state::RegionState;

/// DescribeAppBlockBuilders: "The maximum value is 25" (the model's documentation).
const MAX_PAGE_SIZE: usize = 25;
/// Streaming URLs of app block builders default to an hour (the model's documentation).
const DEFAULT_VALIDITY: i64 = 3_600;

fn not_permitted(message: String) -> ApiError {
    ApiError::modeled(ModeledError::OperationNotPermittedException, message)
}

/// The model's prose: app block builders "require that you specify at least two subnets
/// in different availability zones".
fn check_subnets(vpc: &VpcConfig) -> Result<(), ApiError> {
    if vpc.subnet_ids.as_ref().is_none_or(|s| s.len() < 2) {
        return Err(ApiError::invalid_combination(
            "App block builders require a VpcConfig with at least two subnets in different Availability Zones.",
        ));
    }
    Ok(())
}

pub fn create_app_block_builder(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateAppBlockBuilderRequest,
) -> Result<CreateAppBlockBuilderResult, ApiError> {
    instance_types::check_listed(
        APP_BLOCK_BUILDER_INSTANCE_TYPES,
        &req.instance_type,
        "app block builders",
    )?;
    check_subnets(&req.vpc_config)?;
    state.app_block_builders.check_new(
        &req.name,
        ctx.rules.quota(quotas::APP_BLOCK_BUILDERS_PER_REGION),
    )?;
    let arn = resource_arn(ctx.tenant, "app-block-builder", &req.name);
    let builder = AppBlockBuilder {
        arn: arn.clone(),
        name: req.name.clone(),
        display_name: req.display_name,
        description: req.description,
        platform: req.platform,
        instance_type: req.instance_type,
        enable_default_internet_access: Some(req.enable_default_internet_access.unwrap_or(false)),
        iam_role_arn: req.iam_role_arn,
        vpc_config: req.vpc_config,
        state: AppBlockBuilderState::Stopped,
        created_time: Some(ctx.now),
        app_block_builder_errors: None,
        state_change_reason: None,
        access_endpoints: req.access_endpoints,
        disable_imdsv1: req.disable_imdsv1,
    };
    let record = AppBlockBuilderRecord {
        builder: builder.clone(),
        transition: None,
        failing: None,
    };
    state.app_block_builders.insert(req.name, record);
    if let Some(tags) = req.tags {
        state.tags.merge(&arn, tags);
    }
    Ok(CreateAppBlockBuilderResult {
        app_block_builder: Some(builder),
    })
}

pub fn describe_app_block_builders(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeAppBlockBuildersRequest,
) -> Result<DescribeAppBlockBuildersResult, ApiError> {
    let (builders, next_token) = state.app_block_builders.describe(
        ctx,
        req.names.as_deref(),
        req.next_token.as_deref(),
        page_size(req.max_results, MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
        |record| record.builder.clone(),
    )?;
    Ok(DescribeAppBlockBuildersResult {
        app_block_builders: Some(builders),
        next_token,
    })
}

/// What an update asks to change, by member name, for the RUNNING rule.
fn requested_changes(req: &UpdateAppBlockBuilderRequest) -> Vec<&'static str> {
    [
        (req.platform.is_some(), "Platform"),
        (req.instance_type.is_some(), "InstanceType"),
        (req.vpc_config.is_some(), "VpcConfig"),
        (
            req.enable_default_internet_access.is_some(),
            "EnableDefaultInternetAccess",
        ),
        (req.iam_role_arn.is_some(), "IamRoleArn"),
        (req.access_endpoints.is_some(), "AccessEndpoints"),
        (req.attributes_to_delete.is_some(), "AttributesToDelete"),
        (req.disable_imdsv1.is_some(), "DisableIMDSV1"),
    ]
    .into_iter()
    .filter_map(|(asked, name)| asked.then_some(name))
    .collect()
}

/// STOPPED: anything but the name; RUNNING: only DisplayName and Description; nothing
/// while STARTING or STOPPING (the model's documentation).
pub fn update_app_block_builder(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: UpdateAppBlockBuilderRequest,
) -> Result<UpdateAppBlockBuilderResult, ApiError> {
    let current = state.app_block_builders.find(&req.name)?.builder.state;
    let refused = match current {
        AppBlockBuilderState::Stopped => Vec::new(),
        AppBlockBuilderState::Running => requested_changes(&req),
        _ => vec!["anything"],
    };
    if !refused.is_empty() {
        return Err(ApiError::in_use(format!(
            "App block builder {} is {}; {} cannot be changed now.",
            req.name,
            current.as_str(),
            refused.join(", ")
        )));
    }
    if req
        .platform
        .is_some_and(|p| p != PlatformType::WindowsServer2019)
    {
        return Err(ApiError::invalid_combination(
            "WINDOWS_SERVER_2019 is the only platform of app block builders.",
        ));
    }
    if let Some(t) = &req.instance_type {
        instance_types::check_listed(APP_BLOCK_BUILDER_INSTANCE_TYPES, t, "app block builders")?;
    }
    if let Some(vpc) = &req.vpc_config {
        check_subnets(vpc)?;
    }
    let builder = &mut state.app_block_builders.find_mut(&req.name)?.builder;
    for attribute in req.attributes_to_delete.iter().flatten() {
        match attribute {
            AppBlockBuilderAttribute::IamRoleArn => builder.iam_role_arn = None,
            AppBlockBuilderAttribute::AccessEndpoints => builder.access_endpoints = None,
            AppBlockBuilderAttribute::VpcConfigurationSecurityGroupIds => {
                builder.vpc_config.security_group_ids = None
            }
        }
    }
    macro_rules! set {
        ($($field:ident),*) => {$(
            if let Some(v) = req.$field {
                builder.$field = Some(v);
            }
        )*};
    }
    set!(
        description,
        display_name,
        enable_default_internet_access,
        iam_role_arn,
        access_endpoints,
        disable_imdsv1
    );
    if let Some(t) = req.instance_type {
        builder.instance_type = t;
    }
    if let Some(vpc) = req.vpc_config {
        builder.vpc_config = vpc;
    }
    Ok(UpdateAppBlockBuilderResult {
        app_block_builder: Some(builder.clone()),
    })
}

/// Only a STOPPED builder with no app block can go (the model's documentation).
pub fn delete_app_block_builder(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteAppBlockBuilderRequest,
) -> Result<DeleteAppBlockBuilderResult, ApiError> {
    let builder = &state.app_block_builders.find(&req.name)?.builder;
    if builder.state != AppBlockBuilderState::Stopped {
        return Err(not_permitted(format!(
            "App block builder {} is {}; it can be deleted when STOPPED.",
            req.name,
            builder.state.as_str()
        )));
    }
    if let Some(block) = state.app_block_builder_blocks.rights_of(&req.name).next() {
        return Err(ApiError::in_use(format!(
            "App block builder {} is associated with app block {block}.",
            req.name
        )));
    }
    state.app_block_builders.remove(&req.name, &mut state.tags);
    Ok(DeleteAppBlockBuilderResult {})
}

/// Starting needs an associated app block (the model's documentation).
pub fn start_app_block_builder(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: StartAppBlockBuilderRequest,
) -> Result<StartAppBlockBuilderResult, ApiError> {
    state.app_block_builders.find(&req.name)?;
    if state
        .app_block_builder_blocks
        .rights_of(&req.name)
        .next()
        .is_none()
    {
        return Err(not_permitted(format!(
            "App block builder {} has no app block; associate one before starting it.",
            req.name
        )));
    }
    let record = state.app_block_builders.find_mut(&req.name)?;
    begin(record, &req.name, &START_APP_BLOCK_BUILDER, ctx)?;
    Ok(StartAppBlockBuilderResult {
        app_block_builder: Some(record.builder.clone()),
    })
}

pub fn stop_app_block_builder(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: StopAppBlockBuilderRequest,
) -> Result<StopAppBlockBuilderResult, ApiError> {
    let record = state.app_block_builders.find_mut(&req.name)?;
    begin(record, &req.name, &STOP_APP_BLOCK_BUILDER, ctx)?;
    Ok(StopAppBlockBuilderResult {
        app_block_builder: Some(record.builder.clone()),
    })
}

/// One builder has at most one app block and each block at most one builder; only
/// APPSTREAM2 blocks are packaged by builders.
pub fn associate_app_block_builder_app_block(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: AssociateAppBlockBuilderAppBlockRequest,
) -> Result<AssociateAppBlockBuilderAppBlockResult, ApiError> {
    let name = &req.app_block_builder_name;
    state.app_block_builders.find(name)?;
    let (_, block) = state.app_blocks.find_by_arn(ctx, &req.app_block_arn)?;
    if block.packaging_type != Some(PackagingType::Appstream2) {
        return Err(ApiError::invalid_combination(format!(
            "App block {} is not of the APPSTREAM2 PackagingType.",
            block.name
        )));
    }
    let pairs = &state.app_block_builder_blocks;
    if !pairs.contains(name, &req.app_block_arn) {
        if let Some(other) = pairs.rights_of(name).next() {
            return Err(ApiError::invalid_combination(format!(
                "App block builder {name} is already associated with app block {other}."
            )));
        }
        if let Some(other) = pairs.lefts_of(&req.app_block_arn).next() {
            return Err(ApiError::invalid_combination(format!(
                "The app block is already associated with app block builder {other}."
            )));
        }
    }
    state
        .app_block_builder_blocks
        .insert(name, &req.app_block_arn);
    Ok(AssociateAppBlockBuilderAppBlockResult {
        app_block_builder_app_block_association: Some(AppBlockBuilderAppBlockAssociation {
            app_block_arn: req.app_block_arn,
            app_block_builder_name: req.app_block_builder_name,
        }),
    })
}

/// Only a STOPPED builder lets its app block go (the model's documentation).
pub fn disassociate_app_block_builder_app_block(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DisassociateAppBlockBuilderAppBlockRequest,
) -> Result<DisassociateAppBlockBuilderAppBlockResult, ApiError> {
    let name = &req.app_block_builder_name;
    let builder = &state.app_block_builders.find(name)?.builder;
    if builder.state != AppBlockBuilderState::Stopped {
        return Err(not_permitted(format!(
            "App block builder {name} is {}; its app block can be disassociated when STOPPED.",
            builder.state.as_str()
        )));
    }
    if !state
        .app_block_builder_blocks
        .remove(name, &req.app_block_arn)
    {
        return Err(ApiError::not_found(format!(
            "App block builder {name} is not associated with app block {}.",
            req.app_block_arn
        )));
    }
    Ok(DisassociateAppBlockBuilderAppBlockResult {})
}

pub fn describe_app_block_builder_app_block_associations(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeAppBlockBuilderAppBlockAssociationsRequest,
) -> Result<DescribeAppBlockBuilderAppBlockAssociationsResult, ApiError> {
    let size = page_size(req.max_results, MAX_PAGE_SIZE).min(MAX_PAGE_SIZE);
    let (associations, next_token) = page(ctx, req.next_token.as_deref(), size, |after| {
        state
            .app_block_builder_blocks
            .pairs_after(after)
            .filter(|(builder, block)| {
                req.app_block_builder_name
                    .as_ref()
                    .is_none_or(|b| b == builder)
                    && req.app_block_arn.as_ref().is_none_or(|a| a == block)
            })
            .map(|(builder, block)| {
                let association = AppBlockBuilderAppBlockAssociation {
                    app_block_arn: block.clone(),
                    app_block_builder_name: builder.clone(),
                };
                ((builder.clone(), block.clone()), association)
            })
    })?;
    Ok(DescribeAppBlockBuilderAppBlockAssociationsResult {
        app_block_builder_app_block_associations: Some(associations),
        next_token,
    })
}

/// Needs a RUNNING builder; a read, like an image builder's URL.
pub fn create_app_block_builder_streaming_url(
    ctx: &RequestContext,
    state: &RegionState,
    req: CreateAppBlockBuilderStreamingURLRequest,
) -> Result<CreateAppBlockBuilderStreamingURLResult, ApiError> {
    let validity = validity(req.validity, DEFAULT_VALIDITY)?;
    let name = &req.app_block_builder_name;
    let builder = &state.app_block_builders.find(name)?.builder;
    if builder.state != AppBlockBuilderState::Running {
        return Err(not_permitted(format!(
            "App block builder {name} is {}; streaming URLs need a RUNNING app block builder.",
            builder.state.as_str()
        )));
    }
    let expires = ctx.now + validity as f64;
    let url = ctx.streaming_url(&Grant {
        instance: builder.created_time,
        ..entry_grant(ctx, Target::AppBlockBuilder(name.clone()), expires)
    });
    Ok(CreateAppBlockBuilderStreamingURLResult {
        streaming_url: Some(url),
        expires: Some(expires),
    })
}

/// The test control `POST /_app-block-builders/finish-packaging`: what the real service
/// does when someone finishes packaging in the builder's session. The RUNNING builder's
/// APPSTREAM2 app block becomes ACTIVE. `input` is `{"name": <builder>}`.
pub fn finish_packaging(
    _ctx: &RequestContext,
    state: &mut RegionState,
    input: &serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    let name = input["name"].as_str().unwrap_or_default();
    let builder = &state.app_block_builders.find(name)?.builder;
    if builder.state != AppBlockBuilderState::Running {
        return Err(not_permitted(format!(
            "App block builder {name} is {}; packaging is finished in a RUNNING builder.",
            builder.state.as_str()
        )));
    }
    let block_name = packaged_block(state, name)
        .map(|b| b.name.clone())
        .ok_or_else(|| not_permitted(format!("App block builder {name} has no app block.")))?;
    let block = state.app_blocks.find_mut(&block_name)?;
    block.state = Some(AppBlockState::Active);
    Ok(json!({"AppBlockArn": block.arn, "State": "ACTIVE"}))
}

/// The app block a builder packages: the one associated with it, if it still exists.
pub fn packaged_block<'a>(
    state: &'a RegionState,
    builder: &str,
) -> Option<&'a crate::generated::types::AppBlock> {
    let arn = state.app_block_builder_blocks.rights_of(builder).next()?;
    state.app_blocks.values().find(|b| b.arn == arn)
}
