//! CreateImageBuilder, DescribeImageBuilders, StartImageBuilder, StopImageBuilder,
//! DeleteImageBuilder, CreateImageBuilderStreamingURL.

use crate::api::handlers::directory_configs::check_domain_join;
use crate::api::handlers::images::{resolve_image, ImageUse};
use crate::api::handlers::instance_types::{self, IMAGE_BUILDER_INSTANCE_TYPES};
use crate::api::handlers::sessions::{entry_grant, validity};
use crate::api::handlers::stack_rules::{check_agent_access, merge_agent_access};
use crate::config::quotas;
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    AgentAccessConfig, AgentAccessConfigForUpdate, CreateImageBuilderRequest,
    CreateImageBuilderResult, CreateImageBuilderStreamingURLRequest,
    CreateImageBuilderStreamingURLResult, DeleteImageBuilderRequest, DeleteImageBuilderResult,
    DescribeImageBuildersRequest, DescribeImageBuildersResult, ImageBuilder,
    ImageBuilderAgentAccessConfig, ImageBuilderAgentAccessConfigForUpdate, ImageBuilderAttribute,
    ImageBuilderState, StartImageBuilderRequest, StartImageBuilderResult, StopImageBuilderRequest,
    StopImageBuilderResult, UpdateImageBuilderRequest, UpdateImageBuilderResult,
};
use crate::identity::streaming::{Grant, Target};
use crate::identity::tenant::Tenant;
use crate::model::arn::resource_arn;
use crate::request::context::RequestContext;
use crate::request::pagination::page_size;
use crate::state::lifecycle::{
    begin, ImageBuilderRecord, Outcome, Transition, DELETE_IMAGE_BUILDER, START_IMAGE_BUILDER,
    STOP_IMAGE_BUILDER,
};
use crate::state::RegionState;

const DEFAULT_PAGE_SIZE: usize = 25;
/// Image builder streaming URLs default to an hour (the model's documentation).
const DEFAULT_VALIDITY: i64 = 3_600;

fn not_permitted(message: String) -> ApiError {
    ApiError::modeled(ModeledError::OperationNotPermittedException, message)
}

fn state_name(builder: &ImageBuilder) -> &'static str {
    builder.state.map_or("UNKNOWN", ImageBuilderState::as_str)
}

pub fn create_image_builder(
    ctx: &RequestContext,
    state: &mut RegionState,
    others: &[(&Tenant, &RegionState)],
    req: CreateImageBuilderRequest,
) -> Result<CreateImageBuilderResult, ApiError> {
    state.image_builders.check_new(
        &req.name,
        ctx.rules.quota(quotas::IMAGE_BUILDERS_PER_REGION),
    )?;
    check_domain_join(state, req.domain_join_info.as_ref())?;
    instance_types::check_listed(
        IMAGE_BUILDER_INSTANCE_TYPES,
        &req.instance_type,
        "image builders",
    )?;
    let image = resolve_image(
        ctx,
        state,
        others,
        req.image_name.as_deref(),
        req.image_arn.as_deref(),
        ImageUse::ImageBuilder,
    )?;
    instance_types::check_compatible(&image, &req.instance_type)?;
    if image.image_builder_supported == Some(false) {
        return Err(ApiError::modeled(
            ModeledError::IncompatibleImageException,
            format!("The image {} does not support image builders.", image.name),
        ));
    }
    let arn = resource_arn(ctx.tenant, "image-builder", &req.name);
    let builder = ImageBuilder {
        name: req.name.clone(),
        arn: Some(arn.clone()),
        image_arn: image.arn,
        description: req.description,
        display_name: req.display_name,
        vpc_config: req.vpc_config,
        instance_type: Some(req.instance_type),
        platform: image.platform,
        iam_role_arn: req.iam_role_arn,
        state: Some(ImageBuilderState::Pending),
        created_time: Some(ctx.now),
        enable_default_internet_access: Some(req.enable_default_internet_access.unwrap_or(false)),
        domain_join_info: req.domain_join_info,
        appstream_agent_version: Some(
            req.appstream_agent_version
                .unwrap_or_else(|| "LATEST".into()),
        ),
        access_endpoints: req.access_endpoints,
        root_volume_config: req.root_volume_config,
        disable_imdsv1: req.disable_imdsv1,
        agent_access_config: req.agent_access_config,
        ..Default::default()
    };
    state.image_builders.insert(
        req.name,
        ImageBuilderRecord {
            builder: builder.clone(),
            transition: Some(Transition::after_delay(
                Some(ImageBuilderState::Running),
                ctx,
            )),
            failing: ctx.transition_failure.cloned(),
            software: Default::default(),
        },
    );
    if let Some(tags) = req.tags {
        state.tags.merge(&arn, tags);
    }
    Ok(CreateImageBuilderResult {
        image_builder: Some(builder),
    })
}

pub fn describe_image_builders(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeImageBuildersRequest,
) -> Result<DescribeImageBuildersResult, ApiError> {
    let (builders, next_token) = state.image_builders.describe(
        ctx,
        req.names.as_deref(),
        req.next_token.as_deref(),
        page_size(req.max_results, DEFAULT_PAGE_SIZE),
        |record| record.builder.clone(),
    )?;
    Ok(DescribeImageBuildersResult {
        image_builders: Some(builders),
        next_token,
    })
}

pub fn start_image_builder(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: StartImageBuilderRequest,
) -> Result<StartImageBuilderResult, ApiError> {
    let record = state.image_builders.find_mut(&req.name)?;
    if begin(record, &req.name, &START_IMAGE_BUILDER, ctx)? == Outcome::Began {
        if let Some(version) = req.appstream_agent_version {
            record.builder.appstream_agent_version = Some(version);
        }
    }
    Ok(StartImageBuilderResult {
        image_builder: Some(record.builder.clone()),
    })
}

pub fn stop_image_builder(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: StopImageBuilderRequest,
) -> Result<StopImageBuilderResult, ApiError> {
    let record = state.image_builders.find_mut(&req.name)?;
    begin(record, &req.name, &STOP_IMAGE_BUILDER, ctx)?;
    Ok(StopImageBuilderResult {
        image_builder: Some(record.builder.clone()),
    })
}

pub fn delete_image_builder(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteImageBuilderRequest,
) -> Result<DeleteImageBuilderResult, ApiError> {
    let record = state.image_builders.find_mut(&req.name)?;
    begin(record, &req.name, &DELETE_IMAGE_BUILDER, ctx)?;
    Ok(DeleteImageBuilderResult {
        image_builder: Some(record.builder.clone()),
    })
}

pub fn create_image_builder_streaming_url(
    ctx: &RequestContext,
    state: &RegionState,
    req: CreateImageBuilderStreamingURLRequest,
) -> Result<CreateImageBuilderStreamingURLResult, ApiError> {
    let validity = validity(req.validity, DEFAULT_VALIDITY)?;
    let record = state.image_builders.find(&req.name)?;
    if record.builder.state != Some(ImageBuilderState::Running) {
        return Err(not_permitted(format!(
            "Image builder {} is {}; streaming URLs need a RUNNING image builder.",
            req.name,
            state_name(&record.builder)
        )));
    }
    let expires = ctx.now + validity as f64;
    let url = ctx.streaming_url(&Grant {
        instance: record.builder.created_time,
        ..entry_grant(ctx, Target::ImageBuilder(req.name.clone()), expires)
    });
    Ok(CreateImageBuilderStreamingURLResult {
        streaming_url: Some(url),
        expires: Some(expires),
    })
}

/// Only a STOPPED builder can be updated (the model's documentation). Its agent access
/// configuration merges like a stack's: settings by agent action, the rest by member.
pub fn update_image_builder(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: UpdateImageBuilderRequest,
) -> Result<UpdateImageBuilderResult, ApiError> {
    let record = state.image_builders.find_mut(&req.name)?;
    if record.builder.state != Some(ImageBuilderState::Stopped) {
        return Err(not_permitted(format!(
            "Image builder {} is {}; it can be updated when STOPPED.",
            req.name,
            state_name(&record.builder)
        )));
    }
    let delete_agent = req
        .attributes_to_delete
        .iter()
        .flatten()
        .any(|a| *a == ImageBuilderAttribute::AgentAccessConfig);
    if delete_agent && req.agent_access_config.is_some() {
        return Err(ApiError::invalid_combination(
            "Do not give AgentAccessConfig while deleting AGENT_ACCESS_CONFIG.",
        ));
    }
    let agent = match req.agent_access_config {
        Some(update) => {
            let current = record
                .builder
                .agent_access_config
                .as_ref()
                .map(as_stack_config);
            let merged = merge_agent_access(current, as_stack_update(update), "image builder")?;
            check_agent_access(&merged, &ctx.tenant.region)?;
            Some(ImageBuilderAgentAccessConfig {
                settings: merged.settings,
                s3_bucket_arn: merged.s3_bucket_arn,
                screenshots_upload_enabled: merged.screenshots_upload_enabled,
                screen_resolution: merged.screen_resolution,
                screen_image_format: merged.screen_image_format,
                user_control_mode: merged.user_control_mode,
            })
        }
        None if delete_agent => None,
        None => record.builder.agent_access_config.clone(),
    };
    let builder = &mut record.builder;
    builder.agent_access_config = agent;
    if let Some(v) = req.description {
        builder.description = Some(v);
    }
    if let Some(v) = req.display_name {
        builder.display_name = Some(v);
    }
    Ok(UpdateImageBuilderResult {
        image_builder: Some(builder.clone()),
    })
}

/// A builder's agent access update, in the stack's terms (it has no Replay Session).
fn as_stack_update(update: ImageBuilderAgentAccessConfigForUpdate) -> AgentAccessConfigForUpdate {
    AgentAccessConfigForUpdate {
        settings: update.settings,
        s3_bucket_arn: update.s3_bucket_arn,
        screenshots_upload_enabled: update.screenshots_upload_enabled,
        replay_session_enabled: None,
        kms_key_arn: None,
        screen_resolution: update.screen_resolution,
        screen_image_format: update.screen_image_format,
        user_control_mode: update.user_control_mode,
    }
}

/// A builder's agent access, in the stack's terms, for the shared rules.
fn as_stack_config(config: &ImageBuilderAgentAccessConfig) -> AgentAccessConfig {
    AgentAccessConfig {
        settings: config.settings.clone(),
        s3_bucket_arn: config.s3_bucket_arn.clone(),
        screenshots_upload_enabled: config.screenshots_upload_enabled,
        replay_session_enabled: None,
        kms_key_arn: None,
        screen_resolution: config.screen_resolution,
        screen_image_format: config.screen_image_format,
        user_control_mode: config.user_control_mode,
    }
}
