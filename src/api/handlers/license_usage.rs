//! DescribeAppLicenseUsage: license-included applications' usage per billing period, as
//! the sessions this emulator has started record it. A session uses the licenses of the
//! applications installed in its fleet's image (only images made in an image builder
//! with license-included software have any).

use chrono::DateTime;

use crate::error::ApiError;
use crate::generated::types::{
    AdminAppLicenseUsageRecord, DescribeAppLicenseUsageRequest, DescribeAppLicenseUsageResult,
};
use crate::model::arn::resource_arn;
use crate::request::context::RequestContext;
use crate::request::pagination::{page, page_size};
use crate::state::RegionState;

/// DescribeAppLicenseUsage pages this many records when MaxResults is not given.
const DEFAULT_PAGE_SIZE: usize = 50;

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

/// The month of an epoch time, as a billing period.
fn billing_period(epoch_seconds: f64) -> String {
    DateTime::from_timestamp(epoch_seconds as i64, 0)
        .unwrap_or_default()
        .format("%Y-%m")
        .to_string()
}

/// The license an application needs: its product, e.g. "Microsoft Office" for
/// `Microsoft_Office_2021_LTSC_Professional_Plus_64Bit`.
fn license_type(software_name: &str) -> String {
    software_name
        .split('_')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Records that `user_id` used, at `ctx.now`, the licenses of the applications installed
/// in the image at `image_arn` when it is this account's (public images have none).
pub fn record_session(
    ctx: &RequestContext,
    state: &mut RegionState,
    image_arn: &str,
    user_id: &str,
) {
    let Ok((_, image)) = state.images.find_by_arn(ctx, image_arn) else {
        return;
    };
    let mut licenses: Vec<String> = image.software.iter().map(|s| license_type(s)).collect();
    licenses.dedup();
    if licenses.is_empty() {
        return;
    }
    let period = billing_period(ctx.now);
    let records = state.license_usage.entry(period.clone()).or_default();
    for license in licenses {
        let key = (user_id, license.as_str());
        match records.binary_search_by(|r| (r.user_id.as_str(), r.license_type.as_str()).cmp(&key))
        {
            Ok(found) => records[found].subscription_last_used_date = ctx.now,
            Err(at) => records.insert(
                at,
                AdminAppLicenseUsageRecord {
                    user_arn: resource_arn(ctx.tenant, "user/api", user_id),
                    billing_period: period.clone(),
                    owner_aws_account_id: ctx.tenant.account.clone(),
                    subscription_first_used_date: ctx.now,
                    subscription_last_used_date: ctx.now,
                    license_type: license.clone(),
                    user_id: user_id.to_string(),
                },
            ),
        }
    }
}

pub fn describe_app_license_usage(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeAppLicenseUsageRequest,
) -> Result<DescribeAppLicenseUsageResult, ApiError> {
    if !is_billing_period(&req.billing_period) {
        return Err(ApiError::invalid_combination(format!(
            "BillingPeriod must be a month as yyyy-mm, not '{}'.",
            crate::error::shorten(&req.billing_period)
        )));
    }
    let records = state
        .license_usage
        .get(&req.billing_period)
        .map_or(&[][..], Vec::as_slice);
    let size = page_size(req.max_results, DEFAULT_PAGE_SIZE);
    let (usages, next_token) = page(
        ctx,
        req.next_token.as_deref(),
        size,
        |after: Option<(String, String)>| {
            records
                .iter()
                .map(|r| ((r.user_id.clone(), r.license_type.clone()), r.clone()))
                .filter(move |(key, _)| after.as_ref().is_none_or(|a| key > a))
        },
    )?;
    Ok(DescribeAppLicenseUsageResult {
        app_license_usages: Some(usages),
        next_token,
    })
}
