//! CreateImportedImage: a private image made from an EC2 AMI or a WorkSpaces image.

use crate::api::handlers::images::lookup_by_name;
use crate::api::handlers::instance_types;
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    CreateImportedImageRequest, CreateImportedImageResult, Image, ImageState, ImageType,
    VisibilityType,
};
use crate::model::arn::resource_arn;
use crate::request::context::RequestContext;
use crate::state::lifecycle::{ImageRecord, Transition};
use crate::state::RegionState;

// A general image runs on these families; a runtime validation on another instance type
// makes the import that type's family.
use crate::model::public_images::GENERAL;

/// IMPORTING, then AVAILABLE after the transition delay. `DryRun` checks everything and
/// answers DryRunOperationException (HTTP 412) instead of importing.
pub fn create_imported_image(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateImportedImageRequest,
) -> Result<CreateImportedImageResult, ApiError> {
    let source = match (&req.source_ami_id, &req.workspace_image_id) {
        (Some(ami), None) => ami.clone(),
        (None, Some(workspace)) => workspace.clone(),
        _ => {
            return Err(ApiError::invalid_combination(
                "Give exactly one of SourceAmiId and WorkspaceImageId.",
            ))
        }
    };
    let intended = req
        .runtime_validation_config
        .as_ref()
        .and_then(|c| c.intended_instance_type.as_deref());
    let families: Vec<String> = match intended {
        Some(t) => {
            instance_types::check_listed(
                instance_types::IMAGE_BUILDER_INSTANCE_TYPES,
                t,
                "image imports",
            )?;
            match instance_types::family(t) {
                Some(f) if !GENERAL.contains(&f) => vec![f.to_string()],
                _ => GENERAL.iter().map(|f| f.to_string()).collect(),
            }
        }
        None => GENERAL.iter().map(|f| f.to_string()).collect(),
    };
    if lookup_by_name(ctx.added_public_images(), ctx.tenant, state, &req.name).is_some() {
        return Err(ApiError::already_exists(format!(
            "Image {} already exists.",
            req.name
        )));
    }
    if req.dry_run == Some(true) {
        return Err(ApiError::modeled(
            ModeledError::DryRunOperationException,
            format!(
                "The import of {source} as image {} would succeed.",
                req.name
            ),
        ));
    }
    let arn = resource_arn(ctx.tenant, "image", &req.name);
    let image = Image {
        name: req.name.clone(),
        arn: Some(arn.clone()),
        display_name: req.display_name,
        description: req.description,
        state: Some(ImageState::Importing),
        visibility: Some(VisibilityType::Private),
        image_builder_supported: Some(true),
        created_time: Some(ctx.now),
        image_type: Some(ImageType::Custom),
        supported_instance_families: Some(families),
        ..Default::default()
    };
    state.images.insert(
        req.name,
        ImageRecord {
            image: image.clone(),
            transition: Some(Transition::after_delay(Some(ImageState::Available), ctx)),
            failing: ctx.transition_failure.cloned(),
            software: Default::default(),
        },
    );
    if let Some(tags) = req.tags {
        state.tags.merge(&arn, tags);
    }
    Ok(CreateImportedImageResult { image: Some(image) })
}
