//! The public images as DescribeImages shows them: AWS's catalogue
//! (`model::public_images`) and the server's additions (`--public-images`).

use crate::generated::types::{Image, ImageState, ImageType, VisibilityType};
use crate::identity::tenant::Tenant;
pub use crate::model::public_images::{PublicImage, CATALOGUE};

/// Public images have no account in their ARN.
pub fn public_image_arn(region: &str, name: &str) -> String {
    format!("arn:aws:appstream:{region}::image/{name}")
}

pub fn public_image(tenant: &Tenant, entry: &PublicImage) -> Image {
    Image {
        name: entry.name.to_string(),
        arn: Some(public_image_arn(&tenant.region, &entry.name)),
        display_name: Some(entry.name.to_string()),
        state: Some(ImageState::Available),
        visibility: Some(VisibilityType::Public),
        image_builder_supported: Some(true),
        platform: Some(entry.platform),
        description: Some(entry.description.to_string()),
        created_time: Some(entry.released),
        public_base_image_released_date: Some(entry.released),
        image_type: Some(ImageType::Native),
        // A base image carries the agent released with it, named by that date as AWS
        // names agent versions, and no applications of its own.
        appstream_agent_version: Some(agent_version(entry.released)),
        applications: Some(Vec::new()),
        supported_instance_families: Some(entry.families.iter().map(|f| f.to_string()).collect()),
        ..Default::default()
    }
}

/// An agent version as AWS writes one: its release date, `MM-DD-YYYY`.
fn agent_version(released: f64) -> String {
    chrono::DateTime::from_timestamp(released as i64, 0)
        .map(|date| date.format("%m-%d-%Y").to_string())
        .unwrap_or_default()
}

/// AWS's catalogue and the server's additions, in name order.
pub fn all_public(added: &[PublicImage]) -> impl Iterator<Item = &PublicImage> {
    itertools::Itertools::merge_by(CATALOGUE.iter(), added.iter(), |a, b| a.name < b.name)
}

pub fn find_public(added: &[PublicImage], tenant: &Tenant, name: &str) -> Option<Image> {
    all_public(added)
        .find(|e| e.name == name)
        .map(|e| public_image(tenant, e))
}
