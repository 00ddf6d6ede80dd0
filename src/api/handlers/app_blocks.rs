//! CreateAppBlock, DescribeAppBlocks, DeleteAppBlock: the packaged applications Elastic
//! fleets stream.

use crate::api::handlers::s3_locations::require_key;
use crate::error::ApiError;
use crate::generated::types::{
    AppBlock, AppBlockState, CreateAppBlockRequest, CreateAppBlockResult, DeleteAppBlockRequest,
    DeleteAppBlockResult, DescribeAppBlocksRequest, DescribeAppBlocksResult, PackagingType,
};
use crate::model::arn::resource_arn;
use crate::request::context::RequestContext;
use crate::request::pagination::page_size;
use crate::state::RegionState;

/// DescribeAppBlocks pages this many when MaxResults is not given (AWS documents none).
const DEFAULT_PAGE_SIZE: usize = 25;

// CreateAppBlock lists no InvalidParameterCombinationException, so breaking the rules
// its documentation gives in prose is a ValidationException.

pub fn create_app_block(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateAppBlockRequest,
) -> Result<CreateAppBlockResult, ApiError> {
    let packaging = req.packaging_type.unwrap_or(PackagingType::Custom);
    match packaging {
        PackagingType::Custom => {
            let setup = req.setup_script_details.as_ref().ok_or_else(|| {
                ApiError::validation(
                    "SetupScriptDetails must be given for the CUSTOM PackagingType.",
                )
            })?;
            require_key(
                &setup.script_s3_location,
                "SetupScriptDetails.ScriptS3Location",
            )?;
            require_key(&req.source_s3_location, "SourceS3Location")?;
            if req.post_setup_script_details.is_some() {
                return Err(ApiError::validation(
                    "PostSetupScriptDetails can only be given for the APPSTREAM2 PackagingType.",
                ));
            }
        }
        PackagingType::Appstream2 => {
            if req.setup_script_details.is_some() {
                return Err(ApiError::validation(
                    "SetupScriptDetails can only be given for the CUSTOM PackagingType.",
                ));
            }
            if let Some(post) = &req.post_setup_script_details {
                require_key(
                    &post.script_s3_location,
                    "PostSetupScriptDetails.ScriptS3Location",
                )?;
            }
        }
    }
    state.app_blocks.check_new(&req.name, None)?;
    // Custom blocks are always ACTIVE; an APPSTREAM2 block is INACTIVE until an app block
    // builder packages it, unless its source already is a package (an S3Key naming a VHD).
    let ready = packaging == PackagingType::Custom || req.source_s3_location.s3_key.is_some();
    let arn = resource_arn(ctx.tenant, "app-block", &req.name);
    let block = AppBlock {
        name: req.name.clone(),
        arn: arn.clone(),
        description: req.description,
        display_name: req.display_name,
        source_s3_location: Some(req.source_s3_location),
        setup_script_details: req.setup_script_details,
        created_time: Some(ctx.now),
        post_setup_script_details: req.post_setup_script_details,
        packaging_type: Some(packaging),
        state: Some(if ready {
            AppBlockState::Active
        } else {
            AppBlockState::Inactive
        }),
        app_block_errors: None,
    };
    state.app_blocks.insert(req.name, block.clone());
    if let Some(tags) = req.tags {
        state.tags.merge(&arn, tags);
    }
    Ok(CreateAppBlockResult {
        app_block: Some(block),
    })
}

pub fn describe_app_blocks(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeAppBlocksRequest,
) -> Result<DescribeAppBlocksResult, ApiError> {
    let (blocks, next_token) = state.app_blocks.describe_arns(
        ctx,
        req.arns.as_deref(),
        req.next_token.as_deref(),
        page_size(req.max_results, DEFAULT_PAGE_SIZE),
        AppBlock::clone,
    )?;
    Ok(DescribeAppBlocksResult {
        app_blocks: Some(blocks),
        next_token,
    })
}

/// An app block that an application uses cannot go.
pub fn delete_app_block(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteAppBlockRequest,
) -> Result<DeleteAppBlockResult, ApiError> {
    let arn = state.app_blocks.find(&req.name)?.arn.clone();
    let user = state
        .applications
        .values()
        .find(|app| app.app_block_arn.as_deref() == Some(arn.as_str()));
    if let Some(app) = user {
        return Err(ApiError::in_use(format!(
            "App block {} is used by application {}.",
            req.name,
            app.name.as_deref().unwrap_or_default()
        )));
    }
    if let Some(builder) = state.app_block_builder_blocks.lefts_of(&arn).next() {
        return Err(ApiError::in_use(format!(
            "App block {} is associated with app block builder {builder}.",
            req.name
        )));
    }
    state.app_blocks.remove(&req.name, &mut state.tags);
    Ok(DeleteAppBlockResult {})
}
