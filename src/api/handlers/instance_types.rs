//! Which instance types each operation accepts, and which images run on them. The lists
//! come from the model's prose, through `model/overlay.json`.

use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::overlay::INSTANCE_FAMILY_PREFIXES;
use crate::generated::types::Image;

pub use crate::generated::overlay::{
    APP_BLOCK_BUILDER_INSTANCE_TYPES, ELASTIC_FLEET_INSTANCE_TYPES, FLEET_INSTANCE_TYPES,
    IMAGE_BUILDER_INSTANCE_TYPES,
};

/// The family an instance type belongs to, e.g. `GRAPHICS_G4` for `stream.graphics.g4dn.xlarge`.
pub fn family(instance_type: &str) -> Option<&'static str> {
    INSTANCE_FAMILY_PREFIXES
        .iter()
        .find(|(prefix, _)| instance_type.starts_with(prefix))
        .map(|&(_, family)| family)
}

/// The instance type must be one the operation's documentation lists; `what` names the
/// resource, e.g. "Elastic fleets".
pub fn check_listed(allowed: &[&str], instance_type: &str, what: &str) -> Result<(), ApiError> {
    if allowed.contains(&instance_type) {
        return Ok(());
    }
    Err(ApiError::invalid_combination(format!(
        "The instance type {instance_type} is not supported for {what}."
    )))
}

/// An image runs only on the instance families it lists; an image without the list
/// (a private image from an older state directory) is not checked.
pub fn check_compatible(image: &Image, instance_type: &str) -> Result<(), ApiError> {
    let Some(families) = &image.supported_instance_families else {
        return Ok(());
    };
    let family = family(instance_type).unwrap_or("unknown");
    if families.iter().any(|f| f == family) {
        return Ok(());
    }
    Err(ApiError::modeled(
        ModeledError::IncompatibleImageException,
        format!(
            "The image {} supports the instance families {}, not {family} ({instance_type}).",
            image.name,
            families.join(", ")
        ),
    ))
}
