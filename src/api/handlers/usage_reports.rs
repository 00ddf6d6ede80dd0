//! CreateUsageReportSubscription, DescribeUsageReportSubscriptions,
//! DeleteUsageReportSubscription: at most one subscription per account and Region.

use crate::error::ApiError;
use crate::generated::types::{
    CreateUsageReportSubscriptionRequest, CreateUsageReportSubscriptionResult,
    DeleteUsageReportSubscriptionRequest, DeleteUsageReportSubscriptionResult,
    DescribeUsageReportSubscriptionsRequest, DescribeUsageReportSubscriptionsResult,
    UsageReportSchedule, UsageReportSubscription,
};
use crate::request::context::RequestContext;
use crate::request::pagination::{page, page_size};
use crate::state::RegionState;

/// DescribeUsageReportSubscriptions pages this many when MaxResults is not given.
const DEFAULT_PAGE_SIZE: usize = 25;

/// Subscribing again keeps the subscription there is: the model lists no error for it.
pub fn create_usage_report_subscription(
    ctx: &RequestContext,
    state: &mut RegionState,
    _req: CreateUsageReportSubscriptionRequest,
) -> Result<CreateUsageReportSubscriptionResult, ApiError> {
    let subscription = state.usage_report_subscription.get_or_insert_with(|| {
        // AWS's documented bucket form: appstream-logs-<region>-<account>-<random>.
        let bucket = format!(
            "appstream-logs-{}-{}-{}",
            ctx.tenant.region,
            ctx.tenant.account,
            ctx.random_suffix(10)
        );
        UsageReportSubscription {
            s3_bucket_name: Some(bucket),
            schedule: Some(UsageReportSchedule::Daily),
            last_generated_report_date: None,
            subscription_errors: None,
        }
    });
    Ok(CreateUsageReportSubscriptionResult {
        s3_bucket_name: subscription.s3_bucket_name.clone(),
        schedule: subscription.schedule,
    })
}

pub fn describe_usage_report_subscriptions(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeUsageReportSubscriptionsRequest,
) -> Result<DescribeUsageReportSubscriptionsResult, ApiError> {
    let size = page_size(req.max_results, DEFAULT_PAGE_SIZE);
    let subscription = state.usage_report_subscription.as_ref();
    let (subscriptions, next_token) = page(ctx, req.next_token.as_deref(), size, |after| {
        // The one subscription, keyed by its bucket.
        subscription
            .map(|s| (s.s3_bucket_name.clone().unwrap_or_default(), s.clone()))
            .filter(move |(key, _)| after.as_ref().is_none_or(|a| key > a))
            .into_iter()
    })?;
    Ok(DescribeUsageReportSubscriptionsResult {
        usage_report_subscriptions: Some(subscriptions),
        next_token,
    })
}

pub fn delete_usage_report_subscription(
    _ctx: &RequestContext,
    state: &mut RegionState,
    _req: DeleteUsageReportSubscriptionRequest,
) -> Result<DeleteUsageReportSubscriptionResult, ApiError> {
    state.usage_report_subscription.take().ok_or_else(|| {
        ApiError::not_found("There is no usage report subscription in this Region.")
    })?;
    Ok(DeleteUsageReportSubscriptionResult {})
}
