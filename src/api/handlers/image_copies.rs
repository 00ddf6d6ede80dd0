//! CopyImage: a private image copied to a Region of the same account (the same one
//! included), where it is COPYING, then AVAILABLE. Tags are not copied.

use crate::api::handlers::images::lookup_by_name;
use crate::config::quotas;
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::operations::op;
use crate::generated::types::{CopyImageRequest, CopyImageResponse, Image, ImageState};
use crate::identity::auth::is_region;
use crate::identity::tenant::Tenant;
use crate::model::arn::resource_arn;
use crate::request::context::{RequestContext, SpansRegions};
use crate::state::collection::Collection;
use crate::state::lifecycle::{ImageRecord, Transition};
use crate::state::RegionState;

/// The copy is written in the destination Region of the caller's account.
impl SpansRegions for op::CopyImage {
    fn second_tenant(input: &CopyImageRequest, caller: &Tenant) -> Result<Tenant, ApiError> {
        if !is_region(&input.destination_region) {
            return Err(ApiError::validation(format!(
                "DestinationRegion '{}' is not a Region.",
                crate::error::shorten(&input.destination_region)
            )));
        }
        Ok(Tenant {
            account: caller.account.clone(),
            region: input.destination_region.clone(),
        })
    }
}

pub fn copy_image(
    ctx: &RequestContext,
    state: &mut RegionState,
    destination: Option<&mut RegionState>,
    req: CopyImageRequest,
) -> Result<CopyImageResponse, ApiError> {
    // AWS's own images are not this account's to copy: for it, they do not exist.
    let (source, source_software) = state
        .images
        .get(&req.source_image_name)
        .map(|record| (record.image.clone(), record.software.clone()))
        .ok_or_else(|| Collection::<ImageRecord>::not_found(&req.source_image_name))?;
    if source.state != Some(ImageState::Available) {
        return Err(ApiError::modeled(
            ModeledError::ResourceNotAvailableException,
            format!("Image {} is not AVAILABLE.", source.name),
        ));
    }
    let target_tenant = Tenant {
        account: ctx.tenant.account.clone(),
        region: req.destination_region.clone(),
    };
    let target = match destination {
        Some(other) => other,
        None => state,
    };
    if lookup_by_name(
        ctx.added_public_images(),
        &target_tenant,
        target,
        &req.destination_image_name,
    )
    .is_some()
    {
        return Err(ApiError::already_exists(format!(
            "Image {} already exists in {}.",
            req.destination_image_name, req.destination_region
        )));
    }
    let copying = target
        .images
        .values()
        .filter(|r| r.image.state == Some(ImageState::Copying))
        .count();
    if let Some(limit) = ctx.rules.quota(quotas::CONCURRENT_IMAGE_COPIES_PER_REGION) {
        if copying >= limit {
            return Err(ApiError::limit_exceeded(format!(
                "{limit} image copies are already under way into {}.",
                req.destination_region
            )));
        }
    }
    let image = Image {
        name: req.destination_image_name.clone(),
        arn: Some(resource_arn(
            &target_tenant,
            "image",
            &req.destination_image_name,
        )),
        base_image_arn: source.base_image_arn.clone(),
        display_name: source.display_name.clone(),
        description: req.destination_image_description.or(source.description),
        state: Some(ImageState::Copying),
        visibility: source.visibility,
        image_builder_supported: source.image_builder_supported,
        platform: source.platform,
        created_time: Some(ctx.now),
        public_base_image_released_date: source.public_base_image_released_date,
        image_type: source.image_type,
        managed_software_included: source.managed_software_included,
        supported_instance_families: source.supported_instance_families,
        ..Default::default()
    };
    target.images.insert(
        req.destination_image_name.clone(),
        ImageRecord {
            image,
            transition: Some(Transition::after_delay(Some(ImageState::Available), ctx)),
            failing: ctx.transition_failure.cloned(),
            software: source_software,
        },
    );
    Ok(CopyImageResponse {
        destination_image_name: Some(req.destination_image_name),
    })
}
