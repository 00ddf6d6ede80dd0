//! S3 locations as the model's prose treats them: where an S3Key is required, and the URL
//! the service answers for an object it was given.

use crate::error::ApiError;
use crate::generated::types::S3Location;
use crate::request::context::RequestContext;

/// "S3Key ... is required when used for" scripts, sources and icons (the model's prose).
/// The operations that take them list no InvalidParameterCombination, so a missing key is
/// a ValidationException.
pub fn require_key(location: &S3Location, member: &str) -> Result<(), ApiError> {
    if location.s3_key.is_none() {
        return Err(ApiError::validation(format!("{member} needs an S3Key.")));
    }
    Ok(())
}

/// The URL the service answers for an object it was given (a theme's logo, an
/// application's icon). AWS does not document its form; here it is the object's own S3
/// URL in the caller's Region.
pub fn object_url(ctx: &RequestContext, location: &S3Location) -> String {
    let key = location.s3_key.as_deref().unwrap_or_default();
    format!(
        "https://{}.s3.{}.amazonaws.com/{key}",
        location.s3_bucket, ctx.tenant.region
    )
}
