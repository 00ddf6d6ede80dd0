//! TagResource, UntagResource, ListTagsForResource on any taggable resource's ARN.

use crate::error::ApiError;
use crate::generated::overlay::TAGGABLE_RESOURCE_TYPES;
use crate::generated::types::{
    ListTagsForResourceRequest, ListTagsForResourceResponse, TagResourceRequest,
    TagResourceResponse, UntagResourceRequest, UntagResourceResponse,
};
use crate::model::arn::{resource_arn, Arn};
use crate::request::context::RequestContext;
use crate::state::tags::MAX_TAGS_PER_RESOURCE;
use crate::state::RegionState;

/// The canonical ARN of an existing taggable resource in the caller's account and region.
fn existing_resource(
    ctx: &RequestContext,
    state: &RegionState,
    arn: &str,
) -> Result<String, ApiError> {
    Arn::parse(arn)
        .filter(|parsed| {
            parsed.account == ctx.tenant.account
                && parsed.region == ctx.tenant.region
                && TAGGABLE_RESOURCE_TYPES.contains(&parsed.resource_type.as_str())
                && state.resource_exists(&parsed.resource_type, &parsed.name)
        })
        .map(|parsed| resource_arn(ctx.tenant, &parsed.resource_type, &parsed.name))
        .ok_or_else(|| ApiError::not_found(format!("The resource {arn} does not exist.")))
}

pub fn list_tags_for_resource(
    ctx: &RequestContext,
    state: &RegionState,
    req: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResponse, ApiError> {
    let arn = existing_resource(ctx, state, &req.resource_arn)?;
    Ok(ListTagsForResourceResponse {
        tags: Some(state.tags.get(&arn)),
    })
}

pub fn tag_resource(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: TagResourceRequest,
) -> Result<TagResourceResponse, ApiError> {
    let arn = existing_resource(ctx, state, &req.resource_arn)?;
    let total = state.tags.count_after_merge(&arn, &req.tags);
    if total > MAX_TAGS_PER_RESOURCE {
        return Err(ApiError::limit_exceeded(format!(
            "The resource would have {total} tags; the limit is {MAX_TAGS_PER_RESOURCE}."
        )));
    }
    state.tags.merge(&arn, req.tags);
    Ok(TagResourceResponse {})
}

pub fn untag_resource(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: UntagResourceRequest,
) -> Result<UntagResourceResponse, ApiError> {
    let arn = existing_resource(ctx, state, &req.resource_arn)?;
    state.tags.remove_keys(&arn, &req.tag_keys);
    Ok(UntagResourceResponse {})
}
