//! The model's rules: the shape table, validation, what is sensitive, and ARNs.

pub mod arn;
pub mod public_images;
pub mod redact;
pub mod schema;
pub mod validation;
