//! DescribeAppLicenseUsage: license-included applications' usage per billing period.
//! No session here runs a license-included application, so every period has none.

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::generated::types::{DescribeAppLicenseUsageRequest, DescribeAppLicenseUsageResult};
use crate::state::RegionState;

/// The billing period is a month, `yyyy-mm` (the model's documentation).
fn is_billing_period(period: &str) -> bool {
    let bytes = period.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().chain(&bytes[5..]).all(u8::is_ascii_digit)
        && matches!(
            &period[5..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

pub fn describe_app_license_usage(
    _ctx: &RequestContext,
    _state: &RegionState,
    req: DescribeAppLicenseUsageRequest,
) -> Result<DescribeAppLicenseUsageResult, ApiError> {
    if !is_billing_period(&req.billing_period) {
        return Err(ApiError::invalid_combination(format!(
            "BillingPeriod must be a month as yyyy-mm, not '{}'.",
            crate::error::shorten(&req.billing_period)
        )));
    }
    Ok(DescribeAppLicenseUsageResult {
        app_license_usages: Some(Vec::new()),
        next_token: None,
    })
}
