//! Usage report subscriptions: one per account and Region, kept when asked for again.

use serde_json::json;

use crate::common::{start, WIRES};

#[tokio::test]
async fn one_usage_report_subscription_per_account_and_region() {
    for wire in WIRES {
        let s = start().await;
        let none = s
            .ok(wire, "DescribeUsageReportSubscriptions", json!({}))
            .await;
        assert_eq!(none["UsageReportSubscriptions"], json!([]));
        s.fails(
            wire,
            "DeleteUsageReportSubscription",
            json!({}),
            404,
            "ResourceNotFoundException",
        )
        .await;

        let created = s.ok(wire, "CreateUsageReportSubscription", json!({})).await;
        assert_eq!(created["Schedule"], "DAILY");
        let bucket = created["S3BucketName"].as_str().unwrap().to_string();
        assert!(
            bucket.starts_with("appstream-logs-us-east-1-000000000000-"),
            "{bucket}"
        );
        let again = s.ok(wire, "CreateUsageReportSubscription", json!({})).await;
        assert_eq!(again["S3BucketName"], bucket.as_str());
        let listed = s
            .ok(wire, "DescribeUsageReportSubscriptions", json!({}))
            .await;
        let subscriptions = listed["UsageReportSubscriptions"].as_array().unwrap();
        assert_eq!(subscriptions.len(), 1);
        assert_eq!(subscriptions[0]["S3BucketName"], bucket.as_str());

        s.ok(wire, "DeleteUsageReportSubscription", json!({})).await;
        let none = s
            .ok(wire, "DescribeUsageReportSubscriptions", json!({}))
            .await;
        assert_eq!(none["UsageReportSubscriptions"], json!([]));
    }
}
