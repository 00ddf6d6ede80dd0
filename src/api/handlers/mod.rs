//! One module per resource family; handlers are plain functions of
//! (context, region state, typed input) -> typed output.

pub mod app_block_builders;
pub mod app_blocks;
pub mod application_fleets;
pub mod applications;
pub mod associations;
pub mod builder_images;
pub mod directory_configs;
pub mod entitlements;
pub mod export_tasks;
pub mod fleet_rules;
pub mod fleets;
pub mod image_builders;
pub mod image_catalogue;
pub mod image_copies;
pub mod image_imports;
pub mod images;
pub mod instance_types;
pub mod license_usage;
pub mod s3_locations;
pub mod session_connections;
pub mod sessions;
pub mod software;
pub mod stack_rules;
pub mod stacks;
pub mod tagging;
pub mod themes;
pub mod usage_reports;
pub mod users;
