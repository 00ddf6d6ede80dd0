//! The Terraform AWS provider's calls, in its order, for its directory config,
//! entitlement, application-entitlement association and usage report subscription
//! (stacks, fleets, image builders and users are in `flows`): apply (create, then read),
//! a change (update, then read), destroy (delete, then the read that must see it gone).
//! Over both wire protocols.

use serde_json::{json, Value};

use crate::common::{start, TestServer, Wire, WIRES};

/// What the provider's finders take for "gone": ResourceNotFoundException, or an empty
/// list.
async fn gone(s: &TestServer, wire: Wire, operation: &str, body: Value, list: &str) -> bool {
    let reply = s.call(wire, operation, body).await;
    match reply.status {
        200 => reply.body[list].as_array().is_none_or(Vec::is_empty),
        _ => reply.code() == "ResourceNotFoundException",
    }
}

#[tokio::test]
async fn aws_appstream_directory_config() {
    for wire in WIRES {
        let s = start().await;
        let config = json!({
            "DirectoryName": "corp.example.com",
            "OrganizationalUnitDistinguishedNames": ["OU=AppStream,DC=corp,DC=example,DC=com"],
            "ServiceAccountCredentials": {"AccountName": "CORP\\svc", "AccountPassword": "s3cret!"},
            "CertificateBasedAuthProperties": {"Status": "DISABLED"}
        });
        s.ok(wire, "CreateDirectoryConfig", config).await;
        let read = json!({"DirectoryNames": ["corp.example.com"]});
        let found = s.ok(wire, "DescribeDirectoryConfigs", read.clone()).await;
        let found = &found["DirectoryConfigs"][0];
        // `service_account_credentials` is required in the schema: AccountName comes back.
        assert_eq!(
            found["ServiceAccountCredentials"]["AccountName"],
            "CORP\\svc"
        );
        assert!(found["ServiceAccountCredentials"]
            .get("AccountPassword")
            .is_none());
        s.ok(
            wire,
            "UpdateDirectoryConfig",
            json!({"DirectoryName": "corp.example.com",
                "OrganizationalUnitDistinguishedNames": ["OU=Streaming,DC=corp,DC=example,DC=com"]}),
        )
        .await;
        let found = s.ok(wire, "DescribeDirectoryConfigs", read.clone()).await;
        assert_eq!(
            found["DirectoryConfigs"][0]["OrganizationalUnitDistinguishedNames"],
            json!(["OU=Streaming,DC=corp,DC=example,DC=com"])
        );
        // The sweeper lists everything unfiltered.
        let all = s.ok(wire, "DescribeDirectoryConfigs", json!({})).await;
        assert_eq!(all["DirectoryConfigs"].as_array().unwrap().len(), 1);
        let delete = json!({"DirectoryName": "corp.example.com"});
        s.ok(wire, "DeleteDirectoryConfig", delete.clone()).await;
        assert!(
            gone(
                &s,
                wire,
                "DescribeDirectoryConfigs",
                read,
                "DirectoryConfigs"
            )
            .await
        );
        s.fails(
            wire,
            "DeleteDirectoryConfig",
            delete,
            404,
            "ResourceNotFoundException",
        )
        .await;
    }
}

#[tokio::test]
async fn aws_appstream_entitlement_and_application_entitlement_association() {
    for wire in WIRES {
        let s = start().await;
        let entitlement = json!({"Name": "designers", "StackName": "portal",
            "AppVisibility": "ASSOCIATED", "Attributes": [{"Name": "domain", "Value": "corp"}]});
        // Created before its stack exists: ResourceNotFoundException, which the provider
        // retries until the stack is there.
        s.fails(
            wire,
            "CreateEntitlement",
            entitlement.clone(),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(wire, "CreateStack", json!({"Name": "portal"})).await;
        s.ok(wire, "CreateEntitlement", entitlement).await;
        let read = json!({"StackName": "portal", "Name": "designers"});
        let found = s.ok(wire, "DescribeEntitlements", read.clone()).await;
        assert_eq!(found["Entitlements"][0]["AppVisibility"], "ASSOCIATED");
        s.ok(
            wire,
            "UpdateEntitlement",
            json!({"Name": "designers", "StackName": "portal", "Description": "Design team"}),
        )
        .await;
        let found = s.ok(wire, "DescribeEntitlements", read.clone()).await;
        assert_eq!(found["Entitlements"][0]["Description"], "Design team");

        // The association, read back from ListEntitledApplications (its ID is
        // stack/entitlement/app), then removed.
        let association = json!({"StackName": "portal", "EntitlementName": "designers",
            "ApplicationIdentifier": "paint"});
        s.ok(
            wire,
            "AssociateApplicationToEntitlement",
            association.clone(),
        )
        .await;
        let listed = s
            .ok(
                wire,
                "ListEntitledApplications",
                json!({"StackName": "portal", "EntitlementName": "designers"}),
            )
            .await;
        assert_eq!(
            listed["EntitledApplications"],
            json!([{"ApplicationIdentifier": "paint"}])
        );
        s.ok(
            wire,
            "DisassociateApplicationFromEntitlement",
            association.clone(),
        )
        .await;
        let listed = s
            .ok(
                wire,
                "ListEntitledApplications",
                json!({"StackName": "portal", "EntitlementName": "designers"}),
            )
            .await;
        assert_eq!(listed["EntitledApplications"], json!([]));

        // Destroy: delete, then wait until the read finds nothing; a second destroy's
        // not-found is ignored.
        let delete = json!({"StackName": "portal", "Name": "designers"});
        s.ok(wire, "DeleteEntitlement", delete.clone()).await;
        assert!(gone(&s, wire, "DescribeEntitlements", read, "Entitlements").await);
        let again = s.call(wire, "DeleteEntitlement", delete).await;
        assert_eq!(again.status, 400, "{again:?}");
        assert_eq!(again.code(), "EntitlementNotFoundException");
        s.ok(wire, "DeleteStack", json!({"Name": "portal"})).await;
    }
}

#[tokio::test]
async fn aws_appstream_usage_report_subscription() {
    for wire in WIRES {
        let s = start().await;
        let created = s.ok(wire, "CreateUsageReportSubscription", json!({})).await;
        let bucket = created["S3BucketName"].as_str().unwrap().to_string();
        assert_eq!(created["Schedule"], "DAILY");
        let read = s
            .ok(wire, "DescribeUsageReportSubscriptions", json!({}))
            .await;
        let subscriptions = read["UsageReportSubscriptions"].as_array().unwrap();
        assert_eq!(subscriptions.len(), 1, "a single subscription per account");
        assert_eq!(subscriptions[0]["S3BucketName"], bucket.as_str());
        s.ok(wire, "DeleteUsageReportSubscription", json!({})).await;
        assert!(
            gone(
                &s,
                wire,
                "DescribeUsageReportSubscriptions",
                json!({}),
                "UsageReportSubscriptions"
            )
            .await
        );
        s.fails(
            wire,
            "DeleteUsageReportSubscription",
            json!({}),
            404,
            "ResourceNotFoundException",
        )
        .await;
    }
}
