//! Images made in an image builder. The real service makes them inside the builder's
//! streaming session (its Image Assistant); here the test control
//! `POST /_image-builders/create-image` does it: the builder snapshots, then stops, and
//! the image is PENDING, then AVAILABLE, with the builder's installed license-included
//! applications.

use serde_json::{json, Value};

use crate::api::handlers::images::{lookup_by_arn, lookup_by_name};
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::shapes;
use crate::generated::types::{
    Image, ImageBuilderState, ImageState, ImageType, SoftwareDeploymentStatus, VisibilityType,
};
use crate::model::arn::resource_arn;
use crate::model::validation::validate_value;
use crate::request::context::RequestContext;
use crate::state::lifecycle::{start_transition, ImageRecord, Transition};
use crate::state::RegionState;

pub fn create_image(
    ctx: &RequestContext,
    state: &mut RegionState,
    input: &Value,
) -> Result<Value, ApiError> {
    let builder_name = input["name"].as_str().unwrap_or_default();
    let image_name = input["image_name"].as_str().unwrap_or_default();
    // The model's image Name shape, as CreateUpdatedImage's newImageName has it.
    validate_value(shapes::NAME, &input["image_name"], "image_name")?;
    let record = state.image_builders.find(builder_name)?;
    let builder = &record.builder;
    if builder.state != Some(ImageBuilderState::Running) {
        return Err(ApiError::modeled(
            ModeledError::OperationNotPermittedException,
            format!(
                "Image builder {builder_name} is {}; images are made in a RUNNING builder.",
                builder.state.map_or("UNKNOWN", |s| s.as_str())
            ),
        ));
    }
    if lookup_by_name(ctx.added_public_images(), ctx.tenant, state, image_name).is_some() {
        return Err(ApiError::already_exists(format!(
            "The image {image_name} already exists."
        )));
    }
    let base = builder
        .image_arn
        .as_deref()
        .and_then(|arn| lookup_by_arn(ctx.added_public_images(), ctx.tenant, state, arn));
    let software: std::collections::BTreeSet<String> = record
        .software
        .iter()
        .filter(|(_, s)| s.status == SoftwareDeploymentStatus::Installed)
        .map(|(name, _)| name.clone())
        .collect();
    let arn = resource_arn(ctx.tenant, "image", image_name);
    let image = Image {
        name: image_name.to_string(),
        arn: Some(arn.clone()),
        base_image_arn: builder.image_arn.clone(),
        display_name: Some(image_name.to_string()),
        state: Some(ImageState::Pending),
        visibility: Some(VisibilityType::Private),
        image_builder_supported: Some(true),
        image_builder_name: Some(builder_name.to_string()),
        platform: builder.platform,
        created_time: Some(ctx.now),
        public_base_image_released_date: base
            .as_ref()
            .and_then(|b| b.public_base_image_released_date),
        appstream_agent_version: builder.appstream_agent_version.clone(),
        image_type: Some(ImageType::Native),
        supported_instance_families: base.and_then(|b| b.supported_instance_families),
        managed_software_included: Some(!software.is_empty()),
        ..Default::default()
    };
    let builder = state.image_builders.find_mut(builder_name)?;
    builder.builder.state = Some(ImageBuilderState::Snapshotting);
    start_transition(builder, Some(ImageBuilderState::Stopped), ctx);
    state.images.insert(
        image_name.to_string(),
        ImageRecord {
            image,
            transition: Some(Transition::after_delay(Some(ImageState::Available), ctx)),
            failing: None,
            software,
        },
    );
    Ok(json!({"ImageArn": arn, "State": "PENDING", "ImageBuilderState": "SNAPSHOTTING"}))
}
